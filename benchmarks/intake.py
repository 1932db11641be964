"""Ticket intake under load: POST /api/v1/tickets beside GET /api/v1/ping, under gunicorn.

    .venv/bin/python benchmarks/intake.py [--database sqlite,postgresql] [--seconds 15]
        [--connections 50] [--workers 2] [--worker-class sync|gthread] [--threads 4]
        [--config production|development] [--routing during|after] [--profile]
    .venv/bin/python benchmarks/intake.py --cpu [--requests 500] [--database sqlite,postgresql] [--profile]

For each database (SQLite: a temporary file; PostgreSQL: a throwaway cluster, as
scripts/test.sh makes one; or a URL of a database that is EMPTIED first) it starts a
throwaway Redis, migrates, loads the demo city with the routing rules of
routing_backlog.py, issues an operator's API token, starts the app under gunicorn
(`--workers` workers) on 127.0.0.1, the RQ workers as `make run` starts them (one
`python -m workers.worker --queue urgent`, one `--queue bulk` at a lower CPU priority) that
route the tickets and send their texts to a fake Twilio meanwhile (`--routing after`:
started once the load is over, so that intake alone is measured, as when the workers run on
other machines; it then routes the pile), and drives with
`wrk` (installed with apt-get if missing and allowed; else a Python asyncio load
generator) at `--connections` connections:

  1. GET /api/v1/ping, the trivial JSON endpoint (no auth, no database), and the same of a
     bare Flask app (benchmarks/bare_flask.py, under the same gunicorn settings): the second
     baseline, what a request costs in Flask before the hotline's hooks;
  2. POST /api/v1/tickets with varied, realistic bodies (real citizen messages,
     categories, districts, phone numbers, 5 % urgent), as an operator.

It prints requests per second, the 50th and 99th percentile latency of each, the ratio
ping/bare Flask (goal: at least 0.9), the ratio intake/trivial (goal: at least 0.25, with
intake's p99 under 100 ms), the
peak memory (VmHWM) of each gunicorn worker and of the RQ workers, and then checks
that every ticket accepted was stored once and routed once. `--profile` runs the
web workers under pyinstrument (HOTLINE_PROFILE_DIR) and prints where intake's time goes.

`--cpu` measures what the load on a shared machine cannot blur: the CPU time per request
(time.process_time) in one process, through the Flask test client, with the production
config (JSON log lines, written to a file), Redis and a fake Twilio configured, on each
database: ping, the floor (POST /bench/floor, added for this run only: the same token check,
the JSON body, one upsert and a commit, a JSON answer: the least an authenticated write
costs in this stack), then intake, `--requests` of each after a warm-up. It prints the CPU
milliseconds of each and the ratio intake/ping (goal: at most 4, which is what a quarter of
ping's throughput needs on CPU-bound workers). With `--profile` it also prints cProfile's
profile of intake (pyinstrument).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, redirect_stderr, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from routing_backlog import free_port, postgres_cluster, redis_server  # noqa: E402

PYTHON = sys.executable
QUEUE_NAME = "bench-intake"
BODIES = 400  # distinct request bodies cycled through
GOAL_RATIO = 0.25
GOAL_P99_MS = 100.0
MEMORY_LIMIT_MB = 200
GOAL_PING_RATIO = 0.9  # ping's rate against the bare Flask app's: the fixed cost of a request
GOAL_CPU_RATIO = 4.0  # intake's CPU per request against ping's: a quarter of the throughput


# --- preparing the database ----------------------------------------------------------------


def prepare(database_url: str, redis_url: str) -> tuple[str, list[str]]:
    """Migrate an empty database, load the city and rules; return an operator token and bodies."""
    from flask_migrate import upgrade
    from routing_backlog import build_city
    from sqlalchemy import select, text

    from config import DevelopmentConfig
    from hotline import create_app
    from hotline.demo import demo
    from hotline.extensions import db
    from hotline.models import Category, District, User
    from hotline.services.accounts.users import issue_token

    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, HOTLINE_RQ_QUEUE=QUEUE_NAME)
    app = create_app(DevelopmentConfig())
    with app.app_context():
        db.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        build_city()
        operator = db.session.scalar(select(User).where(User.username == "operator"))
        token = issue_token(operator)
        by_path = {tuple(c.name for c in reversed(c.lineage())): c.code for c in db.session.scalars(select(Category))}
        districts = db.session.execute(select(District.code, District.name)).all()
        descriptions = [d for d in demo.load_descriptions() if (d.level1, d.level2, d.level3) in by_path]
        db.session.remove()
        db.engine.dispose()
    rng = random.Random(7)
    bodies = []
    for _ in range(BODIES):
        message = rng.choice(descriptions)
        district = rng.choice(districts)
        bodies.append(
            json.dumps(
                {
                    "caller_phone": f"138{rng.randrange(10**8):08d}",
                    "caller_name": rng.choice(["", "张先生", "李女士", "王女士"]),
                    "type": demo._ticket_type(message.text, rng),
                    "category": by_path[(message.level1, message.level2, message.level3)],
                    "district": district.code,
                    "address": rng.choice(["", f"{district.name}人民路{rng.randrange(1, 300)}号"]),
                    "description": message.text.replace("{district}", district.name),
                    "urgency": "urgent" if rng.random() < 0.05 else "normal",
                },
                ensure_ascii=False,
            )
        )
    return token, bodies


# --- processes -------------------------------------------------------------------------------


def start(name: str, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                status = (entry / "status").read_text()
                if re.search(rf"^PPid:\s+{pid}$", status, re.M):
                    found.append(int(entry.name))
    return sorted(found)


def peak_rss_mb(pid: int) -> float | None:
    with suppress(OSError):
        match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
        if match:
            return int(match.group(1)) / 1024
    return None


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log}\n{log.read_text()[-3000:]}")
        with suppress(OSError), opener.open(url, timeout=2):
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


# --- load -------------------------------------------------------------------------------------


def ensure_wrk(install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    return shutil.which("wrk")


WRK_SCRIPT = """
local bodies = {%s}
local headers = {["Authorization"] = "Bearer %s", ["Content-Type"] = "application/json"}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/tickets", headers, bodies[(counter %% #bodies) + 1])
end
local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def _unit_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(wrk: str, url: str, seconds: int, connections: int, script: Path | None) -> dict:
    argv = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _unit_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _unit_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


