"""Hotspot detection run by a real worker process on the real Redis (TEST_REDIS_URL):
`detect_hotspots_job` finds the day's, week's and month's hotspots and schedules its next run
under the fixed id "hotline-hotspots" (one pending run at a time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from hotline.extensions import db
from hotline.hotspot_jobs import JOB_ID, detect_hotspots_job
from hotline.models import Hotspot
from hotline.models.types import utcnow
from tests.services.test_hotspots import NOISE, log
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def test_the_job_detects_every_window_and_schedules_itself_again(app, city, queue: Queue) -> None:
    made = log(city, NOISE, "east", at=utcnow())
    queue.empty()  # the tickets' drain job: not what this test is about

    job = queue.enqueue(detect_hotspots_job)
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

    # The worker's start-up scheduled a first run in a minute under the same id; the job,
    # when it ended, replaced it with the next run, HOTLINE_HOTSPOT_EVERY_MINUTES later.
    assert JOB_ID in queue.scheduled_job_registry.get_job_ids(), output
    again = Job.fetch(JOB_ID, connection=queue.connection)
    assert again.func_name == "hotline.hotspot_jobs.detect_hotspots_job"
    due = queue.scheduled_job_registry.get_scheduled_time(JOB_ID)
    every = timedelta(minutes=app.config["HOTLINE_HOTSPOT_EVERY_MINUTES"])
    assert job.started_at + every - timedelta(seconds=1) <= due <= utcnow() + every

    # The next run, now rather than in an hour: the same hotspots, updated, none added.
    queue.scheduled_job_registry.requeue(JOB_ID)
    output = run_burst_worker()
    again.refresh()
    assert again.get_status() == JobStatus.FINISHED, output
    assert {w: r["updated"] for w, r in again.return_value().items()} == {"day": 1, "week": 1, "month": 1}
    assert len(db.session.scalars(select(Hotspot)).all()) == 3
