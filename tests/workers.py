"""Real RQ workers for tests: an empty queue to start from, and burst workers as subprocesses
on the test database (TestingConfig reads TEST_DATABASE_URL and TEST_REDIS_URL)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from rq import Queue
from rq.job import Job

from hotline.extensions import db
from hotline.services.platform import queueing

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 60  # seconds for a burst worker to drain the queue


def empty_queue(queue: Queue) -> None:
    """Other tests leave jobs behind (for ticket ids that no longer exist), and their
    workers schedule sweeps and retries: clear the queue, every registry, intake's list and
    the periodic jobs' pointers."""
    queue.empty()
    queue.connection.delete(queueing.intake_key(queue))  # tickets handed over by intake
    for key in queue.connection.scan_iter(f"hotline:periodic:{queue.name}:*"):
        queue.connection.delete(key)
    for registry in (
        queue.scheduled_job_registry,
        queue.started_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.deferred_job_registry,
    ):
        # Not `registry.remove`: RQ 2.12's started registry (job id and execution id) has none.
        for job_id in registry.get_job_ids(cleanup=False):
            queue.connection.delete(Job.key_for(job_id))
        queue.connection.delete(registry.key)


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, HOTLINE_CONFIG="testing", **extra)
    assert env.get("TEST_DATABASE_URL"), "the app fixture sets TEST_DATABASE_URL for worker processes"
    return env


def run_burst_worker(*arguments: str, **extra_env: str) -> str:
    """`python -m workers.worker --burst ARGUMENTS` (with the scheduler, unless told otherwise)
    until the queue is empty; returns its output for failure messages."""
    result = subprocess.run(
        [sys.executable, "-m", "workers.worker", "--burst", *arguments],
        cwd=ROOT,
        env=worker_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    db.session.expire_all()  # the worker changed the rows behind this session's back
    return output


@contextlib.contextmanager
def running_worker(*arguments: str, log: Path, **extra_env: str) -> Iterator[subprocess.Popen]:
    """`python -m workers.worker ARGUMENTS` (not burst) while the block runs; then stopped: a
    SIGTERM, a second one (RQ's cold shutdown: the work horse is killed), and at last SIGKILL
    for it and everything below it (the horse and the scheduler run in groups of their own)."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.worker", *arguments],
            cwd=ROOT,
            env=worker_env(**extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        below = descendants(process.pid)
        for _ in range(2):
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for pid in [process.pid, *below, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def descendants(pid: int) -> list[int]:
    """Every living process below `pid`, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found
