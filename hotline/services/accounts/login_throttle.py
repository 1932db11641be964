"""Login throttling (OWASP ASVS 2.2.1): guessing is slowed, and nobody can lock another out.

Failed logins within `HOTLINE_LOGIN_WINDOW` seconds (15 minutes) are counted three ways:

- per user name and address together: after `HOTLINE_LOGIN_PAIR_FAILURES` (5), that address
  may not try that name again until the window ends, even with the right password;
- per address, across names: after `HOTLINE_LOGIN_ADDRESS_FAILURES` (20), that address is
  refused (guessing at many accounts from one place);
- per user name, from every address: never a lock. After `HOTLINE_LOGIN_ACCOUNT_FAILURES` (10)
  the account is under attack, and an address that has already failed
  `UNDER_ATTACK_PAIR_FAILURES` times at it is refused, while an address that has not (the
  account's owner at their own desk) still logs in. An attacker spread over many addresses
  gets two guesses per address per window; the owner is never shut out by someone else.

User names are predictable (`dispatcher`, `dept-<code>`): a limit per name alone let a
stranger shut the dispatch desk with five wrong passwords. A good login clears its own
pair's count only (the address's and the name's stay, so one good account cannot reset
guessing at others, nor end an attack on itself).

The counts live in Redis, shared by every gunicorn worker, asked through `redis_guard` (short
timeouts, one memo of "Redis is down"); each window starts at the first failure and ends
`window` seconds later (a key with an expiry). Without Redis, or while it is down, each
process counts alone: weaker, still a limit. Keys are hashed: no user name or address is
written to Redis in clear. Unknown user names are counted like known ones, so the answers tell
nothing about which accounts exist. Every failure is also recorded for supervisors
(`audit.record_failed_login`).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass

from flask import current_app

from hotline.services.accounts import audit
from hotline.services.platform import redis_guard

PREFIX = "hotline:login"
# Under attack, an address may still fail once (a typo) before it is refused.
UNDER_ATTACK_PAIR_FAILURES = 2


@dataclass(frozen=True)
class Block:
    retry_after: int  # seconds until another attempt is allowed

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


@dataclass(frozen=True)
class Limits:
    pair: int
    address: int
    account: int
    window: int


def _limits() -> Limits:
    config = current_app.config
    return Limits(
        pair=int(config.get("HOTLINE_LOGIN_PAIR_FAILURES", 5)),
        address=int(config.get("HOTLINE_LOGIN_ADDRESS_FAILURES", 20)),
        account=int(config.get("HOTLINE_LOGIN_ACCOUNT_FAILURES", 10)),
        window=int(config.get("HOTLINE_LOGIN_WINDOW", 15 * 60)),
    )


def _hashed(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{kind}:{value}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{PREFIX}:{kind}:{digest[:32]}"


def _keys(username: str, address: str) -> tuple[str, str, str]:
    """The keys of (name, address), of the name and of the address."""
    name, where = username.strip().lower(), address or ""
    return _hashed("pair", f"{name}\0{where}"), _hashed("account", name), _hashed("address", where)


def blocked(username: str, address: str) -> Block | None:
    """A Block when this address may not try this name now; None to go ahead."""
    limits = _limits()
    (pair, pair_ttl), (account, account_ttl), (where, where_ttl) = _get(_keys(username, address))
    waits = []
    if pair >= limits.pair:
        waits.append(pair_ttl)
    if where >= limits.address:
        waits.append(where_ttl)
    if account >= limits.account and pair >= UNDER_ATTACK_PAIR_FAILURES:
        waits.append(min(pair_ttl, account_ttl))  # until the attack's window or this address's ends
    return Block(retry_after=max(waits)) if waits else None


def failed(username: str, address: str) -> None:
    """Count one failed login against the pair, the name and the address, and record it."""
    keys, window = _keys(username, address), _limits().window
    try:
        redis_guard.call("login throttle", lambda client: _redis_incr(client, keys, window))
    except redis_guard.Unavailable:
        local_store().incr(keys, window)
    audit.record_failed_login(username, address)


def succeeded(username: str, address: str) -> None:
    """A good password: this address's failures at this name are forgiven."""
    pair = _keys(username, address)[0]
    local_store().delete(pair)
    with contextlib.suppress(redis_guard.Unavailable):
        redis_guard.call("login throttle", lambda client: client.delete(pair))


def _get(keys: tuple[str, ...]) -> list[tuple[int, int]]:
    try:
        return redis_guard.call("login throttle", lambda client: _redis_get(client, keys))
    except redis_guard.Unavailable:
        return local_store().get(keys)


def _redis_get(client, keys: tuple[str, ...]) -> list[tuple[int, int]]:
    pipe = client.pipeline(transaction=True)
    for key in keys:
        pipe.get(key)
        pipe.ttl(key)
    answers = pipe.execute()
    pairs = zip(answers[::2], answers[1::2], strict=True)
    return [(int(raw or 0), max(1, int(ttl)) if raw else 0) for raw, ttl in pairs]


def _redis_incr(client, keys: tuple[str, ...], window: int) -> None:
    pipe = client.pipeline(transaction=True)
    for key in keys:
        # The window starts at the first failure: the expiry is set only by the first one.
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
    pipe.execute()


class LocalStore:
    """Per-process counts with expiry, for when there is no Redis."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()

    def get(self, keys: tuple[str, ...]) -> list[tuple[int, int]]:
        now = time.time()
        with self._lock:
            found = [self._counts.get(key, (0, 0.0)) for key in keys]
        return [(count, max(1, int(expires - now))) if expires > now else (0, 0) for count, expires in found]

    def incr(self, keys: tuple[str, ...], window: int) -> None:
        with self._lock:
            now = time.time()
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}  # drop ended windows
            for key in keys:
                count, expires = self._counts.get(key, (0, now + window))
                self._counts[key] = (count + 1, expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def local_store() -> LocalStore:
    """The app's in-process counts (one per app, so tests and a second app do not share them)."""
    return current_app.extensions.setdefault("hotline_login_throttle", LocalStore())


def clear() -> None:
    """Forget every count (tests, or an administrator after an incident)."""
    local_store().clear()

    def delete_all(client) -> None:
        for key in client.scan_iter(f"{PREFIX}:*"):
            client.delete(key)

    with contextlib.suppress(redis_guard.Unavailable):
        redis_guard.call("login throttle", delete_all)