async def _client(host: str, port: int, requests: list[bytes], deadline: float, latencies: list, stats: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = random.randrange(len(requests))
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        writer.write(requests[index % len(requests)])
        index += 1
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if not status_line.split()[1].startswith(b"2"):
            stats["non_2xx"] += 1
    writer.close()


def run_python(url: str, seconds: int, connections: int, method: str, token: str, bodies: list[str]) -> dict:
    """A keep-alive HTTP/1.1 load generator on asyncio, for when wrk is not there. It is
    slower than wrk and shares the CPU with the server: compare its figures with each other."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    if method == "GET":
        requests = [f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()]
    else:
        requests = []
        for body in bodies:
            data = body.encode()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            requests.append(head.encode() + data)
    latencies: list[float] = []
    stats = {"non_2xx": 0}

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_client(host, port, requests, deadline, latencies, stats) for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    took = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / took,
        "p50": pct(0.5),
        "p99": pct(0.99),
        "requests": len(latencies),
        "non_2xx": stats["non_2xx"],
        "socket_errors": "",
    }


# --- one database ------------------------------------------------------------------------------


def bench_one(label: str, database_url: str, args: argparse.Namespace, workdir: Path, wrk: str | None) -> dict:
    from sqlalchemy import create_engine, text

    from tests import fake_twilio

    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(workdir))
        token, bodies = prepare(database_url, redis_url)
        fake = fake_twilio.FakeTwilio().start()
        stack.callback(fake.stop)
        env = dict(
            os.environ,
            HOTLINE_CONFIG=args.config,
            SECRET_KEY="bench-secret-key",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            HOTLINE_RQ_QUEUE=QUEUE_NAME,
            # The backlog left after the run is swept up in batches sooner (production: 60 s, 120 s).
            HOTLINE_SWEEP_SECONDS="10",
            HOTLINE_SWEEP_GRACE_SECONDS="15",
            TWILIO_ACCOUNT_SID=fake.account_sid,
            TWILIO_AUTH_TOKEN=fake.auth_token,
            TWILIO_FROM_NUMBER=fake_twilio.FROM_NUMBER,
            TWILIO_API_BASE_URL=fake.url,
            PYTHONUNBUFFERED="1",
        )
        if args.profile:
            env["HOTLINE_PROFILE_DIR"] = str(workdir / "profiles")
        port = free_port()
        web_log, worker_log = workdir / f"web-{label}.log", workdir / f"worker-{label}.log"
        web = start("web", gunicorn_argv("run:app", port, args), env, web_log)
        stack.callback(stop, web)
        bare_base = serve_bare(stack, workdir / f"bare-{label}.log", args)

        def start_workers() -> list[subprocess.Popen]:
            """The workers as `make run` starts them (scripts/run.py): one per queue, the bulk one
            at a lower CPU priority (HOTLINE_BULK_NICE), so that the report refresh and hotspots
            of the load's tickets take the CPU that intake and routing leave."""
            started = []
            for queue in ("urgent", "bulk"):
                argv = [PYTHON, "-m", "workers.worker", "--queue", queue]
                started.append(start(f"{queue} worker", argv, env, worker_log.with_suffix(f".{queue}.log")))
                stack.callback(stop, started[-1])
            return started

        if args.routing == "during":
            workers = start_workers()
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/api/v1/ping", web, web_log)
        web_workers = children(web.pid)

        def load(path: str, method: str, seconds: int = args.seconds) -> dict:
            if wrk:
                script = None
                if method == "POST":
                    script = workdir / "intake.lua"
                    quoted = ",".join(f"[==[{body}]==]" for body in bodies)
                    script.write_text(WRK_SCRIPT % (quoted, token))
                return run_wrk(wrk, base + path, seconds, args.connections, script)
            return run_python(base + path, seconds, args.connections, method, token, bodies)

        load("/api/v1/ping", "GET", seconds=3)  # warm-up: imports, first connections
        trivial = load("/api/v1/ping", "GET")
        bare = load_bare(bare_base, args, wrk)
        intake = load("/api/v1/tickets", "POST")
        if args.routing == "after":  # intake alone was measured: now the workers route the pile
            workers = start_workers()
        memory = {f"gunicorn worker {pid}": peak_rss_mb(pid) for pid in web_workers}
        memory[f"gunicorn master {web.pid}"] = peak_rss_mb(web.pid)
        for worker in workers:
            memory[f"rq worker {worker.pid}"] = peak_rss_mb(worker.pid)
        # Let the worker finish routing what intake logged, then check: once, routed once.
        engine = create_engine(database_url)
        deadline = time.monotonic() + 300
        with engine.connect() as connection:
            while time.monotonic() < deadline:
                waiting = connection.execute(text("SELECT count(*) FROM ticket WHERE status = 'new'")).scalar_one()
                connection.commit()
                if not waiting:
                    break
                time.sleep(1)
            counts = connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM ticket),"
                    " (SELECT count(DISTINCT number) FROM ticket),"
                    " (SELECT count(*) FROM ticket_event WHERE kind = 'routed'),"
                    " (SELECT count(DISTINCT ticket_id) FROM ticket_event WHERE kind = 'routed'),"
                    " (SELECT count(*) FROM ticket WHERE status = 'new')"
                )
            ).one()
        engine.dispose()
        for worker in workers:
            memory[f"rq worker {worker.pid}"] = peak_rss_mb(worker.pid) or memory[f"rq worker {worker.pid}"]
        if args.profile:
            stop(web)
            print_profiles(workdir / "profiles")
    tickets, numbers, routed, routed_tickets, waiting = counts
    return {
        "trivial": trivial,
        "bare": bare,
        "intake": intake,
        "memory": memory,
        "tickets": tickets,
        "numbers": numbers,
        "routed": routed,
        "routed_tickets": routed_tickets,
        "waiting": waiting,
    }


