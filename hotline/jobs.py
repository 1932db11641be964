"""RQ job functions. They take ids, never ORM objects, and call a service.

They run inside the app context that the worker entry point (`workers/`) pushes.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from hotline.extensions import db, jobs
from hotline.services import deadlines, queueing, tickets

SWEEP_EVERY = timedelta(minutes=1)
SWEEP_GRACE = timedelta(minutes=2)


def route_ticket_job(ticket_id: int) -> str | None:
    try:
        ticket = tickets.route(ticket_id)
        return ticket.status if ticket else None
    finally:
        db.session.remove()


def sweep_job() -> dict[str, int]:
    """The periodic sweep: re-enqueue what was not routed (Redis was down at intake), turn SLA
    clocks amber and red, then schedule itself again."""
    try:
        requeued = queueing.requeue_waiting(SWEEP_GRACE)
        levels = deadlines.sweep_deadlines()
    finally:
        db.session.remove()
        schedule_sweep()
    current_app.logger.info("sweep: %d re-enqueued, %s", requeued, levels)
    return {"requeued": requeued, **levels}


def schedule_sweep() -> None:
    """One sweep job at a time: a fixed job id makes a second schedule replace the first."""
    queue = jobs.queue
    if queue is not None:
        queue.enqueue_in(SWEEP_EVERY, sweep_job, job_id="hotline-sweep")
