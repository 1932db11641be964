"""Public page fixtures: fresh language per request; no routing queue (rate limits: tests/conftest.py)."""

from __future__ import annotations

import flask_babel
import pytest
from flask import g, request_started

from hotline.services.platform import queueing


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