def gunicorn_argv(target: str, port: int, args: argparse.Namespace) -> list[str]:
    """gunicorn serving `target` ("module:app") on 127.0.0.1:`port` with the hotline's settings."""
    argv = [PYTHON, "-m", "gunicorn", target, "-c", str(ROOT / "gunicorn.conf.py")]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "-k", args.worker_class]
    argv += ["--max-requests", "0"]  # the same two workers throughout: their peak memory is measured
    if args.worker_class == "gthread":
        argv += ["--threads", str(args.threads)]
    return argv


def serve_bare(stack: ExitStack, log: Path, args: argparse.Namespace) -> str:
    """The second baseline (benchmarks/bare_flask.py: one view, ping's answer, nothing else) under
    the same gunicorn settings; stopped with `stack`. Its base URL, once it answers."""
    port = free_port()
    env = dict(os.environ, HOTLINE_CONFIG="production", PYTHONPATH=str(ROOT / "benchmarks"), PYTHONUNBUFFERED="1")
    bare = start("bare", gunicorn_argv("bare_flask:app", port, args), env, log)
    stack.callback(stop, bare)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/api/v1/ping", bare, log)
    return base


def load_bare(base: str, args: argparse.Namespace, wrk: str | None, seconds: int | None = None) -> dict:
    """GET /api/v1/ping of the bare Flask app, as ping is loaded."""
    seconds = seconds or args.seconds
    if wrk:
        run_wrk(wrk, base + "/api/v1/ping", 1, args.connections, None)  # warm-up: first connections
        return run_wrk(wrk, base + "/api/v1/ping", seconds, args.connections, None)
    return run_python(base + "/api/v1/ping", seconds, args.connections, "GET", "", [])


