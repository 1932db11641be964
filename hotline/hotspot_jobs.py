"""The RQ job that detects hotspots (see `services.hotspots`): the day, week and month windows,
every HOTLINE_HOTSPOT_EVERY_MINUTES (default 60), one pending run at a time (a fixed job id).

Like the sweep, it schedules its next run when it ends, whether it succeeded or not, and
the worker schedules the first one when it starts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from hotline.extensions import db, jobs
from hotline.models import HotspotWindow
from hotline.services import hotspots

JOB_ID = "hotline-hotspots"
# A month of a large hotline is a million tickets: a few minutes (benchmarks/README.md), past RQ's 180 s.
TIMEOUT = 3600
FIRST_RUN_AFTER = timedelta(minutes=1)


def detect_hotspots_job(windows: list[str] | None = None) -> dict[str, Any]:
    """Detect each window's hotspots (a failing window does not stop the others), then
    schedule the next run."""
    results: dict[str, Any] = {}
    try:
        for window in windows or HotspotWindow.ALL:
            try:
                results[window] = hotspots.detect(window).as_dict()
            except Exception as error:  # noqa: BLE001 (logged; the next run tries again)
                db.session.rollback()
                current_app.logger.exception("hotspot detection (%s) failed", window)
                results[window] = {"error": str(error)}
    finally:
        db.session.remove()
        schedule_hotspots()
    current_app.logger.info("hotspots: %s", results)
    return results


def schedule_hotspots(first: bool = False) -> str | None:
    """Schedule the next detection (or, when the worker starts, one in a minute); returns the
    job id, or None without a queue, with the schedule turned off (0 minutes) or Redis down."""
    queue = jobs.queue
    minutes = current_app.config.get("HOTLINE_HOTSPOT_EVERY_MINUTES", 60)
    if queue is None or minutes <= 0:
        return None
    delay = FIRST_RUN_AFTER if first else timedelta(minutes=minutes)
    try:
        queue.enqueue_in(delay, detect_hotspots_job, job_id=JOB_ID, job_timeout=TIMEOUT, description="detect hotspots")
    except RedisError as error:
        current_app.logger.warning("hotspot detection not scheduled, Redis unavailable: %s", error)
        return None
    return JOB_ID
