"""Twilio's media kept as attachments (urgent queue, issue 18 item 5): a voicemail's recording,
fetched after the commit that opened its ticket, and a citizen's MMS pictures, fetched after
the commit that logged the text (`services.citizens.twilio_media`)."""

from __future__ import annotations

import logging

import requests
from rq import get_current_job

from hotline.extensions import db
from hotline.services.citizens import twilio_media

log = logging.getLogger(__name__)


def keep_recording(ticket_id: int) -> int | None:
    try:
        attachment = twilio_media.keep_recording(ticket_id)
        return attachment.id if attachment else None
    finally:
        db.session.remove()


def keep_media(ticket_id: int, urls: list[str]) -> list[int]:
    """Twilio away (a network failure, a 5xx): raised, and RQ tries again (SEND_RETRY); on the
    last try the ticket's timeline says the pictures could not be fetched."""
    try:
        return [attachment.id for attachment in twilio_media.keep_media(ticket_id, urls)]
    except requests.RequestException as why:
        db.session.rollback()
        job = get_current_job()
        if job is not None and job.retries_left:
            raise
        log.warning("MMS media of ticket %s not fetched, no retry left: %s", ticket_id, why)
        twilio_media.note_unreachable(ticket_id, urls)
        return []
    finally:
        db.session.remove()
