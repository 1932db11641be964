"""Putting work on the RQ queues, safely: after the commit, and never failing the caller.

This is the services' one port to the jobs: they name a job by its dotted path (the constants
below) and never import `hotline.tasks`, which imports the services. Urgent work goes on
`jobs.queue` ("hotline"), bulk work on `jobs.bulk_queue` ("hotline-bulk"); the periodic jobs
are declared in `hotline.tasks.schedule`.

Redis may be down or not configured. Then nothing is enqueued, the caller is
told, and the sweep (`recovery.requeue_waiting`) picks the work up once Redis is back.
A backlog (after an outage) goes in batches of ticket ids per job, pipelined:
a forking worker pays one fork per job, so one job per ticket would cap
routing at the worker's job rate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from hotline.extensions import jobs
from hotline.services.platform import redis_guard

log = logging.getLogger(__name__)

# The jobs that services enqueue, by dotted path (tests/test_tasks_port.py checks each resolves).
ROUTE_TICKET = "hotline.tasks.routing.route_ticket"
ROUTE_BATCH = "hotline.tasks.routing.route_batch"
DRAIN_INTAKE = "hotline.tasks.routing.drain_intake"
SEND_MESSAGE = "hotline.tasks.texts.send_message"
SEND_MESSAGES = "hotline.tasks.texts.send_messages"
TRAIN_SUGGESTIONS = "hotline.tasks.suggestions.train_suggestions"
# duty rota (值班, issue 17 item 4): take the out-of-hours alerts that are due
RUN_DUTY_ALERTS = "hotline.tasks.duty.run_duty_alerts"
# attachments (issue 18 item 5): a voicemail's recording fetched from Twilio and kept with its ticket
KEEP_RECORDING = "hotline.tasks.media.keep_recording"
KEEP_MEDIA = "hotline.tasks.media.keep_media"  # a citizen's MMS pictures

# Retries cover a job that failed (the database briefly away) and a worker killed mid-job:
# RQ's maintenance moves an abandoned job (its heartbeat lapsed, ~90 s) to a retry, and the
# sweep re-enqueues tickets still new after its grace; routing is idempotent either way.
ROUTING_RETRY = Retry(max=3, interval=[5, 30, 120])
# At most this many tickets per routing job: a batch of 100 takes well under a second.
ROUTING_BATCH = 100
# A sweep spreads its tickets over at least this many jobs, so that every worker takes a
# share: a handful of tickets goes one job each, a backlog in full batches.
ROUTING_SPREAD = 8
# Jobs per Redis pipeline: a failure part-way loses at most one pipeline, reported as such.
PIPELINE_JOBS = 200
# -- intake's hand-over: one push per ticket, routed and texted in batches ------------------
#
# Intake is what operators wait on, so it hands a new ticket over with one Redis command: its
# id pushed onto a list. Only the push that finds the list empty enqueues a drain job; while
# ids wait, a drain is due already. A drain job takes up to DRAIN_BATCH ids and, when more
# wait, enqueues the next drain first (so that other workers share a backlog), then routes its
# batch, ten tickets per transaction, and enqueues the texts. Under load most tickets cost intake one
# push and no job, and a worker a fraction of a job. The rows stay the source of truth: ids
# lost with Redis, or taken by a drain that failed or was killed, belong to tickets still new,
# which the sweep routes after its grace, and their texts are queued rows that it sends; the
# sweep also enqueues a drain for ids left waiting without one (`drain_if_waiting`). A failed
# drain does not put its ids back: with the database away, that would spin.
DRAIN_BATCH = ROUTING_BATCH
SEND_BATCH = 10  # texts per sending job: a slow Twilio holds up at most this many


def intake_key(queue: Queue) -> str:
    """The list of ticket ids handed over by intake and not yet taken, per queue."""
    return f"hotline:intake:{queue.name}"


def enqueue_intake(ticket_id: int) -> bool:
    """Hand a ticket just committed to the workers (routing, if new, and its texts). False when
    Redis is down or absent: the ticket is kept, and the sweep hands it over later.

    Through `redis_guard`: a hung Redis costs one operator a short timeout, then is skipped
    for a few seconds by every web path of this process (tickets logged meanwhile stay new)."""

    def hand_over(queue: Queue) -> bool:
        if queue.connection.rpush(intake_key(queue), ticket_id) == 1:  # none waited: no drain due
            _enqueue_drain(queue)
        return True

    try:
        return redis_guard.call_queue("intake", hand_over)
    except redis_guard.Unavailable as why:
        log.info("ticket %s not handed over: %s", ticket_id, why)
        return False


def take_intake(limit: int = DRAIN_BATCH) -> list[int]:
    """Take up to `limit` handed-over ticket ids, oldest first, in one transaction; when more
    wait, enqueue the next drain for them."""
    queue = jobs.queue
    if queue is None:
        return []
    key = intake_key(queue)
    with queue.connection.pipeline() as pipe:  # MULTI/EXEC
        pipe.lrange(key, 0, limit - 1)
        pipe.ltrim(key, limit, -1)
        pipe.llen(key)
        ids, _trimmed, left = pipe.execute()
    if left:
        _enqueue_drain(queue)
    return [int(i) for i in ids]


def drain_if_waiting() -> int:
    """The sweep's part: enqueue a drain when ids wait (their drain job was lost, say).
    Returns how many wait; 0 without Redis."""
    queue = jobs.queue
    if queue is None:
        return 0
    waiting = queue.connection.llen(intake_key(queue))
    if waiting:
        _enqueue_drain(queue)
    return waiting


def _enqueue_drain(queue: Queue) -> None:
    _enqueue_now(queue, DRAIN_INTAKE, retry=ROUTING_RETRY, description="route and text new tickets")


def _enqueue_now(queue: Queue, func: str, *args, **options) -> None:
    """`queue.enqueue` in one pipeline: one round trip to Redis instead of RQ's two."""
    with queue.connection.pipeline() as pipe:
        queue.enqueue(func, *args, pipeline=pipe, **options)
        pipe.execute()


