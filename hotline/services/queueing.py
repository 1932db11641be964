"""Putting work on the RQ queue, safely: after the commit, and never failing the caller.

Redis may be down or not configured. Then nothing is enqueued, the caller is
told, and the sweep (`requeue_waiting`) picks the work up once Redis is back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import select

from hotline.extensions import db, jobs
from hotline.models import Status, Ticket
from hotline.models.types import utcnow

log = logging.getLogger(__name__)

# Retries cover a worker killed mid-job (RQ re-queues abandoned jobs as failed).
ROUTING_RETRY = Retry(max=3, interval=[5, 30, 120])


def enqueue_routing(ticket_id: int) -> bool:
    queue = jobs.queue
    if queue is None:
        return False
    try:
        _enqueue_routing(queue, ticket_id)
    except RedisError as error:
        log.warning("routing of ticket %s not enqueued, Redis unavailable: %s", ticket_id, error)
        return False
    return True


def _enqueue_routing(queue: Queue, ticket_id: int) -> None:
    from hotline.jobs import route_ticket_job

    queue.enqueue(route_ticket_job, ticket_id, retry=ROUTING_RETRY, description=f"route ticket {ticket_id}")


@dataclass(frozen=True)
class Requeued:
    """What a sweep did: how many tickets wait for routing, and how many were enqueued."""

    waiting: int
    enqueued: int
    has_queue: bool  # False: no REDIS_URL, so nothing could be enqueued
    error: str | None = None  # Redis refused: the rest were not tried


def requeue(grace: timedelta = timedelta(0)) -> Requeued:
    """Enqueue routing for every ticket still new after `grace`.

    Routing is idempotent, so a ticket whose first job is merely slow is routed once.
    The first Redis error stops the sweep: each further try would wait for the
    connection timeout, and the next sweep catches up anyway.
    """
    cutoff = utcnow() - grace
    ids = db.session.scalars(
        select(Ticket.id).where(Ticket.status == Status.NEW, Ticket.created_at <= cutoff).order_by(Ticket.id)
    ).all()
    queue = jobs.queue
    if queue is None:
        return Requeued(waiting=len(ids), enqueued=0, has_queue=False)
    enqueued = 0
    for ticket_id in ids:
        try:
            _enqueue_routing(queue, ticket_id)
        except RedisError as error:
            log.warning("sweep stopped after %d of %d tickets, Redis unavailable: %s", enqueued, len(ids), error)
            return Requeued(waiting=len(ids), enqueued=enqueued, has_queue=True, error=str(error))
        enqueued += 1
    return Requeued(waiting=len(ids), enqueued=enqueued, has_queue=True)


def requeue_waiting(grace: timedelta = timedelta(0)) -> int:
    """Enqueue routing for every ticket still new after `grace`; returns how many went."""
    return requeue(grace).enqueued
