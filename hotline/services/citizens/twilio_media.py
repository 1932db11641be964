"""Twilio's media kept as attachments (issue 18 item 5): a voicemail's recording, fetched with the
account's credentials (HTTP Basic auth, as Twilio serves media when "enforce HTTP auth on media"
is on) and kept with the voicemail's ticket through the one attachments service.

Only Twilio's own API host is fetched, on this account's path: a URL in a webhook never makes the
server fetch anything else. In tests and with a local fake, TWILIO_API_BASE_URL takes the host's
place, as for the client's other requests (senders.LocalTwilioHttpClient)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import current_app
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Call, Ticket
from hotline.services.errors import ServiceError
from hotline.services.platform.file_errors import StorageUnavailable
from hotline.services.ticketing import attachments

log = logging.getLogger(__name__)

TWILIO_HOST = "api.twilio.com"
TIMEOUT = (5, 30)  # connect, read (seconds)


class MediaRefused(Exception):
    """A URL that is not this account's Twilio media, or an answer that is not a file."""


def media_url(url: str) -> str:
    """The URL to fetch: this account's media on api.twilio.com (the host replaced by the
    configured base URL, if any); MediaRefused for anything else."""
    config = current_app.config
    parts = urlsplit(url)
    sid = config.get("TWILIO_ACCOUNT_SID") or ""
    if parts.scheme != "https" or parts.hostname != TWILIO_HOST or parts.port not in (None, 443):
        raise MediaRefused(f"not Twilio's API host: {url!r}")
    if not sid or not parts.path.startswith(f"/2010-04-01/Accounts/{sid}/"):
        raise MediaRefused(f"not this account's media: {url!r}")
    base = config.get("TWILIO_API_BASE_URL") or ""
    if base:
        local = urlsplit(base)
        return urlunsplit((local.scheme, local.netloc, parts.path, parts.query, ""))
    return urlunsplit(("https", TWILIO_HOST, parts.path, parts.query, ""))


def fetch(url: str) -> bytes:
    """The media's bytes, at most the attachments' limit (attachments.TooLarge above it)."""
    config = current_app.config
    target = media_url(url)
    auth = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
    with requests.get(target, auth=auth, timeout=TIMEOUT, stream=True) as response:
        response.raise_for_status()
        limit = attachments.max_bytes()
        data = bytearray()
        for chunk in response.iter_content(64 * 1024):
            data.extend(chunk)
            if len(data) > limit:
                raise attachments.too_large()
        return bytes(data)


def keep_recording(ticket_id: int) -> Attachment | None:
    """The voicemail ticket's recording as an attachment; once only (a repeated job finds it).
    None when there is nothing to keep (no ticket, no recording, or a URL that is not Twilio's)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    kept = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.source == "voicemail")
    ).first()
    if kept is not None:
        return kept
    url = db.session.scalar(select(Call.recording_url).where(Call.ticket_id == ticket.id))
    if not url:
        return None
    number = ticket.number
    try:
        data = fetch(url)
        return attachments.add(
            None, ticket, data, filename=url.rsplit("/", 1)[-1], kind="recording", source="voicemail"
        )
    except StorageUnavailable:
        raise  # the file store is down (S3): the job is retried, the recording is kept later
    except (MediaRefused, ServiceError) as why:
        # Not Twilio's, not a recording, or too large: trying again would not change it. (A network
        # failure or a 5xx raises on, and the job is retried.)
        log.warning("recording of ticket %s not kept: %s", number, why)
        return None
