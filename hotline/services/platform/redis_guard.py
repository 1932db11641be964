"""One memo of "Redis is down" for every web path where Redis is on the side.

Redis is never what a web request exists for: intake commits the ticket first, and the login
throttle and the rate limiter count in the process when Redis cannot. Yet a hung server (as
opposed to a stopped one, which refuses at once) makes every command wait out the socket
timeout. So every such side path asks Redis through this module:

- a client with short timeouts (`HOTLINE_REDIS_SIDE_TIMEOUT`, 0.5 s), not the queue's own
  (5 s, which the workers need);
- after one failure, Redis is skipped by every side path of the process for
  `DOWN_MEMO_SECONDS`: a stalled Redis costs one short wait, then nothing until the memo
  ends and one request tries again. Health probes always try, and end the memo when Redis
  answers (so does the sweep).

The memo is kept per Redis client (the app's `jobs.connection`), so that tests and a second
app with another server do not share it.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from redis import ConnectionPool, Redis
from redis.exceptions import RedisError
from rq import Queue

from hotline.extensions import jobs

log = logging.getLogger(__name__)

SIDE_TIMEOUT_SECONDS = 0.5
DOWN_MEMO_SECONDS = 10.0

T = TypeVar("T")

# Keyed by the app's own client (weakly: an app or a test's client that goes leaves nothing behind).
_down_until: weakref.WeakKeyDictionary[Redis, float] = weakref.WeakKeyDictionary()
_side_clients: weakref.WeakKeyDictionary[Redis, Redis] = weakref.WeakKeyDictionary()
# Keyed by the queue's client too: queues compare (and hash) by name alone.
_side_queues: weakref.WeakKeyDictionary[Redis, dict[str, Queue]] = weakref.WeakKeyDictionary()


class Unavailable(Exception):
    """Redis is not configured, failed moments ago, or failed now: use the fallback."""


def side_client(main: Redis) -> Redis:
    """A client of the same server with short timeouts (its own pool), made once per client."""
    client = _side_clients.get(main)
    if client is None:
        pool = main.connection_pool
        timeout = float(current_app.config.get("HOTLINE_REDIS_SIDE_TIMEOUT", SIDE_TIMEOUT_SECONDS))
        kwargs = dict(pool.connection_kwargs, socket_timeout=timeout, socket_connect_timeout=timeout)
        client = Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))
        _side_clients[main] = client
    return client


def probe_client() -> Redis | None:
    """The side client whatever the memo says (health checks), or None without Redis."""
    main = jobs.connection
    return None if main is None else side_client(main)


def recently_down(main: Redis) -> bool:
    until = _down_until.get(main)
    if until is None:
        return False
    if time.monotonic() < until:
        return True
    _down_until.pop(main, None)
    return False


def mark_down(main: Redis, what: str, error: Exception) -> None:
    already = recently_down(main)  # a health probe while the memo lasts: said already
    _down_until[main] = time.monotonic() + DOWN_MEMO_SECONDS
    if not already:
        log.warning("%s: Redis unavailable (%s); skipping Redis for %d s", what, error, DOWN_MEMO_SECONDS)


def mark_up(main: Redis | None) -> None:
    """Redis answered (a health probe, the sweep): side paths may use it again at once."""
    if main is not None:
        _down_until.pop(main, None)


def _guarded(main: Redis | None, what: str, operation: Callable[[], T]) -> T:
    if main is None:
        raise Unavailable("Redis is not configured")
    if recently_down(main):
        raise Unavailable("Redis failed moments ago")
    try:
        return operation()
    except (RedisError, OSError) as error:
        mark_down(main, what, error)
        raise Unavailable(str(error)) from error


def call(what: str, operation: Callable[[Redis], T]) -> T:
    """`operation` on the side client of the app's Redis; raises Unavailable instead of
    waiting when Redis is absent or down (and remembers a new failure)."""
    main = jobs.connection
    return _guarded(main, what, lambda: operation(side_client(main)))  # type: ignore[arg-type]


def call_queue(what: str, operation: Callable[[Queue], T], bulk: bool = False) -> T:
    """`operation` on the app's queue (the bulk one with `bulk`), bound to the side client: as
    `call`, for enqueueing."""
    queue = jobs.bulk_queue if bulk else jobs.queue
    if queue is None:
        raise Unavailable("Redis is not configured")
    return _guarded(queue.connection, what, lambda: operation(side_queue(queue)))


def side_queue(queue: Queue) -> Queue:
    """The same queue on the short-timeout client."""
    sides = _side_queues.get(queue.connection)
    if sides is None:
        sides = _side_queues[queue.connection] = {}
    side = sides.get(queue.name)
    if side is None:
        side = Queue(queue.name, connection=side_client(queue.connection), serializer=queue.serializer)
        sides[queue.name] = side
    return side
