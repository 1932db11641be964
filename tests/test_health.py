"""GET /healthz and /readyz: what monitoring and the load balancer see, with Redis up and down."""

from __future__ import annotations

import socket

import pytest
from flask import Flask
from rq import Queue

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.extensions import db
from hotline.models import Status, User
from hotline.services.ticketing import tickets
from tests import factories


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


def _app_with_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> Flask:
    monkeypatch.setenv("TEST_REDIS_URL", url)
    return create_app(_TestingConfig())


@pytest.mark.redis
def test_healthy_with_database_and_redis(client, queue: Queue, bulk_queue: Queue) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok"
    assert data["database"] == {"ok": True}
    assert data["redis"]["ok"] is True
    assert data["queues"] == {queue.name: 0, bulk_queue.name: 0}
    assert data["oldest_job_age_seconds"] is None
    assert data["problems"] == []
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/readyz").status_code == 200


@pytest.mark.redis
def test_queue_depth_and_oldest_job_age(client, city, queue: Queue, bulk_queue: Queue) -> None:
    for _ in range(3):
        tickets.create_ticket(city.operator, factories.intake())
    data = client.get("/healthz").get_json()
    assert data["queues"] == {queue.name: 1, bulk_queue.name: 0}  # one drain job for the three
    assert data["intake_waiting"] == 3
    assert data["oldest_job_age_seconds"] is not None and data["oldest_job_age_seconds"] >= 0
    assert data["oldest_unrouted_ticket_age_seconds"] is not None


@pytest.mark.redis
def test_jobs_waiting_too_long_make_it_degraded(app: Flask, client, city, queue: Queue, monkeypatch) -> None:
    tickets.create_ticket(city.operator, factories.intake())
    monkeypatch.setitem(app.config, "HOTLINE_HEALTH_MAX_JOB_AGE", 1)
    job = queue.jobs[0]
    job.enqueued_at = job.enqueued_at.replace(year=job.enqueued_at.year - 1)
    job.save()
    response = client.get("/healthz")
    assert response.status_code == 503
    data = response.get_json()
    assert data["status"] == "degraded"
    assert data["problems"] == ["oldest job waiting more than 1 s"]
    assert client.get("/readyz").status_code == 200  # still takes tickets: stays in rotation


def test_redis_down_is_degraded_and_intake_still_works(monkeypatch: pytest.MonkeyPatch, city) -> None:
    app = _app_with_redis(monkeypatch, f"redis://127.0.0.1:{_closed_port()}/0")
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    data = response.get_json()
    assert data["status"] == "degraded"
    assert data["database"] == {"ok": True}
    assert data["redis"] == {"ok": False, "error": "ConnectionError"}
    assert data["queues"] == {}
    assert data["problems"] == ["redis unreachable"]
    # The load balancer keeps it: tickets are still accepted, and wait for the sweep.
    assert client.get("/readyz").status_code == 200
    operator_id = city.operator.id
    with app.app_context():
        result = tickets.create_ticket(db.session.get(User, operator_id), factories.intake())
        assert result.ticket.status == Status.NEW and not result.routing_queued
        db.session.remove()


def test_no_redis_configured_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _app_with_redis(monkeypatch, "").test_client()
    data = client.get("/healthz").get_json()
    assert data["redis"] == {"ok": False, "configured": False, "error": "REDIS_URL is not set"}
    assert data["problems"] == ["redis not configured"]


def test_database_down_is_down_for_both(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    client = _app_with_redis(monkeypatch, "").test_client()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503
        data = response.get_json()
        assert data["status"] == "down"
        assert data["database"] == {"ok": False, "error": "OperationalError"}


def test_no_personal_data_and_no_auth(client, city) -> None:
    tickets.create_ticket(city.operator, factories.intake(caller_phone="13800138000", caller_name="张三"))
    response = client.get("/healthz")
    assert response.status_code in (200, 503)  # no login asked for
    body = response.get_data(as_text=True)
    assert "13800138000" not in body and "张三" not in body


def test_ping_is_trivial(client) -> None:
    response = client.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
