"""Putting work on the RQ queue, safely: after the commit, and never failing the caller.

Redis may be down or not configured. Then nothing is enqueued, the caller is
told, and the sweep (`requeue_waiting`) picks the work up once Redis is back.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError
from rq import Retry
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
    from hotline.jobs import route_ticket_job

    try:
        queue.enqueue(route_ticket_job, ticket_id, retry=ROUTING_RETRY, description=f"route ticket {ticket_id}")
    except RedisError as error:
        log.warning("routing of ticket %s not enqueued, Redis unavailable: %s", ticket_id, error)
        return False
    return True


def requeue_waiting(grace: timedelta = timedelta(0)) -> int:
    """Enqueue routing for every ticket still new after `grace`; returns how many went.

    Routing is idempotent, so a ticket whose first job is merely slow is routed once.
    """
    cutoff = utcnow() - grace
    ids = db.session.scalars(
        select(Ticket.id).where(Ticket.status == Status.NEW, Ticket.created_at <= cutoff).order_by(Ticket.id)
    ).all()
    return sum(1 for ticket_id in ids if enqueue_routing(ticket_id))
