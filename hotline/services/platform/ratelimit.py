"""A small fixed-window rate limiter: at most N hits per key per window.

With Redis (`jobs.connection`, through `redis_guard`: short timeouts, one memo of
"Redis is down") every process of the hotline shares the counts: INCR and EXPIRE
in one transaction. Without Redis, or while it is down, each process counts alone
in memory: a weaker limit, but still a limit, and the page keeps working. Keys
are hashed, so that no IP address or ticket number is written to Redis in clear.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from flask import current_app

from hotline.services.platform import redis_guard

PREFIX = "hotline:ratelimit"


@dataclass(frozen=True)
class Limit:
    name: str  # what is limited, e.g. "status-ip"; part of the key
    hits: int  # allowed hits per window
    window: int  # seconds


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int  # hits in the current window, this one included
    retry_after: int  # seconds until the window ends


class LocalCounter:
    """Per-process counts, for when there is no Redis. Old windows are dropped as time moves on."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, str], int] = {}
        self._lock = threading.Lock()

    def incr(self, name: str, bucket: int, key: str) -> int:
        with self._lock:
            # Drop the windows that have ended for this limit (a bounded dict, whatever the traffic).
            stale = [k for k in self._counts if k[0] == name and k[1] < bucket]
            for k in stale:
                del self._counts[k]
            slot = (name, bucket, key)
            self._counts[slot] = self._counts.get(slot, 0) + 1
            return self._counts[slot]

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def hit(limit: Limit, key: str, now: float | None = None) -> Verdict:
    """Count one hit for `key` under `limit` and say whether it is within the limit."""
    now = time.time() if now is None else now
    bucket = int(now // limit.window)
    retry_after = max(1, int((bucket + 1) * limit.window - now))
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    count = _redis_incr(limit, bucket, digest)
    if count is None:
        count = local_counter().incr(limit.name, bucket, digest)
    return Verdict(allowed=count <= limit.hits, count=count, retry_after=retry_after)


def _redis_incr(limit: Limit, bucket: int, digest: str) -> int | None:
    name = f"{PREFIX}:{limit.name}:{bucket}:{digest}"

    def incr(client) -> int:
        pipe = client.pipeline(transaction=True)
        pipe.incr(name)
        # A little longer than the window: the key must outlive its last hit, never the window.
        pipe.expire(name, limit.window + 1)
        count, _ = pipe.execute()
        return int(count)

    try:
        return redis_guard.call("rate limit", incr)
    except redis_guard.Unavailable:
        return None


def local_counter() -> LocalCounter:
    """The app's in-process counter (one per app, so tests and a second app do not share counts)."""
    return current_app.extensions.setdefault("hotline_ratelimit", LocalCounter())


def configured(name: str, hits_setting: str, hits: int, window_setting: str, window: int) -> Limit:
    """A limit with these defaults, which the app's config may override by the settings' names."""
    config = current_app.config
    return Limit(name, int(config.get(hits_setting, hits)), int(config.get(window_setting, window)))
