"""Hotspot detection run by a real worker process on the real Redis (TEST_REDIS_URL):
`detect_hotspots` (bulk queue) finds the day's, week's and month's hotspots; its next run waits,
scheduled, under an id of its own (one pending run at a time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Hotspot
from hotline.models.types import utcnow
from hotline.tasks import schedule
from hotline.tasks.hotspots import detect_hotspots
from tests.services.test_hotspots import NOISE, log
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def test_the_job_detects_every_window_and_its_next_runs_are_scheduled(app, city, queue: Queue, bulk_queue) -> None:
    made = log(city, NOISE, "east", at=utcnow())
    queue.empty()  # the tickets' drain job: not what this test is about

    job = bulk_queue.enqueue(detect_hotspots)
    output = run_burst_worker()

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, output
    result = job.return_value()
    assert {window: result[window]["hotspots"] for window in ("day", "week", "month")} == {
        "day": 1,
        "week": 1,
        "month": 1,
    }, result
    found = db.session.scalars(select(Hotspot).order_by(Hotspot.window_kind)).all()
    assert [h.window_kind for h in found] == ["day", "month", "week"]
    assert all(h.ticket_count == len(made) and h.district == city.east for h in found)

    # The worker's start-up scheduled a first run in a minute, under an id of its own; the
    # job, finding it there, added none.
    first = _next(bulk_queue)
    assert first != job.id and first in bulk_queue.scheduled_job_registry.get_job_ids(), output
    again = Job.fetch(first, connection=bulk_queue.connection)
    assert again.func_name == "hotline.tasks.hotspots.detect_hotspots"
    due = bulk_queue.scheduled_job_registry.get_scheduled_time(first)
    assert job.started_at <= due <= utcnow() + timedelta(minutes=2)

    # That run, now rather than in a minute: the same hotspots, updated, none added; the next
    # one is due on the hour after it (HOTLINE_HOTSPOT_EVERY_MINUTES), under another id.
    bulk_queue.scheduled_job_registry.requeue(first)
    output = run_burst_worker()
    again.refresh()
    assert again.get_status() == JobStatus.FINISHED, output
    assert {w: r["updated"] for w, r in again.return_value().items()} == {"day": 1, "week": 1, "month": 1}
    assert len(db.session.scalars(select(Hotspot)).all()) == 3
    following = _next(bulk_queue)
    assert following not in (job.id, first) and following in bulk_queue.scheduled_job_registry.get_job_ids()
    every = timedelta(minutes=app.config["HOTLINE_HOTSPOT_EVERY_MINUTES"])
    assert due < bulk_queue.scheduled_job_registry.get_scheduled_time(following) <= due + every


def _next(queue: Queue) -> str:
    return queue.connection.get(schedule.pointer_key(queue, schedule.BY_NAME["hotspots"])).decode()
