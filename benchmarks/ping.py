"""The fixed cost of a request: GET /api/v1/ping of the hotline against a bare Flask app, under gunicorn.

    .venv/bin/python benchmarks/ping.py [--seconds 5] [--rounds 3] [--connections 50]
        [--workers 2] [--worker-class sync|gthread] [--checkout DIR ...]

Serves, each under its own gunicorn with the hotline's settings (gunicorn.conf.py, `--workers`
workers, production config, JSON log lines to a file): the bare Flask app
(benchmarks/bare_flask.py), this checkout's app, and the app of each `--checkout` (another
tree of the repository, for instance the last commit before a change, made with `git archive
COMMIT | tar -x -C DIR`), all at once but loaded one at a time, in turn, `--rounds` times, so
that a shared machine's load falls on each alike. `wrk` drives `--connections` connections
(a Python generator without wrk). It prints each app's median req/s and the median of its
per-round ratio to the bare app (goal for this checkout: at least 0.9). Many short runs on
127.0.0.1 leave thousands of connections in TIME_WAIT (gunicorn's sync workers close each
one): compare figures of one run, not of runs minutes apart. Ping touches neither
the database nor Redis: the apps get an empty SQLite file and no Redis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from intake import (  # noqa: E402
    GOAL_PING_RATIO,
    PYTHON,
    ensure_wrk,
    free_port,
    run_python,
    run_wrk,
    serve_bare,
    start,
    stop,
    wait_for,
)


def serve_hotline(stack: ExitStack, tree: Path, workdir: Path, args: argparse.Namespace) -> str:
    """The hotline of checkout `tree` under gunicorn (its own gunicorn.conf.py); its base URL."""
    port = free_port()
    log = workdir / f"web-{len(list(workdir.glob('web-*')))}.log"
    env = dict(
        os.environ,
        HOTLINE_CONFIG="production",
        SECRET_KEY="bench-secret-key",
        DATABASE_URL=f"sqlite:///{workdir / 'ping.db'}",
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
    )
    argv = [PYTHON, "-m", "gunicorn", "run:app", "-c", str(tree / "gunicorn.conf.py"), "--chdir", str(tree)]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "-k", args.worker_class]
    argv += ["--max-requests", "0"]
    web = start("web", argv, env, log)
    stack.callback(stop, web)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/api/v1/ping", web, log)
    return base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="seconds per app and round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the medians are printed (default 3)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (default 2)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--checkout", action="append", default=[], help="another tree to serve beside this one")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    args = parser.parse_args(argv)
    wrk = ensure_wrk(install=not args.no_install)
    print(
        f"load: {'wrk' if wrk else 'Python asyncio generator'}, {args.connections} connections, {args.seconds} s "
        f"per app and round, {args.rounds} rounds; gunicorn {args.workers} x {args.worker_class}; {os.cpu_count()} CPUs",
        flush=True,
    )
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hotline-ping-")))
        apps = {"bare Flask": serve_bare(stack, workdir / "bare.log", args)}
        apps["this checkout"] = serve_hotline(stack, ROOT, workdir, args)
        for tree in args.checkout:
            apps[tree] = serve_hotline(stack, Path(tree).resolve(), workdir, args)

        def load(base: str, seconds: int) -> float:
            url = base + "/api/v1/ping"
            if wrk:
                return run_wrk(wrk, url, seconds, args.connections, None)["rps"]
            return run_python(url, seconds, args.connections, "GET", "", [])["rps"]

        for base in apps.values():
            load(base, 1)  # warm-up: imports, first connections
        rates: dict[str, list[float]] = {name: [] for name in apps}
        for round_ in range(args.rounds):
            for name, base in apps.items():
                rates[name].append(load(base, args.seconds))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {r[-1]:.0f}" for n, r in rates.items()), flush=True)
    bare = rates["bare Flask"]
    print(f"\n{'GET /api/v1/ping':<40}{'median req/s':>14}{'/ bare (median)':>17}")
    ok = True
    for name, values in rates.items():
        ratio = statistics.median(v / b for v, b in zip(values, bare, strict=True))
        print(f"{name:<40}{statistics.median(values):>14.0f}{ratio:>17.2f}")
        if name == "this checkout":
            ok = ratio >= GOAL_PING_RATIO
    print(f"this checkout against the bare app: goal >= {GOAL_PING_RATIO}: {'met' if ok else 'NOT met'}")
    return 0  # a goal missed is a figure to read, as in intake.py, not a failed run


if __name__ == "__main__":
    sys.exit(main())
