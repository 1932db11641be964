"""Urgent and bulk work on two queues, each with its own worker (as `make run` and
docs/production.md start them): a long bulk job never delays a ticket. Real worker processes
on the real Redis (TEST_REDIS_URL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rq import Queue
from rq.job import JobStatus

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.services.ticketing import tickets
from tests import factories
from tests.workers import run_burst_worker, running_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.worker]

LONG = 60  # seconds: the bulk job outlasts the test; the worker is stopped (cold) at the end


def test_a_ticket_is_routed_while_a_long_bulk_job_runs(city, queue: Queue, bulk_queue: Queue, tmp_path: Path) -> None:
    with (
        running_worker("--queue", "urgent", log=tmp_path / "urgent.log"),
        running_worker("--queue", "bulk", log=tmp_path / "bulk.log"),
    ):
        # A report rebuild at 10 M tickets takes 15-20 minutes; a sleep stands in for it.
        rebuild = bulk_queue.enqueue("time.sleep", LONG, job_timeout=LONG * 2, description="a long bulk job")
        wait_until(lambda: rebuild.get_status() == JobStatus.STARTED, "the bulk job to start")

        ticket_id = tickets.create_ticket(city.operator, factories.intake()).written.id

        def routed() -> bool:
            db.session.expire_all()
            return db.session.get(Ticket, ticket_id).status != Status.NEW

        wait_until(routed, "the ticket to be routed", timeout=30)
        assert rebuild.get_status() == JobStatus.STARTED  # still running: the ticket did not wait for it
        assert db.session.get(Ticket, ticket_id).status == Status.DISPATCHED


def test_the_bulk_worker_runs_its_jobs_at_a_lower_cpu_priority(city, queue: Queue, bulk_queue: Queue) -> None:
    # os.nice(0) answers the niceness of the process that runs it: here, the work horse.
    own = os.nice(0)
    on_bulk = bulk_queue.enqueue("os.nice", 0)
    on_urgent = queue.enqueue("os.nice", 0)
    run_burst_worker("--queue", "bulk", "--no-scheduler")
    run_burst_worker("--queue", "urgent", "--no-scheduler")
    assert on_bulk.latest_result().return_value == own + 10  # HOTLINE_BULK_NICE's default
    assert on_urgent.latest_result().return_value == own


def test_the_bulk_workers_priority_is_a_setting(city, bulk_queue: Queue) -> None:
    own = os.nice(0)
    job = bulk_queue.enqueue("os.nice", 0)
    run_burst_worker("--queue", "bulk", "--no-scheduler", HOTLINE_BULK_NICE="0")
    assert job.latest_result().return_value == own
