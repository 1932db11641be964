"""SQLite writers that take turns queue on a file lock: a second one waits for the first."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from hotline.extensions import db
from hotline.services.platform import write_turns

HOLDER = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_writer_waits_for_the_turn_another_process_holds(app):
    path = write_turns._lock_path()
    if path is None:
        pytest.skip("write turns are for an SQLite file (PostgreSQL queues writers itself)")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path, "0.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with write_turns.write_turn():
            waited = time.monotonic() - started
        assert waited >= 0.3  # it waited for the other process's turn to end
    finally:
        holder.wait(timeout=10)
    started = time.monotonic()
    with write_turns.write_turn():  # free now: at once
        assert time.monotonic() - started < 0.3


def test_on_postgresql_a_turn_takes_no_lock(app):
    if db.engine.url.get_backend_name() == "sqlite":
        pytest.skip("checks the PostgreSQL case")
    assert write_turns._lock_path() is None
    with write_turns.write_turn():
        pass
