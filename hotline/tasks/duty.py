"""Duty alerts (urgent queue): take the out-of-hours alert steps that are due (`services.city.duty`).

Enqueued after the commit that starts an alert, and at each next step's time (the worker's
scheduler); the sweep takes whatever is due as well, so a lost job costs a minute at most.
"""

from __future__ import annotations

from hotline.extensions import db
from hotline.services.city import duty


def run_duty_alerts() -> int:
    try:
        return duty.run_due()
    finally:
        db.session.remove()