def print_profiles(directory: Path) -> None:
    """Aggregate what pyinstrument wrote per request (see gunicorn.conf.py) and print it."""
    files = sorted(directory.glob("*.pyisession"))
    if not files:
        print("no profiles written (is pyinstrument installed?)")
        return
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(files[0])
    for path in files[1:]:
        session = Session.combine(session, Session.load(path))
    print(f"\nprofile of {len(files)} intake requests (pyinstrument, all web workers):")
    print(ConsoleRenderer(unicode=True, color=False, show_all=False, time="percent_of_total").render(session))


def report(label: str, result: dict, connections: int) -> bool:
    trivial, bare, intake = result["trivial"], result["bare"], result["intake"]
    ratio = intake["rps"] / trivial["rps"] if trivial["rps"] else 0.0
    print(f"\n== {label}: {connections} connections")
    print(f"{'endpoint':<32}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}")
    rows = (
        ("GET /api/v1/ping (trivial)", trivial),
        ("GET /api/v1/ping, bare Flask", bare),
        ("POST /api/v1/tickets", intake),
    )
    for name, figures in rows:
        print(
            f"{name:<32}{figures['rps']:>10.0f}{figures['p50']:>10.1f}{figures['p99']:>10.1f}"
            f"{figures['requests']:>10}{figures['non_2xx']:>9}"
            + (f"  socket errors: {figures['socket_errors']}" if figures["socket_errors"] else "")
        )
    fixed = trivial["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(
        f"ping/bare Flask: {fixed:.2f} (goal >= {GOAL_PING_RATIO}: {'met' if fixed >= GOAL_PING_RATIO else 'NOT met'}): "
        "the fixed cost of every request, the hooks, session and log line included"
    )
    ok_ratio, ok_p99 = ratio >= GOAL_RATIO, intake["p99"] < GOAL_P99_MS
    print(
        f"intake/trivial: {ratio:.2f} (goal >= {GOAL_RATIO}: {'met' if ok_ratio else 'NOT met'}); "
        f"intake p99 {intake['p99']:.1f} ms (goal < {GOAL_P99_MS:.0f} ms: {'met' if ok_p99 else 'NOT met'})"
    )
    print("peak memory (VmHWM):")
    ok_memory = True
    for name, mb in result["memory"].items():
        over = mb is not None and mb >= MEMORY_LIMIT_MB and "master" not in name
        ok_memory &= not over
        print(f"  {name:<28}{'?' if mb is None else f'{mb:.0f} MB':>8}" + ("  OVER 200 MB" if over else ""))
    once = result["tickets"] == result["numbers"] == result["routed"] == result["routed_tickets"]
    print(
        f"tickets stored: {result['tickets']} ({result['numbers']} distinct numbers), routed events: "
        f"{result['routed']} on {result['routed_tickets']} tickets, still new: {result['waiting']}"
        + ("  -> each stored once, routed once" if once and not result["waiting"] else "  -> MISMATCH")
    )
    return once and not result["waiting"] and intake["non_2xx"] == 0


