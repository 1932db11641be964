"""Real RQ workers for tests: an empty queue to start from, and burst workers as subprocesses
on the test database (TestingConfig reads TEST_DATABASE_URL and TEST_REDIS_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rq import Queue

from hotline.extensions import db
from hotline.services import queueing

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 60  # seconds for a burst worker to drain the queue


def empty_queue(queue: Queue) -> None:
    """Other tests leave jobs behind (for ticket ids that no longer exist), and their
    workers schedule sweeps and retries: clear the queue, every registry and intake's list."""
    queue.empty()
    queue.connection.delete(queueing.intake_key(queue))  # tickets handed over by intake
    for registry in (
        queue.scheduled_job_registry,
        queue.started_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.deferred_job_registry,
    ):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, HOTLINE_CONFIG="testing", **extra)
    assert env.get("TEST_DATABASE_URL"), "the app fixture sets TEST_DATABASE_URL for worker processes"
    return env


def run_burst_worker(**extra_env: str) -> str:
    """`python -m workers.worker --burst` (with the scheduler, as always) until the queue is
    empty; returns its output for failure messages."""
    result = subprocess.run(
        [sys.executable, "-m", "workers.worker", "--burst"],
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
