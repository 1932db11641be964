"""RQ job functions. They take ids, never ORM objects, and call a service.

They run inside the app context that the worker entry point (`workers/`) pushes.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from hotline.extensions import db, jobs
from hotline.services import deadlines, intake, queueing, report_figures, survey, tickets

# HOTLINE_SWEEP_SECONDS / HOTLINE_SWEEP_GRACE_SECONDS shorten them (benchmarks/soak.py does).
SWEEP_EVERY = timedelta(seconds=int(os.environ.get("HOTLINE_SWEEP_SECONDS") or 60))
SWEEP_GRACE = timedelta(seconds=int(os.environ.get("HOTLINE_SWEEP_GRACE_SECONDS") or 120))
SWEEP_JOB_ID = "hotline-sweep"


def route_ticket_job(ticket_id: int) -> str | None:
    try:
        ticket = tickets.route(ticket_id)
        return ticket.status if ticket else None
    finally:
        db.session.remove()


def drain_intake_job() -> dict[str, int]:
    """Route and text a batch of the tickets that intake handed over (queueing.enqueue_intake)."""
    try:
        return intake.hand_over_batch()
    finally:
        db.session.remove()


def route_batch_job(ticket_ids: list[int]) -> dict[str, int]:
    """Route a batch of tickets (a backlog that the sweep enqueued) with the rules and the
    reference data loaded once; returns the count per resulting status."""
    try:
        return tickets.route_batch(ticket_ids)
    finally:
        db.session.remove()


WARM_UP_EVERY = 30.0  # seconds; the caches themselves keep what they load for a minute
_warmed_at = float("-inf")


def warm_up() -> None:
    """Load in the worker, before it forks a work horse, what routing needs in every job: the
    holiday calendar and the suggestion model (with scikit-learn and rjieba's dictionary). The
    horse inherits them (copy-on-write) rather than loading them again, which cost a cold horse
    well over a second per job once a model was trained. Done at most every WARM_UP_EVERY, so
    that a job pays nothing for it; never fails the worker."""
    global _warmed_at
    if time.monotonic() - _warmed_at < WARM_UP_EVERY:
        return
    _warmed_at = time.monotonic()
    from hotline.services import calendar, suggestions

    try:
        calendar.work_calendar()
        suggestions.suggest("预热", limit=1)  # loads the active model, if any, and tokenizes once
    except Exception:  # noqa: BLE001 (the job itself will load what it needs, or report why not)
        current_app.logger.exception("warm-up before the job failed")
    finally:
        db.session.remove()  # no transaction left open in the worker while the horse writes


def sweep_job() -> dict[str, int]:
    """The periodic sweep: re-enqueue what was not routed or sent (Redis was down), turn SLA
    clocks amber and red, close resolved tickets left unrated, then schedule itself again."""
    try:
        requeued = queueing.requeue_waiting(SWEEP_GRACE)
        _drain_if_waiting()
        levels = deadlines.sweep_deadlines()
        unrated = survey.close_unrated()
        refreshed = refresh_reports()
    finally:
        db.session.remove()
        schedule_sweep()
    current_app.logger.info(
        "sweep: %d re-enqueued, %s, %d unrated closed, %d report days refreshed", requeued, levels, unrated, refreshed
    )
    return {"requeued": requeued, **levels, "closed_unrated": unrated, "report_days": refreshed}


def _drain_if_waiting() -> None:
    try:
        queueing.drain_if_waiting()
    except RedisError as error:  # the next sweep tries again; the tickets themselves are swept above
        current_app.logger.warning("could not check intake's list: %s", error)


REBUILD_TIMEOUT = 6 * 3600  # tens of millions of tickets take minutes; leave ample room
REBUILD_JOB_ID = "hotline-reports-rebuild"


def _pending(queue, job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=queue.connection).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def refresh_reports() -> int:
    """Refresh the report days that changed; the first time, hand the full rebuild to a job
    of its own (it can take minutes) instead of holding up the sweep."""
    if report_figures.needs_rebuild():
        queue = jobs.queue
        if queue is not None and not _pending(queue, REBUILD_JOB_ID):
            queue.enqueue(rebuild_reports_job, job_id=REBUILD_JOB_ID, job_timeout=REBUILD_TIMEOUT)
        return 0
    return report_figures.refresh_dirty()


def rebuild_reports_job() -> int:
    try:
        return report_figures.rebuild().days
    finally:
        db.session.remove()


def schedule_sweep() -> None:
    """One sweep job at a time: a fixed job id makes a second schedule replace the first.
    When due, it goes to the front of the queue: after the workers were down, it must not
    wait behind every job that piled up meanwhile (its batches route them far faster)."""
    queue = jobs.queue
    if queue is not None:
        queue.enqueue_in(SWEEP_EVERY, sweep_job, job_id=SWEEP_JOB_ID, at_front=True)
