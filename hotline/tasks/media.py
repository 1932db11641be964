"""Twilio's media kept as attachments (urgent queue, issue 18 item 5): a voicemail's recording,
fetched after the commit that opened its ticket (`services.citizens.twilio_media`)."""

from __future__ import annotations

from hotline.extensions import db
from hotline.services.citizens import twilio_media


def keep_recording(ticket_id: int) -> int | None:
    try:
        attachment = twilio_media.keep_recording(ticket_id)
        return attachment.id if attachment else None
    finally:
        db.session.remove()
