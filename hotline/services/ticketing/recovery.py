"""What the sweep (and `flask requeue`) re-enqueues: tickets still new after a grace (Redis was
down, a job was lost) and outbox messages still waiting, through the port (`queueing`).

A backlog goes in batches of ticket ids per job, pipelined (`queueing.enqueue_routing_batches`).
Routing is idempotent and sending claims each message, so work whose first job is merely slow
is still done once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from hotline.extensions import db, jobs
from hotline.models import Status, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import outbox
from hotline.services.platform import queueing, redis_guard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requeued:
    """What a sweep did: how many tickets wait for routing, and how many were enqueued."""

    waiting: int
    enqueued: int
    has_queue: bool  # False: no REDIS_URL, so nothing could be enqueued
    error: str | None = None  # Redis refused: the rest were not tried
    # Messages in the outbox waiting to be sent (queued, or failed with a retry due).
    messages_waiting: int = 0
    messages_enqueued: int = 0
    messages_error: str | None = None


def _requeue_routing(grace: timedelta, batch: int) -> Requeued:
    """Enqueue routing for every ticket still new after `grace`, in batches of up to `batch`.

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
    try:
        enqueued = queueing.enqueue_routing_batches(queue, ids, batch)
    except queueing.RedisBatchError as error:
        log.warning("sweep stopped after %d of %d tickets, Redis unavailable: %s", error.enqueued, len(ids), error)
        return Requeued(waiting=len(ids), enqueued=error.enqueued, has_queue=True, error=str(error))
    redis_guard.mark_up(queue.connection)  # Redis answers again: intake may use it at once
    return Requeued(waiting=len(ids), enqueued=enqueued, has_queue=True)


def requeue(grace: timedelta = timedelta(0), batch: int = queueing.ROUTING_BATCH) -> Requeued:
    """Enqueue routing for every ticket still new after `grace`, in batches of up to `batch`,
    and sending for every message waiting in the outbox (see `_requeue_messages`)."""
    routed = _requeue_routing(grace, batch)
    if routed.error is not None:
        return replace(routed, messages_waiting=len(_messages_due(grace)))  # Redis is down: later
    return _requeue_messages(routed, grace)


def requeue_waiting(grace: timedelta = timedelta(0)) -> int:
    """Enqueue routing for every ticket still new after `grace` and sending for every message
    waiting; returns how many jobs' worth went (tickets plus messages)."""
    result = requeue(grace)
    return result.enqueued + result.messages_enqueued


def _messages_due(grace: timedelta) -> list[int]:
    outbox.recover_stale()  # a worker died mid-send: marked failed, not sent again by itself
    return outbox.due_ids(grace)


def _requeue_messages(routed: Requeued, grace: timedelta) -> Requeued:
    """Enqueue sending for messages queued longer than `grace` (Redis was down, or the job was
    lost) and failed ones whose retry is due. Sending claims each message, so one whose job
    is merely slow is still sent once."""
    ids = _messages_due(grace)
    queue = jobs.queue
    if queue is None or not ids:
        return replace(routed, messages_waiting=len(ids))
    try:
        # A sweep's own job for a message that still waits in the queue is not added again: under
        # a backlog, every sweep would otherwise add one more job per message (benchmarks/soak.py).
        waiting = _sweep_sends_waiting(queue, ids)
    except RedisError as error:
        log.warning("sweep could not enqueue messages, Redis unavailable: %s", error)
        return replace(routed, messages_waiting=len(ids), messages_error=str(error))
    enqueued = 0
    for message_id in ids:
        if message_id in waiting:
            continue
        try:
            queueing.enqueue_send_on(queue, message_id, job_id=SWEEP_SEND_JOB_ID % message_id)
        except RedisError as error:
            log.warning("sweep stopped after %d of %d messages, Redis unavailable: %s", enqueued, len(ids), error)
            return replace(routed, messages_waiting=len(ids), messages_enqueued=enqueued, messages_error=str(error))
        enqueued += 1
    return replace(routed, messages_waiting=len(ids), messages_enqueued=enqueued)


SWEEP_SEND_JOB_ID = "hotline-sweep-send-%d"
_WAITING = {JobStatus.QUEUED.value, JobStatus.SCHEDULED.value, JobStatus.DEFERRED.value, JobStatus.STARTED.value}


def _sweep_sends_waiting(queue: Queue, ids: Sequence[int]) -> set[int]:
    """The messages whose sweep job (a fixed id per message) is still queued or running."""
    pipe = queue.connection.pipeline(transaction=False)
    for message_id in ids:
        pipe.hget(Job.key_for(SWEEP_SEND_JOB_ID % message_id), "status")
    statuses = pipe.execute()
    return {i for i, status in zip(ids, statuses, strict=True) if status and status.decode() in _WAITING}
