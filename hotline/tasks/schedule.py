"""The periodic jobs, declared once, and what keeps each one running.

Each run is a job of its own, with an id of its own: `hotline-<name>-<UTC time it is due>`.
(Before, a job rescheduled itself under its own id; RQ expires a finished job's hash after
its result TTL, 500 s, and the scheduler then found nothing to run: the hourly hotspot job ran
once per worker start.) Runs are due on fixed times (the sweep on every whole minute, hotspots
on the hour, training at 03:00 local time), so that two workers scheduling the same run name
the same job and add nothing.

Three things schedule the next run, each harmless if another did it first (`ensure`):
- the run itself, first thing (`chain`), so the next is due whether or not this one fails;
- every worker when it starts, for the queues it listens to;
- every worker's maintenance, once a minute: a run lost with Redis is scheduled again.

One run at a time: a pointer per job (`hotline:periodic:<queue>:<name>`) names the latest
run; while that run is scheduled or waits in the queue (a bulk worker busy with a rebuild),
no other is added, so runs never pile up behind a long job.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.job import Job, JobStatus

from hotline.extensions import jobs
from hotline.models.types import utcnow

log = logging.getLogger(__name__)

# HOTLINE_SWEEP_SECONDS shortens it (benchmarks/soak.py does); read when a run is scheduled.
SWEEP_SECONDS = 60
TRAIN_AT = "03:00"  # local time, when the hotline is quiet (HOTLINE_SUGGESTIONS_TRAIN_AT)
# A full report rebuild at 10 M tickets takes 15-20 minutes; leave ample room.
REBUILD_TIMEOUT = 6 * 3600
# A month of a large hotline is a million tickets: a few minutes (benchmarks/README.md), past RQ's 180 s.
HOTSPOTS_TIMEOUT = 3600
TRAIN_TIMEOUT = 3600


def sweep_every() -> timedelta:
    return timedelta(seconds=int(os.environ.get("HOTLINE_SWEEP_SECONDS") or SWEEP_SECONDS))


def _every(period: Callable[[], timedelta]) -> Callable[[datetime], datetime | None]:
    """Due on the multiples of the period (since the epoch): the first one after `moment`."""

    def next_run(moment: datetime) -> datetime | None:
        seconds = period().total_seconds()
        if seconds <= 0:
            return None  # turned off
        return datetime.fromtimestamp((math.floor(moment.timestamp() / seconds) + 1) * seconds, UTC)

    return next_run


def _hotspot_period() -> timedelta:
    return timedelta(minutes=current_app.config.get("HOTLINE_HOTSPOT_EVERY_MINUTES", 60))


def next_training_time(moment: datetime | None = None) -> datetime:
    """The next HOTLINE_SUGGESTIONS_TRAIN_AT in the hotline's time zone after `moment`, in UTC."""
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    hour, minute = (int(part) for part in current_app.config.get("HOTLINE_SUGGESTIONS_TRAIN_AT", TRAIN_AT).split(":"))
    local_now = (moment or utcnow()).astimezone(zone)
    run = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if run <= local_now:
        run = datetime.combine(local_now.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return run.astimezone(UTC)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # the job, by dotted path
    bulk: bool  # on the bulk queue ("hotline-bulk"), else the urgent one ("hotline")
    next_run: Callable[[datetime], datetime | None]  # the first due time after a moment; None: off
    description: str
    timeout: int | None = None  # None: RQ's default (180 s)
    at_front: bool = False  # when due, ahead of whatever piled up
    first_run_after: timedelta | None = None  # a worker that starts runs it this soon, not on the hour

    def job_id(self, due: datetime) -> str:
        return f"hotline-{self.name}-{due.astimezone(UTC):%Y%m%dT%H%M%SZ}"


# The table: every periodic job, its queue and its times.
PERIODIC: tuple[Periodic, ...] = (
    # Re-enqueue what was not routed or sent, turn SLA clocks amber and red, close unrated
    # tickets. At the front: after the workers were down, its batches route a backlog fastest.
    Periodic("sweep", "hotline.tasks.sweep.sweep", False, _every(sweep_every), "the sweep", at_front=True),
    # The report days that changed (the first time: the full rebuild, which takes minutes).
    Periodic("reports", "hotline.tasks.sweep.refresh_reports", True, _every(sweep_every), "refresh report days",
             timeout=REBUILD_TIMEOUT),
    Periodic("hotspots", "hotline.tasks.hotspots.detect_hotspots", True, _every(_hotspot_period), "detect hotspots",
             timeout=HOTSPOTS_TIMEOUT, first_run_after=timedelta(minutes=1)),
    Periodic("training", "hotline.tasks.suggestions.scheduled_training", True, next_training_time,
             "train routing suggestions (daily)", timeout=TRAIN_TIMEOUT),
)  # fmt: skip
BY_NAME = {entry.name: entry for entry in PERIODIC}

# The latest run waits for its time or for a worker: no second one is added.
_WAITING = {JobStatus.QUEUED.value, JobStatus.SCHEDULED.value, JobStatus.DEFERRED.value}


def queue_for(entry: Periodic) -> Queue | None:
    return jobs.bulk_queue if entry.bulk else jobs.queue


def pointer_key(queue: Queue, entry: Periodic) -> str:
    return f"hotline:periodic:{queue.name}:{entry.name}"


def ensure(
    entry: Periodic, now: datetime | None = None, after: datetime | None = None, starting: bool = False
) -> str | None:
    """Schedule the next run of `entry` unless its latest run still waits; returns the id of
    the run that waits (None without a queue or with the job turned off). `after`: no run at
    or before it (a run schedules the next after its own due time, however early it ran)."""
    queue = queue_for(entry)
    if queue is None:
        return None
    now = now or utcnow()
    connection = queue.connection
    pointer = pointer_key(queue, entry)
    latest = connection.get(pointer)
    if latest is not None:
        latest_id = latest.decode()
        status = connection.hget(Job.key_for(latest_id), "status")
        if status is not None and status.decode() in _WAITING:
            return latest_id
    due = entry.next_run(max(now, after) if after is not None else now)
    if due is None:
        return None
    if starting and entry.first_run_after is not None:  # on the minute, so that two workers agree
        soon = datetime.fromtimestamp(math.ceil((now + entry.first_run_after).timestamp() / 60) * 60, UTC)
        due = min(due, soon)
    job_id = entry.job_id(due)
    with connection.pipeline() as pipe:
        queue.enqueue_at(
            due,
            entry.func,
            job_id=job_id,
            job_timeout=entry.timeout,
            at_front=entry.at_front,
            description=entry.description,
            meta={"periodic": entry.name, "due": due.isoformat()},
            pipeline=pipe,
        )
        pipe.set(pointer, job_id)
        pipe.execute()
    return job_id


def ensure_all(queues: Iterable[Queue], starting: bool = False) -> dict[str, str | None]:
    """`ensure` for every periodic job that goes on one of these queues (a worker's own)."""
    names = {queue.name for queue in queues}
    scheduled: dict[str, str | None] = {}
    for entry in PERIODIC:
        queue = queue_for(entry)
        if queue is not None and queue.name in names:
            scheduled[entry.name] = ensure(entry, starting=starting)
    return scheduled


def chain(name: str) -> str | None:
    """Called first by a periodic job: schedule its next run, after its own due time. A Redis
    failure is logged, not raised: the run goes on, and maintenance schedules the next."""
    job = get_current_job()
    after = None
    if job is not None and job.meta.get("periodic") == name and job.meta.get("due"):
        after = datetime.fromisoformat(job.meta["due"])
    try:
        return ensure(BY_NAME[name], after=after)
    except RedisError as error:
        log.warning("the next %s was not scheduled, Redis unavailable: %s", name, error)
        return None
