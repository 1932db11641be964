"""RQ jobs that train the routing-suggestion model (see `services.suggestions`).

Daily, at HOTLINE_SUGGESTIONS_TRAIN_AT (local time, default 03:00, when the
hotline is quiet), on demand (an administrator's button, the CLI), and when a worker
starts and finds the model in use trained with another word segmenter (an upgrade). Like the
other jobs they run in the app context that the worker pushes. Training is
idempotent: a second delivery finds nothing new and stores no second version.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from hotline.extensions import db, jobs
from hotline.models.types import utcnow
from hotline.services import redis_guard, suggestions

log = logging.getLogger(__name__)

TRAIN_AT = "03:00"
# A long history takes minutes to tokenise and fit; RQ's default of 180 s would kill it.
TRAIN_TIMEOUT = 3600
ON_DEMAND_ID = "hotline-suggestions-train-now"
SCHEDULED_PREFIX = "hotline-suggestions-train-"  # + the local date of the run


def train_suggestions_job(trigger: str = "admin", force: bool = False) -> dict[str, Any]:
    """Train and store a new version (or say why not); returns what happened, for RQ's result."""
    try:
        result = suggestions.train(trigger=trigger, force=force)
    finally:
        db.session.remove()
    current_app.logger.info("routing suggestions (%s): %s", trigger, result.message)
    return {
        "trained": result.trained,
        "version": result.version,
        "samples": result.samples,
        "message": result.message,
        "metrics": result.metrics,
    }


def scheduled_training_job() -> dict[str, Any]:
    """The daily training, which then schedules the next one."""
    try:
        return train_suggestions_job("schedule")
    finally:
        schedule_training()


def next_training_time(now: datetime | None = None) -> datetime:
    """The next HOTLINE_SUGGESTIONS_TRAIN_AT in the hotline's time zone after `now`, in UTC."""
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    hour, minute = (int(part) for part in current_app.config.get("HOTLINE_SUGGESTIONS_TRAIN_AT", TRAIN_AT).split(":"))
    local_now = (now or utcnow()).astimezone(zone)
    run = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if run <= local_now:
        run = datetime.combine(local_now.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return run.astimezone(ZoneInfo("UTC"))


def schedule_training(now: datetime | None = None) -> str | None:
    """Schedule the next daily training; returns its job id (None without a queue).

    The id names the local date of the run: scheduling again (each worker start) replaces
    that run rather than adding one, and the run that schedules tomorrow's does not
    overwrite its own job while it is still running.
    """
    queue = jobs.queue
    if queue is None:
        return None
    at = next_training_time(now)
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    job_id = f"{SCHEDULED_PREFIX}{at.astimezone(zone):%Y%m%d}"
    queue.enqueue_at(
        at,
        scheduled_training_job,
        job_id=job_id,
        job_timeout=TRAIN_TIMEOUT,
        description="train routing suggestions (daily)",
    )
    return job_id


def enqueue_training(trigger: str = "admin", force: bool = False) -> bool:
    """Train as soon as a worker is free. True when a training is queued (this one, or one
    already waiting); False without a queue or with Redis down: nothing happens then."""

    def enqueue(queue: Queue) -> bool:
        try:
            waiting = Job.fetch(ON_DEMAND_ID, connection=queue.connection).get_status(refresh=False)
        except NoSuchJobError:
            waiting = None
        if waiting in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            return True  # a second click while it waits or runs: the same training answers both
        queue.enqueue(
            train_suggestions_job,
            trigger,
            force,
            job_id=ON_DEMAND_ID,
            job_timeout=TRAIN_TIMEOUT,
            description="train routing suggestions (on demand)",
        )
        return True

    try:  # an administrator's click: a hung Redis costs a short wait, as for every web path
        return redis_guard.call_queue("routing suggestions training", enqueue)
    except redis_guard.Unavailable as why:
        log.warning("routing suggestions training not enqueued: %s", why)
        return False


def retrain_if_stale() -> bool:
    """At a worker's start: queue a training when the model in use was trained with another
    word segmenter (`suggestions.stale`), forced since the history may be unchanged. True
    when one is queued. Several workers starting at once queue one (the on-demand job id)."""
    try:
        if not suggestions.stale():
            return False
    finally:
        db.session.remove()
    log.info("routing suggestions: the model in use was trained with another word segmenter; retraining")
    return enqueue_training("segmenter", force=True)
