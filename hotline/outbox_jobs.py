"""RQ job for the outbox: send one message by its id (see `services.outbox`).

The job may run twice for one message (RQ's at-least-once delivery, the sweep, a retry
by hand): the outbox's claim lets only one run talk to Twilio.
"""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.services import outbox, queueing


def send_message_job(message_id: int) -> str | None:
    """Send the message if it is due; if Twilio failed for now, enqueue the next attempt at its
    time (the worker's scheduler runs it; the sweep would anyway). Returns the new status."""
    try:
        message = outbox.send(message_id)
        if message is None:
            return None
        if message.status == OutboundMessage.FAILED and message.next_attempt_at is not None:
            queueing.enqueue_send(message.id, at=message.next_attempt_at)
        return message.status
    finally:
        db.session.remove()