# --- CPU per request, in one process ---------------------------------------------------------


def cpu_one(database_url: str, args: argparse.Namespace, workdir: Path) -> dict:
    """CPU milliseconds per request of ping and of intake, in this process (test client)."""
    from hotline import create_app
    from hotline.extensions import db
    from tests import fake_twilio

    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(workdir))
        token, bodies = prepare(database_url, redis_url)
        _reset_logging()  # the migrations' logging config: its console handler would log each line twice
        fake = fake_twilio.FakeTwilio().start()
        stack.callback(fake.stop)
        os.environ.update(
            HOTLINE_CONFIG="production",
            SECRET_KEY="bench-secret-key",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            HOTLINE_RQ_QUEUE=QUEUE_NAME,
            TWILIO_ACCOUNT_SID=fake.account_sid,
            TWILIO_AUTH_TOKEN=fake.auth_token,
            TWILIO_FROM_NUMBER=fake_twilio.FROM_NUMBER,
            TWILIO_API_BASE_URL=fake.url,
        )
        from config import ProductionConfig

        app = create_app(ProductionConfig())
        _add_floor_endpoint(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        log = stack.enter_context((workdir / "cpu.log").open("w"))
        stack.enter_context(redirect_stderr(log))  # the JSON lines go to a file, as under gunicorn

        def ping() -> None:
            response = client.get("/api/v1/ping")
            assert response.status_code == 200, response.data

        def floor(i: int) -> None:
            response = client.post("/bench/floor", data=bodies[i % len(bodies)].encode(), headers=headers)
            assert response.status_code == 201, response.data

        def intake(i: int) -> None:
            response = client.post("/api/v1/tickets", data=bodies[i % len(bodies)].encode(), headers=headers)
            assert response.status_code == 201, response.data

        def measure(call, n: int, profile: bool = False) -> tuple[float, float]:
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0001)
            if profiler:
                profiler.start()
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(n):
                call(i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler:
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))
            return cpu * 1000 / n, wall * 1000 / n

        warm = max(20, args.requests // 10)
        measure(lambda i: ping(), warm)
        measure(intake, warm)
        measure(floor, warm)
        ping_cpu, ping_wall = measure(lambda i: ping(), args.requests)
        floor_cpu, floor_wall = measure(floor, args.requests)
        intake_cpu, intake_wall = measure(lambda i: intake(i + warm), args.requests)
        statements = count_statements(app, lambda i: intake(i + warm + args.requests), 20)
        if args.profile:
            measure(lambda i: intake(i + warm + args.requests + 20), min(args.requests, 200), profile=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {
        "ping": (ping_cpu, ping_wall),
        "floor": (floor_cpu, floor_wall),
        "intake": (intake_cpu, intake_wall),
        "statements": statements,
    }


def _add_floor_endpoint(app) -> None:
    """POST /bench/floor, for this benchmark only: the least an authenticated write can cost in
    this stack (the same bearer-token check, the JSON body parsed, one upsert (the day's
    ticket counter) and a commit, a JSON answer). What intake costs above it is intake's own."""
    from flask import Blueprint, request

    from hotline.api.auth import api_roles, api_user
    from hotline.api.responses import json_response
    from hotline.extensions import csrf, db
    from hotline.models.types import utcnow
    from hotline.services.ticketing.numbering import next_ticket_number

    floor = Blueprint("bench_floor", __name__)

    @floor.post("/bench/floor")
    @api_roles()
    def write_once():
        body = request.get_json()
        number = next_ticket_number(utcnow(), app.config["HOTLINE_TIMEZONE"])
        db.session.commit()
        return json_response({"number": number, "by": api_user().username, "fields": len(body)}, 201)

    csrf.exempt(floor)
    app.register_blueprint(floor)


def count_statements(app, call, n: int) -> float:
    """SQL statements per request (apart from the timed runs: counting costs CPU too)."""
    from sqlalchemy import event

    from hotline.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args) -> None:
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for i in range(n):
            call(i)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen) / n


def _reset_logging() -> None:
    import logging

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False


