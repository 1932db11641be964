"""Login throttling: failed logins are counted per account and per address.

After `HOTLINE_LOGIN_ACCOUNT_FAILURES` (default 5) failures for one user name within
`HOTLINE_LOGIN_WINDOW` seconds (default 15 minutes), or `HOTLINE_LOGIN_ADDRESS_FAILURES`
(default 20) from one address, further attempts are refused until the window ends, even
with the right password: guessing gains nothing. A success clears the account's count (the
address's stays, so one good account cannot be used to reset guessing at others).

The counts live in Redis, shared by every gunicorn worker; each window starts at the first
failure and ends `window` seconds later (a key with an expiry). Without Redis, or while it
is down, each process counts alone (`ratelimit.local_counter`'s idea): weaker, still a limit.
Keys are hashed: no user name or address is written to Redis in clear. Unknown user names are
counted like known ones, so the answers tell nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from hotline.extensions import jobs

PREFIX = "hotline:login"


@dataclass(frozen=True)
class Block:
    retry_after: int  # seconds until another attempt is allowed

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


def _settings() -> tuple[int, int, int]:
    config = current_app.config
    return (
        int(config.get("HOTLINE_LOGIN_ACCOUNT_FAILURES", 5)),
        int(config.get("HOTLINE_LOGIN_ADDRESS_FAILURES", 20)),
        int(config.get("HOTLINE_LOGIN_WINDOW", 15 * 60)),
    )


def _keys(username: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256(("account:" + username.strip().lower()).encode("utf-8", "surrogatepass")).hexdigest()
    where = hashlib.sha256(("address:" + (address or "")).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{PREFIX}:account:{account[:32]}", f"{PREFIX}:address:{where[:32]}"


def blocked(username: str, address: str) -> Block | None:
    """A Block when this account or this address has used up its failures; None to go ahead."""
    account_limit, address_limit, _window = _settings()
    account_key, address_key = _keys(username, address)
    waits = []
    for key, limit in ((account_key, account_limit), (address_key, address_limit)):
        count, ttl = _store().get(key)
        if count >= limit:
            waits.append(ttl)
    return Block(retry_after=max(waits)) if waits else None


def failed(username: str, address: str) -> None:
    """Count one failed login against the account and the address."""
    _account, _address, window = _settings()
    for key in _keys(username, address):
        _store().incr(key, window)


def succeeded(username: str) -> None:
    """A good password: the account's failures are forgiven."""
    _store().delete(_keys(username, "")[0])


class LocalStore:
    """Per-process counts with expiry, for when there is no Redis."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, int]:
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            now = time.time()
            if expires <= now:
                return 0, 0
            return count, max(1, int(expires - now))

    def incr(self, key: str, window: int) -> None:
        with self._lock:
            now = time.time()
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}  # drop ended windows
            count, expires = self._counts.get(key, (0, now + window))
            self._counts[key] = (count + 1, expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisStore:
    def __init__(self, fallback: LocalStore) -> None:
        self.fallback = fallback

    def get(self, key: str) -> tuple[int, int]:
        try:
            pipe = jobs.connection.pipeline(transaction=True)
            pipe.get(key)
            pipe.ttl(key)
            raw, ttl = pipe.execute()
        except (RedisError, OSError) as error:
            _warn(error)
            return self.fallback.get(key)
        return int(raw or 0), (max(1, int(ttl)) if raw else 0)

    def incr(self, key: str, window: int) -> None:
        try:
            pipe = jobs.connection.pipeline(transaction=True)
            # The window starts at the first failure: the expiry is set only by the first one.
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
            pipe.execute()
        except (RedisError, OSError) as error:
            _warn(error)
            self.fallback.incr(key, window)

    def delete(self, key: str) -> None:
        try:
            jobs.connection.delete(key)
        except (RedisError, OSError) as error:
            _warn(error)
        self.fallback.delete(key)


def _warn(error: Exception) -> None:
    current_app.logger.warning("login throttle: Redis unavailable (%s); counting in this process", error)


def local_store() -> LocalStore:
    """The app's in-process counts (one per app, so tests and a second app do not share them)."""
    return current_app.extensions.setdefault("hotline_login_throttle", LocalStore())


def _store() -> LocalStore | RedisStore:
    if jobs.connection is None:
        return local_store()
    return RedisStore(local_store())


def clear() -> None:
    """Forget every count (tests, or an administrator after an incident)."""
    local_store().clear()
    connection = jobs.connection
    if connection is not None:
        try:
            for key in connection.scan_iter(f"{PREFIX}:*"):
                connection.delete(key)
        except (RedisError, OSError) as error:
            _warn(error)