def enqueue_sends(message_ids: Sequence[int]) -> bool:
    """Enqueue the sending of these messages, SEND_BATCH to a job, in one round trip. False
    when Redis is down or absent: they stay queued in the outbox and the sweep sends them."""
    queue = jobs.queue
    if queue is None:
        return False
    if not message_ids:
        return True
    chunks = [list(message_ids[i : i + SEND_BATCH]) for i in range(0, len(message_ids), SEND_BATCH)]
    data = [
        Queue.prepare_data(SEND_MESSAGES, (chunk,), retry=SEND_RETRY, description=f"send {len(chunk)} messages")
        for chunk in chunks
    ]
    try:
        queue.enqueue_many(data)
    except RedisError as error:
        log.warning("%d messages not enqueued, Redis unavailable: %s", len(message_ids), error)
        return False
    return True


def batches(ids: Sequence[int], limit: int = ROUTING_BATCH, spread: int = ROUTING_SPREAD) -> list[Sequence[int]]:
    """Split ids into at least `spread` jobs (when there are that many ids) of at most `limit`."""
    if not ids:
        return []
    size = max(1, min(limit, math.ceil(len(ids) / spread)))
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def enqueue_routing_batches(queue: Queue, ids: Sequence[int], limit: int = ROUTING_BATCH) -> int:
    """Enqueue routing for `ids` in batches, pipelined, at the front of the queue; returns how
    many tickets went.

    At the front, because these tickets have waited longest: after the workers were down, the
    queue may hold a job per ticket, and one per-ticket job costs a worker about as much as a
    batch. Those jobs then find their tickets routed and do nothing. The batches are pushed
    newest first, so that the oldest tickets come first. A batch of one is a plain
    `route_ticket`. Raises `RedisBatchError` when a pipeline fails, saying how many
    tickets were enqueued before it.
    """
    enqueued = 0
    chunks = batches(ids, limit)[::-1]
    for start in range(0, len(chunks), PIPELINE_JOBS):
        group = chunks[start : start + PIPELINE_JOBS]
        data = [
            Queue.prepare_data(
                ROUTE_TICKET,
                (chunk[0],),
                retry=ROUTING_RETRY,
                description=f"route ticket {chunk[0]}",
                at_front=True,
            )
            if len(chunk) == 1
            else Queue.prepare_data(
                ROUTE_BATCH,
                (list(chunk),),
                retry=ROUTING_RETRY,
                description=f"route {len(chunk)} tickets {chunk[0]}..{chunk[-1]}",
                at_front=True,
            )
            for chunk in group
        ]
        try:
            queue.enqueue_many(data)
        except RedisError as error:
            raise RedisBatchError(enqueued, error) from error
        enqueued += sum(len(chunk) for chunk in group)
    return enqueued


class RedisBatchError(RedisError):
    def __init__(self, enqueued: int, error: RedisError) -> None:
        super().__init__(str(error))
        self.enqueued = enqueued


# -- the outbox's sending jobs -------------------------------------------------------------

