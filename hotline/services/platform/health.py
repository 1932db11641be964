"""Health of one web process and of what it depends on: the database, Redis, the job queues.

What `GET /healthz` (monitoring) and `GET /readyz` (the load balancer) report. Every check is
bounded (about a second) and cheap: one `SELECT 1`, one indexed `min()`, a few O(1) Redis
commands per queue, through RQ's API (`Worker.count`, the registries' `count`). No personal data: counts, ages and error class names only.

Status:
- `ok`: the database and Redis answer, and the urgent queue is moving (its oldest job has waited
  less than HOTLINE_HEALTH_MAX_JOB_AGE seconds);
- `degraded`: the database answers but Redis does not, or jobs wait too long (no worker is
  running, or they cannot keep up). Tickets are still accepted: they are committed first and
  the sweep enqueues their routing once Redis is back. Monitoring should alert; a load
  balancer should keep the process in rotation (`/readyz` answers 200);
- `down`: the database does not answer. Nothing works: both endpoints answer 503.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from hotline.extensions import db, jobs
from hotline.models import Status, Ticket
from hotline.models.types import utcnow
from hotline.services.platform import queueing, redis_guard

TIMEOUT_SECONDS = 1.0
OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass
class Health:
    status: str
    database: dict[str, Any]
    redis: dict[str, Any]
    queues: dict[str, int] = field(default_factory=dict)  # depth per queue (urgent, bulk)
    # Per queue: depth, workers, failed and scheduled jobs, the oldest job's age.
    per_queue: dict[str, dict[str, Any]] = field(default_factory=dict)
    intake_waiting: int | None = None  # tickets handed over by intake, not yet taken by a drain
    scheduled_jobs: int | None = None
    failed_jobs: int | None = None
    workers: int | None = None
    oldest_job_age_seconds: float | None = None
    oldest_unrouted_ticket_age_seconds: float | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "database": self.database,
            "redis": self.redis,
            "queues": self.queues,
            "per_queue": self.per_queue,
            "intake_waiting": self.intake_waiting,
            "scheduled_jobs": self.scheduled_jobs,
            "failed_jobs": self.failed_jobs,
            "workers": self.workers,
            "oldest_job_age_seconds": self.oldest_job_age_seconds,
            "oldest_unrouted_ticket_age_seconds": self.oldest_unrouted_ticket_age_seconds,
            "problems": self.problems,
        }


def check() -> Health:
    database, oldest_ticket = _check_database()
    redis_state, queue_facts = _check_redis()
    health = Health(status=OK, database=database, redis=redis_state, **queue_facts)
    health.oldest_unrouted_ticket_age_seconds = oldest_ticket
    if not database["ok"]:
        health.status = DOWN
        health.problems.append("database unreachable")
    if not redis_state["ok"]:
        health.problems.append("redis unreachable" if redis_state.get("configured", True) else "redis not configured")
    max_age = current_app.config.get("HOTLINE_HEALTH_MAX_JOB_AGE", 300)
    if max_age and (health.oldest_job_age_seconds or 0) > max_age:
        health.problems.append(f"oldest job waiting more than {max_age} s")
    if health.status == OK and health.problems:
        health.status = DEGRADED
    return health


def _check_database() -> tuple[dict[str, Any], float | None]:
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            # A hung server must not hold the probe: the statement gives up after the timeout.
            db.session.execute(text(f"SET LOCAL statement_timeout = {int(TIMEOUT_SECONDS * 1000)}"))
        db.session.execute(text("SELECT 1"))
        # Tickets still waiting for routing (Redis was down, or no worker): an indexed min().
        oldest = db.session.scalar(select(func.min(Ticket.created_at)).where(Ticket.status == Status.NEW))
        age = None if oldest is None else round(max(0.0, (utcnow() - _aware(oldest)).total_seconds()), 1)
        return {"ok": True}, age
    except SQLAlchemyError as error:
        return {"ok": False, "error": type(error).__name__}, None
    finally:
        db.session.rollback()  # never leave a transaction open in the web process


def _aware(moment):
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_redis() -> tuple[dict[str, Any], dict[str, Any]]:
    # The side paths' client (short timeouts); the probe tries whatever their memo says, and
    # tells it what it found.
    client = redis_guard.probe_client()
    queue = jobs.queue
    if client is None or queue is None:
        return {"ok": False, "configured": False, "error": "REDIS_URL is not set"}, {}
    started = time.monotonic()
    try:
        figures = {side.name: _queue_figures(side) for side in map(redis_guard.side_queue, jobs.queues)}
        intake_waiting = client.llen(queueing.intake_key(queue))
    except (RedisError, OSError) as error:
        redis_guard.mark_down(queue.connection, "health", error)
        return {"ok": False, "error": type(error).__name__}, {}
    redis_guard.mark_up(queue.connection)
    return (
        {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)},
        {
            "queues": {name: each["depth"] for name, each in figures.items()},
            "per_queue": figures,
            "intake_waiting": intake_waiting,
            "scheduled_jobs": sum(each["scheduled_jobs"] for each in figures.values()),
            "failed_jobs": sum(each["failed_jobs"] for each in figures.values()),
            "workers": figures[queue.name]["workers"],  # the workers that serve tickets
            # What tickets wait on: bulk jobs wait behind a rebuild for minutes, as they may
            # (their age is in `per_queue`).
            "oldest_job_age_seconds": figures[queue.name]["oldest_job_age_seconds"],
        },
    )


def _queue_figures(queue: Queue) -> dict[str, Any]:
    """A queue's depth, workers and failed and scheduled jobs, through RQ's API."""
    # Jobs go to the back, the sweep's batches to the front, so the longest-waiting job is at
    # one end or the other (an estimate, at O(1) cost).
    ends = {queue.connection.lindex(queue.key, 0), queue.connection.lindex(queue.key, -1)}
    ages = [age for job_id in ends if job_id for age in [_enqueued_age(queue, job_id.decode())] if age is not None]
    return {
        "depth": queue.count,
        "workers": Worker.count(queue=queue),
        "failed_jobs": queue.failed_job_registry.count,
        "scheduled_jobs": queue.scheduled_job_registry.count,
        "oldest_job_age_seconds": max(ages) if ages else None,
    }


def _enqueued_age(queue: Queue, job_id: str) -> float | None:
    try:
        enqueued = Job.fetch(job_id, connection=queue.connection).enqueued_at
    except NoSuchJobError:
        return None
    if enqueued is None:
        return None
    return round(max(0.0, (utcnow() - _aware(enqueued)).total_seconds()), 1)
