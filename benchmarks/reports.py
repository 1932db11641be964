"""Supervisors' reports at the scale of a big hotline: dashboard and API latency, and a full rebuild.

    .venv/bin/python benchmarks/reports.py [--tickets 200000] [--days 730]
        [--db sqlite|postgresql|both] [--requests 30] [--warmups 3] [--seed S]

For each database: a fresh one (SQLite: a file in a temporary directory; PostgreSQL: a
throwaway cluster as `scripts/test.sh` makes one, or the EMPTY database named by
HOTLINE_BENCH_POSTGRES_URL), `flask db upgrade`, then in separate processes, each timed
with its own peak memory (os.wait4):

  1. `flask seed-load --tickets N --no-rebuild` (the demo city, then N tickets);
  2. `flask reports rebuild` (every day's figures from the tickets);

then gunicorn (1 worker, 127.0.0.1, production config) and plain HTTP requests: after
the warm-ups, each URL is asked `--requests` times in turn and the median and 95th
percentile are printed beside the baseline, a trivial request through the same app and
database (GET /api/v1/districts: the token lookup and a 12-row SELECT), and a bare
`SELECT 1` on the same database from this process. See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.routing_backlog import free_port, postgres_cluster  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "hotline-demo"  # the demo city's (hotline/demo/demo.py DEMO_PASSWORD)
DRILL_KEY = "city-management"  # a department of the demo city
TIMEOUT = 3 * 3600  # seconds: a hung step must not hang the benchmark forever


# --- processes ---------------------------------------------------------------------------------


def run_measured(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """Run a command to the end; its wall seconds, its own peak RSS in MiB, and its output."""
    started = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    output = log.read_text()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output  # Linux: kilobytes


def flask(*args: str) -> list[str]:
    return [str(BIN / "flask"), "--app", "hotline", *args]


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """The web app under gunicorn, one worker on a free port of 127.0.0.1."""
    import requests

    port = free_port()
    out = open(log, "w")  # noqa: SIM115 (closed below, with the server)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "run:app", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "600"],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a busy machine boots the worker slowly
        while True:
            with suppress(requests.RequestException):
                if requests.get(f"{base}/login", timeout=30).status_code == 200:
                    break
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {log}")
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within 3 minutes")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
    elif os.environ.get("HOTLINE_BENCH_POSTGRES_URL"):
        yield os.environ["HOTLINE_BENCH_POSTGRES_URL"]
    else:
        with postgres_cluster(workdir) as url:
            yield url


# --- measuring ---------------------------------------------------------------------------------


def login(base: str, username: str = "supervisor"):
    """A requests session signed in as a demo user, the supervisor by default (CSRF token from the form)."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    data = {"username": username, "password": PASSWORD, "next": ""}
    if found:
        data["csrf_token"] = found.group(1)
    response = session.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {username}: HTTP {response.status_code}")
    return session


