"""The fixed cost of a request: GET /api/v1/ping of the hotline against a bare Flask app, under gunicorn.

    .venv/bin/python benchmarks/ping.py [--seconds 5] [--rounds 3] [--connections 50]
        [--workers 2] [--worker-class sync|gthread] [--checkout DIR ...]
    .venv/bin/python benchmarks/ping.py --cpu [--requests 2000] [--repeats 5] [--rounds 3]
        [--checkout DIR ...] [--profile]

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

`--cpu` measures what the load of a shared machine blurs least: the CPU time (process_time) of
the WSGI call itself, no HTTP and no test client, in one process per app with the same
environment as under gunicorn (production config, PYTHONUNBUFFERED, the JSON lines written to
a file through file descriptor 2, as gunicorn's stderr is). Each app runs in its own child process, the apps
in turn, `--rounds` times; each child prints the best of `--repeats` runs of `--requests`
pings. It prints the median microseconds per ping and per-round ratio to the bare app.
`--profile` prints cProfile's view of this checkout's pings instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


# --- CPU per ping in one process (--cpu) ------------------------------------------------------


def cpu_child(tree: str, requests: int, repeats: int, profile: bool) -> None:
    """Runs in a child process: load the app of `tree` ("bare": benchmarks/bare_flask.py) and
    print the best microseconds of CPU per ping over `repeats` runs of `requests` WSGI calls."""
    import atexit
    import io
    import shutil

    workdir = Path(tempfile.mkdtemp(prefix="hotline-ping-cpu-"))
    atexit.register(shutil.rmtree, workdir, True)
    os.environ.update(
        HOTLINE_CONFIG="production",
        SECRET_KEY="bench-secret-key",
        DATABASE_URL=f"sqlite:///{workdir / 'ping.db'}",
        REDIS_URL="",
    )
    # The JSON lines to a file through fd 2, as gunicorn's stderr goes to its log file.
    log = os.open(workdir / "stderr.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    real_stderr = os.dup(2)
    os.dup2(log, 2)
    if tree == "bare":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bare_flask import app
    else:
        os.chdir(tree)
        sys.path.insert(0, tree)
        from run import app
    base = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/v1/ping",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        statuses.append(status)

    def pings(n: int) -> None:
        for _ in range(n):
            body = app(dict(base), start_response)
            b"".join(body)
            close = getattr(body, "close", None)
            if close:
                close()

    pings(200)  # warm-up: first-request work, caches
    assert statuses[-1].startswith("200"), statuses[-1]
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(pings, requests)
        os.dup2(real_stderr, 2)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(45)
        profiler.dump_stats(os.environ.get("PING_PROFILE_OUT", str(workdir / "ping.prof")))
        return
    best = min(_timed(pings, requests) for _ in range(repeats))
    print(f"{best * 1e6 / requests:.2f}")


def _timed(call, n: int) -> float:
    started = time.process_time()
    call(n)
    return time.process_time() - started


def main_cpu(args: argparse.Namespace) -> int:
    trees = {"bare Flask": "bare", "this checkout": str(ROOT)}
    trees.update({tree: str(Path(tree).resolve()) for tree in args.checkout})
    child = [PYTHON, str(Path(__file__).resolve()), "--cpu-child"]
    sizes = ["--requests", str(args.requests), "--repeats", str(args.repeats)]
    if args.profile:
        subprocess.run([*child, str(ROOT), *sizes, "--profile"], check=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        return 0
    print(f"CPU per ping (WSGI call), best of {args.repeats} x {args.requests}, {args.rounds} rounds; load {_load()}")
    micros: dict[str, list[float]] = {name: [] for name in trees}
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # as serve_hotline runs gunicorn
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            out = subprocess.run([*child, tree, *sizes], check=True, capture_output=True, text=True, env=env).stdout
            micros[name].append(float(out.split()[-1]))
        print(f"round {round_ + 1}: " + ", ".join(f"{n} {m[-1]:.1f}" for n, m in micros.items()), flush=True)
    bare = micros["bare Flask"]
    print(f"\n{'GET /api/v1/ping':<40}{'median us':>12}{'x bare (median)':>17}   load {_load()}")
    for name, values in micros.items():
        ratio = statistics.median(v / b for v, b in zip(values, bare, strict=True))
        print(f"{name:<40}{statistics.median(values):>12.1f}{ratio:>17.2f}")
    return 0


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


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
    parser.add_argument("--cpu", action="store_true", help="CPU per ping in one process instead of gunicorn")
    parser.add_argument("--requests", type=int, default=2000, help="--cpu: pings per timed run (default 2000)")
    parser.add_argument("--repeats", type=int, default=5, help="--cpu: timed runs, the best kept (default 5)")
    parser.add_argument("--profile", action="store_true", help="--cpu: cProfile of this checkout's pings")
    parser.add_argument("--cpu-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cpu_child:
        cpu_child(args.cpu_child, args.requests, args.repeats, args.profile)
        return 0
    if args.cpu:
        return main_cpu(args)
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
