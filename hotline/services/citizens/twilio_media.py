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
from hotline.models import Attachment, Call, Ticket, TicketEvent
from hotline.services.errors import ServiceError
from hotline.services.platform.file_errors import StorageUnavailable
from hotline.services.ticketing import attachments
from hotline.services.ticketing.transition import record_event

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
        if int(response.headers.get("Content-Length") or 0) > limit:
            raise attachments.too_large()  # said before a byte of it is read
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


# -- a citizen's MMS pictures (issue 18 item 5) -----------------------------------------------

MEDIA_MAX = 10  # Twilio's own limit of media per MMS
NOT_KEPT = "media_not_kept"  # the event on the ticket's timeline when a picture is not kept
# Why (the event's `why`; labels.MEDIA_NOT_KEPT_LABELS says it to staff in their language):
REFUSED = "refused"  # not a photo, PDF or recording, or damaged (attachments.prepare refused it)
TOO_LARGE = "too_large"
NOT_TWILIO = "not_twilio"  # a URL that is not this account's Twilio media: never fetched
UNREACHABLE = "unreachable"  # Twilio did not answer after the job's retries
NOT_QUEUED = "not_queued"  # Redis was away when the text came: nothing will fetch them


def media_sid(url: str) -> str:
    """The media's SID (ME...), the URL's last part: what a repeated job knows a picture by."""
    return url.rstrip("/").rsplit("/", 1)[-1][: attachments.FILENAME_MAX]


def keep_media(ticket_id: int, urls: list[str]) -> list[Attachment]:
    """A citizen's MMS media as the ticket's attachments, through the one attachments service
    (type read from the content, photos re-encoded without EXIF and thumbnailed, not public).
    Each once: a repeated job finds what it kept, or noted, by the media SID. A picture refused
    (disguised, too large, not Twilio's) is not kept and a note on the timeline says why; a
    network failure or a 5xx raises, for the job to be retried (the text itself is kept already)."""
    kept: list[Attachment] = []
    for url in urls[:MEDIA_MAX]:
        ticket = db.session.get(Ticket, ticket_id)  # again each time: a refused add rolled back
        if ticket is None:
            return kept
        sid = media_sid(url)
        found = _kept(ticket, sid)
        if found is not None:
            kept.append(found)
            continue
        if _noted(ticket, sid):
            continue
        try:
            kept.append(attachments.add(None, ticket, fetch(url), filename=sid, source="mms"))
        except MediaRefused as why:
            log.warning("MMS media %s of ticket %s not fetched: %s", sid, ticket_id, why)
            note_not_kept(ticket_id, [sid], NOT_TWILIO)
        except ServiceError as why:
            log.info("MMS media %s of ticket %s not kept: %s", sid, ticket_id, why.message)
            note_not_kept(ticket_id, [sid], TOO_LARGE if isinstance(why, attachments.TooLarge) else REFUSED)
    return kept


def note_not_kept(ticket_id: int, sids: list[str], why: str) -> None:
    """Say on the ticket's timeline that the citizen's pictures were not kept, and why (the
    system's event: staff see it and can ask the citizen again); commits."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not sids:
        return
    record_event(ticket, None, NOT_KEPT, None, None, {"why": why, "media": sids})
    db.session.commit()


def note_unreachable(ticket_id: int, urls: list[str]) -> None:
    """The job's last try failed too (Twilio away): note the pictures not kept nor noted yet."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return
    sids = [media_sid(url) for url in urls[:MEDIA_MAX]]
    note_not_kept(
        ticket_id, [sid for sid in sids if _kept(ticket, sid) is None and not _noted(ticket, sid)], UNREACHABLE
    )


def _kept(ticket: Ticket, sid: str) -> Attachment | None:
    return db.session.scalars(
        select(Attachment).where(
            Attachment.ticket_id == ticket.id, Attachment.source == "mms", Attachment.filename == sid
        )
    ).first()


def _noted(ticket: Ticket, sid: str) -> bool:
    """Whether a note already says this picture was not kept (a job delivered twice)."""
    notes = db.session.scalars(
        select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == NOT_KEPT)
    )
    return any(sid in (data or {}).get("media", ()) for data in notes)