def timed(session, url: str, headers: dict[str, str] | None = None) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = session.get(url, headers=headers or {}, timeout=600, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, len(response.content)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * 0.95
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(
    targets: list[tuple[str, object, str, dict[str, str]]], requests_count: int, warmups: int
) -> dict[str, tuple[float, float, int, int]]:
    """Median and p95 in ms per target (with its HTTP status and body size); the targets are
    asked in turn, round after round, so that a slow patch of the machine hits them all."""
    for _name, session, url, headers in targets:
        for _ in range(warmups):
            timed(session, url, headers)
    times: dict[str, list[float]] = {name: [] for name, *_ in targets}
    last: dict[str, tuple[int, int]] = {}
    for _ in range(requests_count):
        for name, session, url, headers in targets:
            elapsed, status, size = timed(session, url, headers)
            times[name].append(elapsed)
            last[name] = (status, size)
    return {name: (statistics.median(v), p95(v), *last[name]) for name, v in times.items()}


def select_one(url: str, count: int) -> tuple[float, float]:
    """A bare SELECT 1 through SQLAlchemy on the same database, from this process."""
    from sqlalchemy import create_engine, text

    from config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    times = []
    with engine.connect() as connection:
        for index in range(count + 3):
            started = time.perf_counter()
            connection.execute(text("SELECT 1")).scalar()
            if index >= 3:
                times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return statistics.median(times), p95(times)


# --- one database --------------------------------------------------------------------------------


def bench(kind: str, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-reports-"))
    try:
        with database(kind, workdir) as url:
            _bench(kind, url, workdir, args)
    finally:
        if args.keep:
            print(f"kept {workdir} (logs; the SQLite database)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _bench(kind: str, url: str, workdir: Path, args: argparse.Namespace) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOTLINE_CONFIG": "production",
        "SECRET_KEY": "benchmark-only-secret",
        "HOTLINE_SECURE_COOKIES": "false",  # plain HTTP on 127.0.0.1
        "REDIS_URL": "",
        "FLASK_DEBUG": "0",
    }
    if args.existing:  # measure a database loaded and rebuilt before (e.g. 10M tickets, hours apart)
        print(f"\n== {kind}: the existing database {url.split('@')[-1]}", flush=True)
        rebuild_figures = None
    else:
        rebuild_figures = _load(url, env, workdir, args)
    _s, _p, output = run_measured(flask("users", "token", "supervisor"), env, workdir / "token.log")
    token = output.strip().splitlines()[-1]
    _measure(kind, url, env, workdir, args, token, rebuild_figures)


def _load(url: str, env: dict[str, str], workdir: Path, args: argparse.Namespace) -> tuple[float, float]:
    print(f"\n== {url.split(':')[0]}: {args.tickets:,} tickets over {args.days} days", flush=True)
    run_measured(flask("db", "upgrade"), env, workdir / "upgrade.log")
    load_args = ["seed-load", "--tickets", str(args.tickets), "--days", str(args.days), "--seed", str(args.seed)]
    seconds, peak, output = run_measured(flask(*load_args, "--no-rebuild"), env, workdir / "load.log")
    loaded = next((line for line in output.splitlines() if line.startswith("loaded ")), "")
    print(f"seed-load: {seconds:.1f} s wall, peak {peak:.0f} MiB; {loaded}", flush=True)
    seconds, peak, output = run_measured(flask("reports", "rebuild", "--quiet"), env, workdir / "rebuild.log")
    rebuilt = output.strip().splitlines()[-1]
    print(f"rebuild:   {seconds:.1f} s wall, peak {peak:.0f} MiB (wait4); it printed: {rebuilt}", flush=True)
    if url.startswith("sqlite"):
        size = (workdir / "bench.db").stat().st_size
        print(f"database file: {size / 2**30:.2f} GiB", flush=True)
    return seconds, peak


def _measure(
    kind: str,
    url: str,
    env: dict[str, str],
    workdir: Path,
    args: argparse.Namespace,
    token: str,
    rebuild_figures: tuple[float, float] | None,
) -> None:

    today = datetime.now(ZoneInfo(env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"))).date()
    last30 = today - timedelta(days=29)
    last366 = today - timedelta(days=365)
    # Ten years (3653 days: three leap days at most), read from week and month rows; run with
    # --days 3650 for ten years of tickets behind them.
    last10y = today - timedelta(days=3652)
    bearer = {"Authorization": f"Bearer {token}"}

    def span(start: date, end: date) -> str:
        return f"from={start.isoformat()}&to={end.isoformat()}"

    with gunicorn(env, workdir / "gunicorn.log") as base:
        import requests

        web = login(base)
        api = requests.Session()
        page = "/reports/response-times"
        targets: list[tuple[str, object, str, dict[str, str]]] = [
            ("baseline: API districts (trivial query)", api, f"{base}/api/v1/districts", bearer),
            # The dashboard's presets; a page without them shows its default (the last 30 days).
            ("page: this month", web, f"{base}{page}?range=month", {}),
            ("page: 30 days by department", web, f"{base}{page}?range=30d&group_by=department", {}),
            ("page: 30 days by category", web, f"{base}{page}?range=30d&group_by=category", {}),
            ("API: 30 days by department", api, f"{base}/api/v1{page}?{span(last30, today)}", bearer),
            # Every category per day is over 9,000 rows: a page of the default 1,000, the last page
            # (how a client paging through the whole answer ends), and the first level only.
            (
                "API: 30 days, every category per day, p.1",
                api,
                f"{base}/api/v1{page}?{span(last30, today)}&group_by=category&period=day",
                bearer,
            ),
            (
                "API: ... the same, page 9",
                api,
                f"{base}/api/v1{page}?{span(last30, today)}&group_by=category&period=day&page=9",
                bearer,
            ),
            (
                "API: 30 days, 1st-level categories per day",
                api,
                f"{base}/api/v1{page}?{span(last30, today)}&group_by=category&period=day&level=1",
                bearer,
            ),
            ("API: 366 days by department", api, f"{base}/api/v1{page}?{span(last366, today)}", bearer),
            ("API: ten years by department", api, f"{base}/api/v1{page}?{span(last10y, today)}", bearer),
            (
                "API: ten years, departments per month",
                api,
                f"{base}/api/v1{page}?{span(last10y, today)}&period=month",
                bearer,
            ),
            (
                "API: ten years, city per week",
                api,
                f"{base}/api/v1{page}?{span(last10y, today)}&group_by=all&period=week",
                bearer,
            ),
            ("page: ten years, monthly trend", web, f"{base}{page}?{span(last10y, today)}&trend=month", {}),
        ]
        # The drill-down behind one figure: the biggest department's tickets received in 30 days.
        drill = f"{base}/reports/tickets?{span(last30, today)}&group_by=department&key={DRILL_KEY}&measure=received"
        targets.append(("page: drill-down, 1st page (30 days)", web, drill, {}))
        skipped = []
        for target in list(targets):
            name, session, address, headers = target
            status = session.get(address, headers=headers, timeout=600, allow_redirects=False).status_code
            if status != 200:
                if name.startswith(("baseline", "API")):
                    raise SystemExit(f"{name}: HTTP {status} for {address}")
                skipped.append(f"{name}: HTTP {status} for {address.removeprefix(base)}, skipped (not measured)")
                targets.remove(target)
        load_before = os.getloadavg()[0]
        results = measure(targets, args.requests, args.warmups)
        load_after = os.getloadavg()[0]
        one = select_one(url, args.requests)

    baseline = results[targets[0][0]][0]
    print(
        f"\n{kind}, {'the existing database' if args.existing else f'{args.tickets:,} tickets'}; {args.requests} requests each after {args.warmups} warm-ups "
        f"(load average {load_before:.1f} before, {load_after:.1f} after)"
    )
    print(f"{'':42} {'median ms':>10} {'p95 ms':>9} {'x baseline':>11} {'KiB':>8}")
    for name, (median, high, _status, size) in results.items():
        print(f"{name:42} {median:10.1f} {high:9.1f} {median / baseline:10.1f}x {size / 1024:8.1f}")
    print(f"{'SELECT 1 from the benchmark process':42} {one[0]:10.2f} {one[1]:9.2f}")
    for line in skipped:
        print(line)
    worst = max(median for name, (median, *_rest) in results.items() if not name.startswith("baseline"))
    print(f"slowest report median {worst:.0f} ms (goal < 300 ms at 10,000,000 tickets)")
    if rebuild_figures:
        print(f"full rebuild {rebuild_figures[0]:.1f} s, peak {rebuild_figures[1]:.0f} MiB (goal < 1024 MiB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets to load (default 200,000)")
    parser.add_argument("--days", type=int, default=730, help="over how many days (default 730)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL (default 30)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests per URL first (default 3)")
    parser.add_argument("--seed", type=int, default=20231)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, SQLite file)")
    parser.add_argument(
        "--existing",
        metavar="DATABASE_URL",
        help="measure this database, already loaded with seed-load and rebuilt, instead of loading one",
    )
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.requests < 1:
        parser.error("--tickets and --requests must be at least 1")
    started = time.perf_counter()
    if args.existing:
        workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-reports-"))
        kind = "postgresql" if args.existing.startswith("postgresql") else "sqlite"
        try:
            _bench(kind, args.existing, workdir, args)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"\ndone in {time.perf_counter() - started:.0f} s")
        return
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        bench(kind, args)
    print(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
