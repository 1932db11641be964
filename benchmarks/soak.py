"""Soak test: steady intake for minutes while a worker is killed and Redis is restarted.

    .venv/bin/python benchmarks/soak.py [--minutes 3] [--rate 5] [--database sqlite|postgresql|URL]

Starts on 127.0.0.1: a Redis without persistence (so that its restart loses every queued and
scheduled job, the worst case), the fake Twilio (tests/fake_twilio.py), the app under
gunicorn (2 workers, production config), and 2 RQ workers (`python -m workers.worker`), with
the sweep shortened to every 10 s and a 15 s grace (HOTLINE_SWEEP_SECONDS,
HOTLINE_SWEEP_GRACE_SECONDS; production keeps 60 s and 120 s). Then it logs tickets through
`POST /api/v1/tickets` at `--rate` per second for `--minutes`, and meanwhile:

  - at a quarter of the time, kills one RQ worker with SIGKILL (its work horse and scheduler
    with it, as if its machine died) and starts it again 5 s later;
  - at half the time, kills Redis (SIGKILL), keeps logging tickets for 15 s without it (the
    API must still accept them: they are committed first), and starts it again.

Like systemd's Restart=always (docs/production.md), it starts again a worker that exits by
itself: an RQ worker quits when Redis goes away while it runs a job. When intake ends it
waits for the sweep to route and send what waited (at most 5 minutes),
then checks and prints: every ticket the API accepted exists once, has exactly one `routed`
event, and has one `created` text in the outbox, sent to Twilio at most once; and how many
sweeps ran (one chain, though two workers schedule it). Exits non-zero on any mismatch.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from intake import QUEUE_NAME, prepare, start, stop, wait_for  # noqa: E402
from routing_backlog import free_port, postgres_cluster, redis_binary  # noqa: E402

PYTHON = sys.executable
SWEEP_SECONDS, GRACE_SECONDS = 10, 15
REDIS_DOWN_SECONDS = 15
CATCH_UP_TIMEOUT = 300


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class RedisProcess:
    """redis-server on a fixed port, which can be killed and started again there."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis

        client = Redis(port=self.port, socket_connect_timeout=1)
        for _ in range(200):
            with suppress(Exception):
                if client.ping():
                    client.close()
                    return
            time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Intake(threading.Thread):
    """Posts one ticket every 1/rate seconds (a steady rate, not as fast as possible)."""

    def __init__(self, port: int, token: str, bodies: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.bodies, self.rate = port, token, bodies, rate
        self.accepted: list[str] = []  # ticket numbers the API answered 201 for
        self.not_queued = 0  # accepted while Redis was down: routing_queued false
        self.failures: Counter = Counter()
        self.latencies: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        index, next_at = 0, time.monotonic()
        while not self.stopping.is_set():
            body = self.bodies[index % len(self.bodies)].encode()
            index += 1
            started = time.monotonic()
            try:
                connection.request("POST", "/api/v1/tickets", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if response.status == 201:
                    data = json.loads(payload)
                    self.accepted.append(data["number"])
                    self.not_queued += not data.get("routing_queued", True)
                else:
                    self.failures[f"HTTP {response.status}"] += 1
            except (OSError, http.client.HTTPException) as error:
                self.failures[type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.latencies.append(time.monotonic() - started)
            next_at += 1 / self.rate
            self.stopping.wait(max(0.0, next_at - time.monotonic()))


def worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return start("worker", [PYTHON, "-m", "workers.worker"], env, log)


def kill_group(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the worker, its work horse and its scheduler
    process.wait()


def counts(database_url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:

        def scalar(sql: str) -> int:
            return connection.execute(text(sql)).scalar_one()

        result = {
            "tickets": scalar("SELECT count(*) FROM ticket"),
            "new": scalar("SELECT count(*) FROM ticket WHERE status = 'new'"),
            "routed_events": scalar("SELECT count(*) FROM ticket_event WHERE kind = 'routed'"),
            "tickets_routed_twice": scalar(
                "SELECT count(*) FROM (SELECT ticket_id FROM ticket_event WHERE kind = 'routed'"
                " GROUP BY ticket_id HAVING count(*) > 1) AS twice"
            ),
            "created_texts": scalar("SELECT count(*) FROM outbound_message WHERE kind = 'created'"),
            "tickets_with_two_texts": scalar(
                "SELECT count(*) FROM (SELECT ticket_id FROM outbound_message WHERE kind = 'created'"
                " GROUP BY ticket_id HAVING count(*) > 1) AS twice"
            ),
            "numbers": [row[0] for row in connection.execute(text("SELECT number FROM ticket"))],
            "text_status": dict(
                connection.execute(text("SELECT status, count(*) FROM outbound_message GROUP BY status")).all()
            ),
        }
    engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="minutes of intake (default 3)")
    parser.add_argument("--rate", type=float, default=5.0, help="tickets per second (default 5)")
    parser.add_argument("--database", default="sqlite", help="sqlite (temp file), postgresql (throwaway), or a URL")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="hotline-soak-"))
    try:
        with ExitStack() as stack:
            if args.database == "sqlite":
                database_url = f"sqlite:///{workdir / 'soak.db'}"
            elif args.database == "postgresql":
                database_url = stack.enter_context(postgres_cluster(workdir))
            else:
                database_url = args.database
            return soak(args, workdir, database_url, stack)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def soak(args: argparse.Namespace, workdir: Path, database_url: str, stack: ExitStack) -> int:
    from tests import fake_twilio

    redis = RedisProcess(workdir)
    redis.start()
    stack.callback(redis.kill)
    token, bodies = prepare(database_url, redis.url)
    fake = fake_twilio.FakeTwilio().start()
    stack.callback(fake.stop)
    env = dict(
        os.environ,
        HOTLINE_CONFIG="production",
        SECRET_KEY="soak-secret-key",
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        HOTLINE_RQ_QUEUE=QUEUE_NAME,
        HOTLINE_SWEEP_SECONDS=str(SWEEP_SECONDS),
        HOTLINE_SWEEP_GRACE_SECONDS=str(GRACE_SECONDS),
        TWILIO_ACCOUNT_SID=fake.account_sid,
        TWILIO_AUTH_TOKEN=fake.auth_token,
        TWILIO_FROM_NUMBER=fake_twilio.FROM_NUMBER,
        TWILIO_API_BASE_URL=fake.url,
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    web_log = workdir / "web.log"
    web = start("web", [PYTHON, "-m", "gunicorn", "run:app", "-c", str(ROOT / "gunicorn.conf.py"),
                        "--bind", f"127.0.0.1:{port}", "--workers", "2"], env, web_log)  # fmt: skip
    stack.callback(stop, web)
    logs = [workdir / "worker-1.log", workdir / "worker-2.log"]
    workers = [worker(env, logs[0]), worker(env, logs[1])]
    stack.callback(lambda: [stop(w) for w in workers])
    wait_for(f"http://127.0.0.1:{port}/api/v1/ping", web, web_log)
    say(f"app on 127.0.0.1:{port} (gunicorn, 2 workers), 2 RQ workers, Redis {redis.url}, database {database_url}")

    duration = args.minutes * 60
    intake = Intake(port, token, bodies, args.rate)
    began = time.monotonic()
    intake.start()
    say(f"intake: {args.rate:g} tickets/s for {args.minutes:g} min")
    restarts = []  # workers that exited by themselves and were started again (as systemd would)
    paused = set()  # the worker we killed on purpose, while it stays down

    def supervise() -> None:
        for index, process in enumerate(workers):
            if index not in paused and process.poll() is not None:
                restarts.append(f"worker {index + 1} exited with {process.returncode}")
                say(f"worker {index + 1} (pid {process.pid}) exited with code {process.returncode}: starting it again")
                workers[index] = worker(env, logs[index])

    def until(moment: float) -> None:
        while time.monotonic() < moment:
            supervise()
            time.sleep(0.5)

    until(began + duration * 0.25)
    say(f"kill -9 worker 1 (pid {workers[0].pid}, with its work horse and scheduler)")
    paused.add(0)
    kill_group(workers[0])
    until(time.monotonic() + 5)
    workers[0] = worker(env, logs[0])
    paused.clear()
    say(f"worker 1 started again (pid {workers[0].pid})")
    until(began + duration * 0.5)
    say(f"kill -9 Redis; intake goes on without it for {REDIS_DOWN_SECONDS} s")
    before = len(intake.accepted)
    redis.kill()
    until(time.monotonic() + REDIS_DOWN_SECONDS)
    redis.start()
    say(f"Redis started again (empty): {len(intake.accepted) - before} tickets accepted while it was down")
    until(began + duration)
    intake.stopping.set()
    intake.join()
    say(f"intake stopped: {len(intake.accepted)} tickets accepted, failures: {dict(intake.failures) or 'none'}")

    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        state = counts(database_url)
        waiting_texts = sum(n for s, n in state["text_status"].items() if s in ("queued", "sending"))
        if (not state["new"] and not waiting_texts) or time.monotonic() > deadline:
            break
        until(time.monotonic() + 2)
    say(f"caught up {time.monotonic() - began - duration:.0f} s after intake stopped")
    stop(web)
    for process in workers:
        stop(process)

    accepted = Counter(intake.accepted)
    stored = Counter(state["numbers"])
    sent = Counter()
    for message in fake.messages():
        found = re.search(r"\d{8}-\d{6}", message.get("Body", ""))
        sent[found.group(0) if found else "?"] += 1
    sweeps = sum(log.read_text(errors="replace").count('"sweep: ') for log in logs)
    latencies = sorted(intake.latencies)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731

    checks = {
        "every accepted ticket stored once": set(accepted) <= set(stored)
        and all(n == 1 for n in stored.values())
        and all(n == 1 for n in accepted.values()),
        "no ticket stored that the API did not accept": set(stored) == set(accepted),
        "every ticket routed exactly once": state["routed_events"] == state["tickets"]
        and not state["tickets_routed_twice"]
        and not state["new"],
        "one 'created' text per ticket": state["created_texts"] == state["tickets"]
        and not state["tickets_with_two_texts"],
        "no text sent to Twilio twice": all(n == 1 for n in sent.values()),
    }
    print()
    print(f"tickets accepted by the API:      {len(intake.accepted)} ({intake.not_queued} with routing not queued)")
    print(f"intake failures:                  {dict(intake.failures) or 0}")
    print(f"intake latency p50 / p99:         {p(0.5):.0f} ms / {p(0.99):.0f} ms")
    print(f"tickets in the database:          {state['tickets']} ({len(stored)} distinct numbers)")
    print(f"still new (not routed):           {state['new']}")
    print(f"routed events:                    {state['routed_events']} (tickets routed twice: "
          f"{state['tickets_routed_twice']})")  # fmt: skip
    print(f"'created' texts in the outbox:    {state['created_texts']} (tickets with two: "
          f"{state['tickets_with_two_texts']})")  # fmt: skip
    print(f"texts by status:                  {state['text_status']}")
    print(f"texts received by (fake) Twilio:  {sum(sent.values())} for {len(sent)} tickets")
    print(f"sweeps run (2 workers):           {sweeps} in {(time.monotonic() - began):.0f} s, every {SWEEP_SECONDS} s")
    print(f"workers restarted after exiting:  {len(restarts)} {restarts or ''}")
    print()
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
