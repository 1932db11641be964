"""Taking turns to write to an SQLite file, queued by the kernel rather than by polling.

SQLite lets one writer at a time. A writer that finds the file locked waits in SQLite's busy
handler, which sleeps and tries again, 1, 2, 5, 10, 15, 20 ms and on: a write window of
under a millisecond then costs the next writer a millisecond or much more. Under intake load
(benchmarks/intake.py) two gunicorn workers logged fewer tickets per second than one. Writers
that hold a turn (`write_turn`) queue on an exclusive `flock` of a file beside the database
instead, and the kernel wakes the next one the moment the lock is released: intake's writes
no longer collide with each other. Writers that take no turn still meet in the busy handler,
as before. On PostgreSQL, which queues writers on row locks itself, a turn is nothing.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hotline.extensions import db

# Per process, thread and file: a flock belongs to an open file description, so one shared with
# a forked parent (or another thread) would share its lock too; each opens its own.
_descriptors: dict[tuple[int, int, str], int] = {}


@contextmanager
def write_turn() -> Iterator[None]:
    """Hold the database's write turn for the block (which should end with its commit)."""
    path = _lock_path()
    if path is None:
        yield
        return
    descriptor = _descriptor(path)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def _lock_path() -> str | None:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return f"{os.path.abspath(url.database)}-writers.lock"


def _descriptor(path: str) -> int:
    key = (os.getpid(), threading.get_ident(), path)
    descriptor = _descriptors.get(key)
    if descriptor is None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        _descriptors[key] = descriptor
    return descriptor
