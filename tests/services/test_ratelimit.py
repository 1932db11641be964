"""The fixed-window limiter, on both backends: the process's own counter and a real Redis."""

from __future__ import annotations

import pytest
from redis import Redis

from hotline.services.platform import ratelimit
from hotline.services.platform.ratelimit import Limit

LIMIT = Limit("test-limit", 3, 60)
T0 = 1_800_000_000.0  # a window boundary: 1_800_000_000 is a multiple of 60


@pytest.fixture
def backend(app, monkeypatch):
    """use("local") or use(connection): make `jobs.connection` what the test needs; counts start at zero."""

    def use(connection):
        monkeypatch.setitem(app.extensions["hotline_jobs"], "connection", None if connection == "local" else connection)
        ratelimit.local_counter().clear()

    yield use
    ratelimit.local_counter().clear()


def test_local_counts_up_to_the_limit_then_refuses(backend):
    backend("local")
    verdicts = [ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.count for v in verdicts] == [1, 2, 3, 4]
    assert verdicts[-1].retry_after == 60 - 3  # until the window ends


def test_local_window_resets_and_keys_and_limits_are_separate(backend):
    backend("local")
    for i in range(4):
        ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + i)
    assert not ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + 59).allowed
    # Another key, another limit: counted on their own.
    assert ratelimit.hit(LIMIT, "10.0.0.2", now=T0 + 59).count == 1
    assert ratelimit.hit(Limit("other", 3, 60), "10.0.0.1", now=T0 + 59).count == 1
    # The next window starts from zero, and the ended window's counts are dropped.
    fresh = ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + 60)
    assert fresh.allowed and fresh.count == 1 and fresh.retry_after == 60
    assert all(
        bucket == int((T0 + 60) // 60) for name, bucket, _ in ratelimit.local_counter()._counts if name == LIMIT.name
    )


def test_local_counter_belongs_to_its_app(app, backend):
    from config import TestingConfig
    from hotline import create_app

    backend("local")
    ratelimit.hit(LIMIT, "10.0.0.1", now=T0)
    other = create_app(TestingConfig())
    other.extensions["hotline_jobs"]["connection"] = None
    with other.app_context():
        assert ratelimit.hit(LIMIT, "10.0.0.1", now=T0).count == 1
    assert ratelimit.hit(LIMIT, "10.0.0.1", now=T0).count == 2


def test_redis_counts_are_shared_and_expire(redis_url, backend):
    connection = Redis.from_url(redis_url)
    backend(connection)
    for key in connection.scan_iter(f"{ratelimit.PREFIX}:test-limit:*"):
        connection.delete(key)
    verdicts = [ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    # The counts live in Redis, not in this process: another process (here, a cleared
    # local counter) sees them, and the local counter never counted.
    ratelimit.local_counter().clear()
    assert ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + 5).count == 5
    assert ratelimit.local_counter()._counts == {}
    keys = list(connection.scan_iter(f"{ratelimit.PREFIX}:test-limit:*"))
    assert len(keys) == 1
    assert b"10.0.0.1" not in keys[0]  # hashed: no IP address in clear in Redis
    assert 0 < connection.ttl(keys[0]) <= LIMIT.window + 1
    connection.delete(*keys)


def test_redis_down_falls_back_to_counting_here(backend, caplog):
    # Nothing listens on port 1: every command fails at once.
    backend(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5, socket_timeout=0.5))
    verdicts = [ratelimit.hit(LIMIT, "10.0.0.1", now=T0 + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert "Redis unavailable" in caplog.text