# Retries cover a job that raised (the database briefly away); the sender's own failures are
# handled by the outbox, which schedules the next attempt itself (see `services.citizens.outbox`).
SEND_RETRY = Retry(max=3, interval=[10, 60, 300])


def enqueue_send(message_id: int, at: datetime | None = None) -> bool:
    """Enqueue the sending of an outbox message (at `at`, for a retry: needs the worker's
    scheduler). False when Redis is down or absent: the sweep enqueues it later."""
    try:
        redis_guard.call_queue("outbox", lambda queue: enqueue_send_on(queue, message_id, at))
    except redis_guard.Unavailable as why:
        log.info("sending of message %s not enqueued: %s", message_id, why)
        return False
    return True


def enqueue_send_on(queue: Queue, message_id: int, at: datetime | None = None, job_id: str | None = None) -> None:
    """`enqueue_send` on this queue, raising RedisError (the sweep stops at the first)."""
    options = {"retry": SEND_RETRY, "description": f"send message {message_id}"}
    if at is None:
        _enqueue_now(queue, SEND_MESSAGE, message_id, job_id=job_id, **options)
    else:
        queue.enqueue_at(at, SEND_MESSAGE, message_id, **options)


# -- duty rota (值班, issue 17 item 4) --------------------------------------------------------


def enqueue_duty_alerts(at: datetime | None = None, job_id: str | None = None) -> bool:
    """Take the duty alerts that are due, now or at `at` (the next escalation step: needs the
    worker's scheduler). False when Redis is down or absent: the sweep takes them anyway."""

    def enqueue(queue: Queue) -> None:
        options = {"retry": SEND_RETRY, "description": "duty alerts", "job_id": job_id}
        if at is None:
            _enqueue_now(queue, RUN_DUTY_ALERTS, **options)
        else:
            queue.enqueue_at(at, RUN_DUTY_ALERTS, **options)

    try:
        redis_guard.call_queue("duty", enqueue)
    except redis_guard.Unavailable as why:
        log.info("duty alerts not enqueued: %s", why)
        return False
    return True


def enqueue_keep_recording(ticket_id: int) -> bool:
    """Fetch a voicemail ticket's recording into an attachment (after the ticket's commit).
    False when Redis is down or absent: the recording's URL stays on the ticket."""
    try:
        redis_guard.call_queue(
            "recording",
            lambda queue: _enqueue_now(
                queue, KEEP_RECORDING, ticket_id, retry=SEND_RETRY, description=f"keep the recording of {ticket_id}"
            ),
        )
    except redis_guard.Unavailable as why:
        log.info("recording of ticket %s not enqueued: %s", ticket_id, why)
        return False
    return True


def enqueue_keep_media(ticket_id: int, urls: list[str]) -> bool:
    """Fetch a citizen's MMS media into the ticket's attachments (after the message's commit)."""
    try:
        redis_guard.call_queue(
            "media",
            lambda queue: _enqueue_now(
                queue, KEEP_MEDIA, ticket_id, urls, retry=SEND_RETRY, description=f"keep the MMS media of {ticket_id}"
            ),
        )
    except redis_guard.Unavailable as why:
        log.info("MMS media of ticket %s not enqueued: %s", ticket_id, why)
        return False
    return True


# -- bulk work asked for by a person ----------------------------------------------------------

# A long history takes minutes to tokenise and fit; RQ's default of 180 s would kill it.
TRAIN_TIMEOUT = 3600
TRAIN_NOW_ID = "hotline-suggestions-train-now"


def enqueue_training(trigger: str = "admin", force: bool = False) -> bool:
    """Train the routing suggestions as soon as a bulk worker is free. True when a training is
    queued (this one, or one already waiting); False without a queue or with Redis down:
    nothing happens then."""

    def enqueue(queue: Queue) -> bool:
        try:
            waiting = Job.fetch(TRAIN_NOW_ID, connection=queue.connection).get_status(refresh=False)
        except NoSuchJobError:
            waiting = None
        if waiting in _PENDING:
            return True  # a second click while it waits or runs: the same training answers both
        queue.enqueue(
            TRAIN_SUGGESTIONS,
            trigger,
            force,
            job_id=TRAIN_NOW_ID,
            job_timeout=TRAIN_TIMEOUT,
            description="train routing suggestions (on demand)",
        )
        return True

    try:  # an administrator's click: a hung Redis costs a short wait, as for every web path
        return redis_guard.call_queue("routing suggestions training", enqueue, bulk=True)
    except redis_guard.Unavailable as why:
        log.warning("routing suggestions training not enqueued: %s", why)
        return False


_PENDING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
