"""Public page fixtures: fresh language and rate-limit state per request and test; no routing queue."""

from __future__ import annotations

import flask_babel
import pytest
from flask import g, request_started
from redis.exceptions import RedisError

from hotline.extensions import jobs
from hotline.services import queueing, ratelimit


@pytest.fixture(autouse=True)
def _fresh_request_caches(app):
    """Each request picks its own language, as in production (the tests share one app context)."""

    def reset(sender, **extra):
        g.pop("_login_user", None)
        flask_babel.refresh()

    request_started.connect(reset, app)
    yield
    request_started.disconnect(reset, app)


@pytest.fixture(autouse=True)
def _no_routing_queue(monkeypatch):
    """Tickets are routed by calling the service; nothing goes to Redis."""
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)


@pytest.fixture(autouse=True)
def fresh_limits(app):
    """Every test starts with no look-ups counted, in this process and in Redis (when `make test` runs one)."""
    clear_limits()
    yield
    clear_limits()


def clear_limits() -> None:
    ratelimit.local_counter().clear()
    connection = jobs.connection
    if connection is not None:
        try:
            for key in connection.scan_iter(f"{ratelimit.PREFIX}:*"):
                connection.delete(key)
        except RedisError:
            pass
