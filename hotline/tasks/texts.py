"""Outbox jobs (urgent queue): send one message by its id, or the texts of a batch of tickets.

A job may run twice for one message (RQ's at-least-once delivery, the sweep, a retry by
hand): the outbox's claim lets only one run talk to Twilio.
"""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.services.citizens import outbox
from hotline.services.platform import queueing


def send_message(message_id: int) -> str | None:
    """Send the message if it is due; if Twilio failed for now, enqueue the next attempt at its
    time (the worker's scheduler runs it; the sweep would anyway). Returns the new status."""
    try:
        return _send(message_id)
    finally:
        db.session.remove()


def send_messages(message_ids: list[int]) -> dict[str, int]:
    """Send several messages (the texts of a batch of new tickets), one after the other, each
    as `send_message` does; returns the count per resulting status."""
    counts: dict[str, int] = {}
    try:
        for message_id in message_ids:
            status = _send(message_id) or "skipped"
            counts[status] = counts.get(status, 0) + 1
            db.session.remove()  # each message on its own: nothing held between sends
        return counts
    finally:
        db.session.remove()


def _send(message_id: int) -> str | None:
    message = outbox.send(message_id)
    if message is None:
        return None
    if message.status == OutboundMessage.FAILED and message.next_attempt_at is not None:
        queueing.enqueue_send(message.id, at=message.next_attempt_at)
    return message.status