def report_cpu(label: str, result: dict, requests: int) -> bool:
    (ping_cpu, ping_wall), (intake_cpu, intake_wall) = result["ping"], result["intake"]
    ratio = intake_cpu / ping_cpu if ping_cpu else float("inf")
    print(f"\n== {label}: CPU per request, in one process ({requests} requests each)")
    print(f"{'endpoint':<28}{'CPU ms':>10}{'wall ms':>10}")
    print(f"{'GET /api/v1/ping (trivial)':<28}{ping_cpu:>10.2f}{ping_wall:>10.2f}")
    floor_cpu, floor_wall = result["floor"]
    print(f"{'POST /bench/floor (1 write)':<28}{floor_cpu:>10.2f}{floor_wall:>10.2f}")
    print(f"{'POST /api/v1/tickets':<28}{intake_cpu:>10.2f}{intake_wall:>10.2f}")
    print(
        f"the floor (auth, one write, commit) is {floor_cpu / ping_cpu:.1f}x ping; intake {intake_cpu / floor_cpu:.1f}x the floor"
    )
    print(f"SQL statements per intake: {result['statements']:.1f} (COMMIT not counted)")
    ok = ratio <= GOAL_CPU_RATIO
    print(
        f"intake/ping CPU: {ratio:.1f}x (goal <= {GOAL_CPU_RATIO:.0f}x: {'met' if ok else 'NOT met'}); "
        f"throughput ratio at most {1 / ratio:.2f}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql, a URL")
    parser.add_argument("--seconds", type=int, default=15, help="seconds per endpoint (default 15)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--config", default="production", choices=["production", "development"])
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--python-load", action="store_true", help="the Python load generator even if wrk is there")
    parser.add_argument("--profile", action="store_true", help="profile intake with pyinstrument in the web workers")
    parser.add_argument(
        "--routing",
        default="during",
        choices=["during", "after"],
        help="run the RQ workers during the load (default: they share the CPUs) or start them after (intake alone)",
    )
    parser.add_argument("--cpu", action="store_true", help="CPU per request in one process instead of gunicorn")
    parser.add_argument("--requests", type=int, default=500, help="--cpu: requests per endpoint (default 500)")
    args = parser.parse_args(argv)
    if args.cpu:
        return main_cpu(args)

    wrk = None if args.python_load else ensure_wrk(install=not args.no_install)
    print(
        f"load: {'wrk' if wrk else 'Python asyncio generator'}, {args.connections} connections, {args.seconds} s "
        f"per endpoint; gunicorn {args.workers} x {args.worker_class}"
        + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
        + f"; config {args.config}; RQ workers {args.routing} the load; {os.cpu_count()} CPUs",
        flush=True,
    )

    def run(label: str, url: str, workdir: Path) -> bool:
        result = bench_one(label.replace(" ", "-").replace("/", "-"), url, args, workdir, wrk)
        return report(label, result, args.connections)

    return 0 if for_each_database(args.database, "hotline-intake-", run) else 1


def for_each_database(databases: str, prefix: str, run: Callable[[str, str, Path], bool]) -> bool:
    """run(label, url, workdir) on each of the comma-separated databases (sqlite, postgresql: a
    throwaway cluster, or a URL) in a temporary directory removed afterwards; all ok or not."""
    ok = True
    for choice in [c.strip() for c in databases.split(",") if c.strip()]:
        workdir = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            with ExitStack() as stack:
                if choice == "sqlite":
                    url, label = f"sqlite:///{workdir / 'bench.db'}", "SQLite"
                elif choice == "postgresql":
                    url, label = stack.enter_context(postgres_cluster(workdir)), "PostgreSQL"
                else:
                    url, label = choice, choice.split("@")[-1]
                ok &= run(label, url, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return ok


def main_cpu(args: argparse.Namespace) -> int:
    print(f"CPU per request (time.process_time), production config, {os.cpu_count()} CPUs", flush=True)

    def run(label: str, url: str, workdir: Path) -> bool:
        return report_cpu(label, cpu_one(url, args, workdir), args.requests)

    return 0 if for_each_database(args.database, "hotline-intake-cpu-", run) else 1


if __name__ == "__main__":
    sys.exit(main())
