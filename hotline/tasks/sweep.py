"""The periodic sweep (urgent queue) and the report days' refresh (bulk queue).

Both are in the schedule table (`schedule.PERIODIC`), every minute by default.
"""

from __future__ import annotations

import os
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError

from hotline.extensions import db
from hotline.services.citizens import survey
from hotline.services.city import duty
from hotline.services.platform import queueing
from hotline.services.reporting import report_figures
from hotline.services.ticketing import deadlines, recovery
from hotline.tasks import schedule

# HOTLINE_SWEEP_GRACE_SECONDS shortens it (benchmarks/soak.py does).
SWEEP_GRACE = timedelta(seconds=int(os.environ.get("HOTLINE_SWEEP_GRACE_SECONDS") or 120))


def sweep() -> dict[str, int]:
    """Re-enqueue what was not routed or sent (Redis was down), turn SLA clocks amber and red,
    close resolved tickets left unrated."""
    schedule.chain("sweep")
    try:
        requeued = recovery.requeue_waiting(SWEEP_GRACE)
        _drain_if_waiting()
        levels = deadlines.sweep_deadlines()
        unrated = survey.close_unrated()
        alerts = duty.run_due()  # duty rota (值班): alert steps whose job was lost
    finally:
        db.session.remove()
    current_app.logger.info("sweep: %d re-enqueued, %s, %d unrated closed", requeued, levels, unrated)
    return {"requeued": requeued, **levels, "closed_unrated": unrated, "duty_alerts": alerts}


def _drain_if_waiting() -> None:
    try:
        queueing.drain_if_waiting()
    except RedisError as error:  # the next sweep tries again; the tickets themselves are swept above
        current_app.logger.warning("could not check intake's list: %s", error)


def refresh_reports() -> dict[str, int]:
    """Re-aggregate the report days that changed; the first time, the full rebuild, which takes
    minutes at scale (hence the bulk queue: it never holds up a ticket or the sweep)."""
    schedule.chain("reports")
    try:
        if report_figures.needs_rebuild():
            days = report_figures.rebuild().days
            current_app.logger.info("reports: rebuilt, %d days", days)
            return {"rebuilt": 1, "report_days": days}
        days = report_figures.refresh_dirty()
    finally:
        db.session.remove()
    return {"rebuilt": 0, "report_days": days}
