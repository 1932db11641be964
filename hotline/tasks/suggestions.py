"""Training the routing-suggestion model (bulk queue, see `services.dispatch.suggestions`).

Daily at HOTLINE_SUGGESTIONS_TRAIN_AT (local time, default 03:00, when the hotline is quiet:
the schedule table), on demand (an administrator's button, the CLI:
`queueing.enqueue_training`), and when a worker starts and finds the model in use trained
with another word segmenter (an upgrade: `retrain_if_stale`). Training is idempotent: a
second delivery finds nothing new and stores no second version.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from hotline.extensions import db
from hotline.services.dispatch import suggestions
from hotline.services.platform import queueing
from hotline.tasks import schedule


def train_suggestions(trigger: str = "admin", force: bool = False) -> dict[str, Any]:
    """Train and store a new version (or say why not); returns what happened, for RQ's result."""
    try:
        result = suggestions.train(trigger=trigger, force=force)
    finally:
        db.session.remove()
    current_app.logger.info("routing suggestions (%s): %s", trigger, result.message)
    return {
        "trained": result.trained,
        "version": result.version,
        "samples": result.samples,
        "message": result.message,
        "metrics": result.metrics,
    }


def scheduled_training() -> dict[str, Any]:
    """The daily training."""
    schedule.chain("training")
    return train_suggestions("schedule")


def retrain_if_stale() -> bool:
    """At a worker's start: queue a training when the model in use was trained with another
    word segmenter (`suggestions.stale`), forced since the history may be unchanged. True
    when one is queued. Several workers starting at once queue one (the on-demand job id)."""
    try:
        if not suggestions.stale():
            return False
    finally:
        db.session.remove()
    current_app.logger.info("routing suggestions: the model in use was trained with another word segmenter; retraining")
    return queueing.enqueue_training("segmenter", force=True)
