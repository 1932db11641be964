"""Hotspot detection (bulk queue, see `services.hotspot_detection.hotspots`): the day, week and month windows,
every HOTLINE_HOTSPOT_EVERY_MINUTES (default 60; 0 turns it off), from the schedule table;
a worker that starts runs it a minute later."""

from __future__ import annotations

from typing import Any

from flask import current_app

from hotline.extensions import db
from hotline.models import HotspotWindow
from hotline.services.hotspot_detection import hotspots
from hotline.tasks import schedule


def detect_hotspots(windows: list[str] | None = None) -> dict[str, Any]:
    """Detect each window's hotspots (a failing window does not stop the others)."""
    schedule.chain("hotspots")
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
    current_app.logger.info("hotspots: %s", results)
    return results
