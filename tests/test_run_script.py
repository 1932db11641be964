"""`make run` (scripts/run.py): it starts, answers, and leaves nothing behind when stopped."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90  # migrations + the demo city + gunicorn and the worker starting


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" in status.read()  # a zombie no longer runs anything
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_script_starts_everything_and_stops_everything(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "HOTLINE_", "REDIS_URL"))}
    env.update(PORT=str(port), HOST="127.0.0.1", DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}")
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        status = _wait_for_login_page(port, process, log_path)
        output = log_path.read_text()
        assert status == 200, output
        assert f"Hotline is running at http://127.0.0.1:{port}/" in output
        redis_port = int(re.search(r"\[run\] redis: redis://127\.0\.0\.1:(\d+)/", output).group(1))
        # The pids that run.py reports: Valkey's, gunicorn's master and the two workers' (urgent, bulk).
        pids = [
            int(pid)
            for line in output.splitlines()
            if line.startswith("[run]")
            for pid in re.findall(r"pid (\d+)", line)
        ]
        assert len(pids) == 4, output
        assert _answers(redis_port)

        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if process.poll() is None:  # a failed assertion above: still stop it cleanly if it can
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    output = log_path.read_text()
    assert "[run] stopped" in output
    assert not _answers(port), "the web server still answers"
    assert not _answers(redis_port), "the embedded Valkey server still answers"
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if not _gone(pid)] == [], output


def _wait_for_login_page(port: int, process: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"run.py exited with {process.returncode}:\n{log_path.read_text()}")
        # Once the banner is out, the page must answer; before that it may not listen yet.
        if "Hotline is running" in log_path.read_text():
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
                with opener.open(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code
        time.sleep(0.3)
    pytest.fail(f"no banner within {READY_TIMEOUT} s:\n{log_path.read_text()}")
