"""Routing through RQ with a real worker process (`python -m workers.worker --burst`).

The app's queue is on TEST_REDIS_URL, so `create_ticket` enqueues a routing job
after its commit; a burst worker, started as a subprocess on the same database,
runs the jobs and exits when the queue is empty.
"""

from __future__ import annotations

import socket

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import func, select

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.extensions import db
from hotline.models import Status, Ticket, TicketEvent
from hotline.services.platform import queueing
from hotline.services.ticketing import recovery, tickets
from tests import factories
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def routed_events(ticket: Ticket) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "routed")
    )


def test_worker_routes_every_logged_ticket(city, queue: Queue) -> None:
    expected = {
        "potholes": (Status.DISPATCHED, city.roads),  # inherits its parent's department
        "infrastructure": (Status.DISPATCHED, city.roads),
        "water-supply": (Status.DISPATCHED, city.water),
        "other": (Status.PENDING_DISPATCH, None),  # no department anywhere: the dispatcher's desk
    }
    logged = []
    for category in expected:
        result = tickets.create_ticket(city.operator, factories.intake(category=category))
        assert result.routing_queued
        assert result.ticket.status == Status.NEW
        logged.append((category, result.ticket))
    # A consultation answered at intake is closed and never queued.
    answered = tickets.create_ticket(
        city.operator, factories.intake(type="consultation", category="other", direct_answer="办事指南见官网。")
    )
    assert not answered.routing_queued
    # Handed over in intake's list, with one drain job for them all.
    assert [int(i) for i in queue.connection.lrange(queueing.intake_key(queue), 0, -1)] == [
        ticket.id for _c, ticket in logged
    ]
    assert queue.count == 1

    output = run_burst_worker()

    assert queue.count == 0
    assert queue.failed_job_registry.count == 0, output
    for category, ticket in logged:
        status, department = expected[category]
        assert (ticket.status, ticket.department) == (status, department), (category, output)
        assert routed_events(ticket) == 1, category
        if department is not None:
            assert ticket.dispatched_at is not None and ticket.resolve_due_at is not None
    assert answered.ticket.status == Status.CLOSED
    assert routed_events(answered.ticket) == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_redis_down_at_intake_the_ticket_is_kept_and_requeued_later(
    app: Flask, city, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue that an app configured with a dead REDIS_URL makes, connection settings and all.
    config = _TestingConfig()
    config.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    dead_queue = create_app(config).extensions["hotline_jobs"]["queue"]
    with monkeypatch.context() as patch:
        patch.setitem(app.extensions["hotline_jobs"], "queue", dead_queue)
        result = tickets.create_ticket(city.operator, factories.intake())
    assert result.routing_queued is False
    ticket_id = result.ticket.id
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket is not None and ticket.status == Status.NEW  # saved although Redis was down
    assert queue.count == 0

    assert recovery.requeue_waiting() == 1  # Redis is back: the sweep's work, done at once
    output = run_burst_worker()

    assert ticket.status == Status.DISPATCHED, output
    assert ticket.department == city.roads
    assert routed_events(ticket) == 1


def test_a_routing_job_delivered_twice_routes_once(city, queue: Queue) -> None:
    ticket = tickets.create_ticket(city.operator, factories.intake(category="water-supply")).ticket
    # The same ticket's routing job again, as at-least-once delivery (or the sweep) may do.
    assert queueing.enqueue_routing_batches(queue, [ticket.id]) == 1
    assert queue.count == 2

    output = run_burst_worker()

    assert queue.count == 0
    assert queue.failed_job_registry.count == 0, output
    assert ticket.status == Status.DISPATCHED
    assert ticket.department == city.water
    assert routed_events(ticket) == 1
