"""The outbox: every message to a citizen is a row here before it is sent, and stays after.

queued ──job claims it──▶ sending ──▶ sent ──status callback──▶ delivered / failed
   ▲                         ├──no sender──▶ held ──administrator retries──▶ queued
   │                         └──Twilio down──▶ failed, next_attempt_at set ──sweep / job──┘
   └── failed for good, after MAX_ATTEMPTS or a refusal ──administrator retries──┘

Never twice: a worker claims a row with one conditional UPDATE (only a queued row,
or a failed one whose retry is due), so two deliveries of the same job, or two
workers, send it once. A worker that dies while sending leaves the row `sending`;
after the lease the sweep marks it failed without retrying, since the message may
have gone out; an administrator decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Connection, Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import Caller, OutboundMessage, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import senders
from hotline.services.errors import Conflict, NotFound
from hotline.services.platform import queueing
from hotline.services.platform.row_inserts import insert_row

log = logging.getLogger(__name__)

Message = OutboundMessage
BODY_MAX = 1600  # Twilio's limit for one message body
MAX_ATTEMPTS = 4  # the first try and three retries
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
# How long a claim lasts: far beyond the sender's timeout, so a live worker is never overtaken.
SENDING_LEASE = timedelta(minutes=10)
STALE_ERROR = senders.error_record("stale")

STATUSES = (Message.QUEUED, Message.SENDING, Message.SENT, Message.DELIVERED, Message.FAILED, Message.HELD)
# Twilio's MessageStatus values in status callbacks, as outbox statuses; the rest change nothing.
PROVIDER_STATUSES = {
    "sent": Message.SENT,
    "delivered": Message.DELIVERED,
    "read": Message.DELIVERED,
    "undelivered": Message.FAILED,
    "failed": Message.FAILED,
}
# A voice call's final CallStatus (duty alerts): answered is delivered; nobody picked up, failed.
CALL_STATUSES = {
    "completed": Message.DELIVERED,
    "no-answer": Message.FAILED,
    "busy": Message.FAILED,
    "canceled": Message.FAILED,
    "failed": Message.FAILED,
}
_PROGRESS = {Message.QUEUED: 0, Message.HELD: 0, Message.SENDING: 1, Message.SENT: 2, Message.DELIVERED: 3}


def queue_message(
    kind: str,
    to: str,
    body: str,
    *,
    ticket: Ticket | None = None,
    dedupe_key: str | None = None,
    channel: str = "sms",
) -> tuple[OutboundMessage, bool]:
    """Put a message in the outbox and commit; then enqueue its sending job (Redis may be down:
    the sweep sends it later). Returns (message, created): the same dedupe key again returns the
    message queued first. With no sender configured the message is `held` at once."""
    if dedupe_key:
        existing = by_dedupe_key(dedupe_key)
        if existing is not None:
            return existing, False
    message = OutboundMessage(ticket=ticket, **_new_values(kind, to, body, dedupe_key, channel))
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        # Queued by someone else between our look-up and our insert.
        db.session.rollback()
        existing = by_dedupe_key(dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing, False
    if message.status == Message.QUEUED:
        queueing.enqueue_send(message.id)
    return message, True


def write_for_new_ticket(
    connection: Connection, kind: str, to: str, body: str, *, ticket_id: int, dedupe_key: str
) -> OutboundMessage:
    """Intake's text about the ticket it is writing, in the same transaction, with one INSERT
    (see services/ticketing/intake.py): no look-up, since nothing can be queued yet for a ticket that did
    not exist (the unique key still guards it), no commit and no job (intake hands the ticket
    over, and the drain enqueues its texts: `queued_for_tickets`). Returns the row as written,
    not attached to the session."""
    values = {"ticket_id": ticket_id, **_new_values(kind, to, body, dedupe_key, "sms")}
    return insert_row(connection, OutboundMessage, values)


def _new_values(kind: str, to: str, body: str, dedupe_key: str | None, channel: str) -> dict:
    held = not senders.configured()
    return {
        "channel": channel,
        "kind": kind,
        "to": to,
        "body": body[:BODY_MAX],
        "status": Message.HELD if held else Message.QUEUED,
        "last_error": senders.NO_SENDER if held else None,
        "dedupe_key": dedupe_key,
        "created_at": utcnow(),
    }


def queued_for_tickets(ticket_ids: Sequence[int]) -> list[int]:
    """The messages about these tickets still queued (to be sent), oldest first."""
    if not ticket_ids:
        return []
    return list(
        db.session.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.ticket_id.in_(list(ticket_ids)), OutboundMessage.status == Message.QUEUED)
            .order_by(OutboundMessage.id)
        )
    )


def record_reply(kind: str, to: str, body: str, *, ticket: Ticket | None, dedupe_key: str) -> OutboundMessage:
    """A reply that goes back in the webhook's TwiML answer: Twilio sends it, so it is `sent`
    from the start; it is kept here like every other message. Commits."""
    existing = by_dedupe_key(dedupe_key)
    if existing is not None:
        return existing
    now = utcnow()
    message = OutboundMessage(
        ticket=ticket,
        kind=kind,
        to=to,
        body=body[:BODY_MAX],
        status=Message.SENT,
        attempts=1,
        dedupe_key=dedupe_key,
        created_at=now,
        sent_at=now,
    )
    db.session.add(message)
    db.session.commit()
    return message


def send(message_id: int, now: datetime | None = None, sender: senders.Sender | None = None) -> OutboundMessage | None:
    """Send one message if it is due and nobody else is sending it; returns it as it ends up.

    Safe to call any number of times for the same message: only the call whose claim
    succeeds talks to the provider."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, _due(now))
        .values(
            status=Message.SENDING,
            attempts=OutboundMessage.attempts + 1,
            next_attempt_at=now + SENDING_LEASE,  # the lease: see recover_stale
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    message = db.session.get(OutboundMessage, message_id)
    if message is None:
        return None
    db.session.refresh(message)
    if not claimed:
        return message
    if _opted_out(message.to):
        # They replied STOP after the message was queued.
        _finish(message, now, Message.FAILED, error=senders.error_record("opted_out"))
        return message
    result = (sender or senders.current_sender()).send(message)
    _record(message, result, now)
    return message


def _due(now: datetime):
    return or_(
        OutboundMessage.status == Message.QUEUED,
        and_(
            OutboundMessage.status == Message.FAILED,
            OutboundMessage.next_attempt_at.is_not(None),
            OutboundMessage.next_attempt_at <= now,
        ),
    )


def _record(message: OutboundMessage, result: senders.SendResult, now: datetime) -> None:
    if result.outcome == senders.SENT:
        _finish(message, now, Message.SENT, provider_sid=result.provider_sid, sent_at=now, error=None)
    elif result.outcome == senders.HELD:
        # Nothing was tried: the attempt the claim counted is given back.
        _finish(message, now, Message.HELD, error=result.error, attempts=message.attempts - 1)
    elif result.outcome == senders.RETRY and message.attempts < MAX_ATTEMPTS:
        wait = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
        _finish(message, now, Message.FAILED, error=result.error, next_attempt_at=now + wait)
    else:
        error = result.error or senders.error_record("failed")
        if result.outcome == senders.RETRY:
            error = senders.with_details(error, gave_up_after=message.attempts)
        _finish(message, now, Message.FAILED, error=error)
        if result.code == senders.TWILIO_UNSUBSCRIBED:
            set_opt_out(message.to, True, now)


def _finish(
    message: OutboundMessage,
    now: datetime,
    status: str,
    *,
    error: str | None,
    next_attempt_at: datetime | None = None,
    provider_sid: str | None = None,
    sent_at: datetime | None = None,
    attempts: int | None = None,
) -> None:
    """Record how an attempt ended, only if the row is still ours (`sending`): a status callback
    that raced the provider's answer may have moved it on, and is not overwritten."""
    values: dict = {"status": status, "last_error": error, "next_attempt_at": next_attempt_at}
    if provider_sid is not None:
        values["provider_sid"] = provider_sid
    if sent_at is not None:
        values["sent_at"] = sent_at
    if attempts is not None:
        values["attempts"] = attempts
    mine = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.status == Message.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not mine and provider_sid is not None:
        # The callback came first; keep its status, fill in what it could not know.
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id, OutboundMessage.provider_sid.is_(None))
            .values(provider_sid=provider_sid)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message.id, OutboundMessage.sent_at.is_(None))
            .values(sent_at=sent_at or now, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    db.session.refresh(message)


def apply_status(
    provider_sid: str,
    provider_status: str,
    *,
    error_code: str | None = None,
    outbox_id: int | None = None,
    to: str | None = None,
    now: datetime | None = None,
) -> OutboundMessage | None:
    """A delivery report from Twilio's status callback. Reports may come in any order and
    more than once: a status only ever moves forward (sent → delivered), never back.
    Returns the message, or None when no message has that SID (nothing to do)."""
    now = now or utcnow()
    message = db.session.scalar(select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid))
    if message is None and outbox_id is not None:
        # The callback beat the sending job's commit of the SID (or the message was a TwiML
        # reply, whose SID only Twilio knows): the outbox id in the callback URL names it.
        candidate = db.session.get(OutboundMessage, outbox_id)
        if (
            candidate is not None
            and candidate.provider_sid is None
            and candidate.status in (Message.SENDING, Message.SENT)
            and (to is None or candidate.to == to)
        ):
            message = candidate
            message.provider_sid = provider_sid
    if message is None:
        return None
    status = (CALL_STATUSES if message.channel == senders.CALL else PROVIDER_STATUSES).get(provider_status)
    if status is not None and _moves_forward(message.status, status):
        message.status = status
        message.next_attempt_at = None
        if status in (Message.SENT, Message.DELIVERED) and message.sent_at is None:
            message.sent_at = now
        if status == Message.DELIVERED:
            message.delivered_at = now
            message.last_error = None
        if status == Message.FAILED:
            message.last_error = senders.error_record(
                "provider_reported", provider_status=provider_status, provider_code=error_code
            )
    db.session.commit()
    if status == Message.FAILED and error_code == str(senders.TWILIO_UNSUBSCRIBED):
        set_opt_out(message.to, True, now)
    return message


def _moves_forward(current: str, new: str) -> bool:
    if current == Message.FAILED:
        return False  # failed is final here; an administrator's retry starts it again
    if new == Message.FAILED:
        return current in (Message.SENDING, Message.SENT)
    return _PROGRESS[new] > _PROGRESS.get(current, 0)


def recover_stale(now: datetime | None = None) -> int:
    """Rows left `sending` past their lease (the worker died mid-send) become failed, not
    retried: the message may have gone out. Returns how many. Commits."""
    now = now or utcnow()
    count = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == Message.SENDING, OutboundMessage.next_attempt_at < now)
        .values(status=Message.FAILED, next_attempt_at=None, last_error=STALE_ERROR)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if count:
        log.warning("%d messages were left sending by a worker that stopped; marked failed", count)
    return count


def due_ids(grace: timedelta = timedelta(0), now: datetime | None = None) -> list[int]:
    """Messages waiting to be sent: queued for longer than `grace` (their job was lost, or Redis
    was down), and failed ones whose retry is due."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(OutboundMessage.id)
            .where(
                or_(
                    and_(OutboundMessage.status == Message.QUEUED, OutboundMessage.created_at <= now - grace),
                    and_(
                        OutboundMessage.status == Message.FAILED,
                        OutboundMessage.next_attempt_at.is_not(None),
                        OutboundMessage.next_attempt_at <= now,
                    ),
                )
            )
            .order_by(OutboundMessage.id)
        )
    )


def retry(message_id: int) -> OutboundMessage:
    """An administrator sends a failed or held message again (one more attempt, then the usual
    backoff). Refused while no sender is configured, and for a message being sent right now."""
    message = db.session.get(OutboundMessage, message_id)
    if message is None:
        raise NotFound(_("No message %(id)s.", id=message_id))
    if message.status not in (Message.FAILED, Message.HELD):
        raise Conflict(_("Only a failed or held message can be sent again."))
    if not senders.configured():
        raise Conflict(_("No SMS sender is configured: set the Twilio credentials first."))
    moved = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status.in_((Message.FAILED, Message.HELD)))
        .values(status=Message.QUEUED, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(message)
    if not moved:
        raise Conflict(_("The message is being sent right now."))
    queueing.enqueue_send(message.id)
    return message


def for_ticket(ticket: Ticket) -> list[OutboundMessage]:
    return list(
        db.session.scalars(
            select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id).order_by(OutboundMessage.id)
        )
    )


def listing(status: str | None = None) -> Select[tuple[OutboundMessage]]:
    """The outbox, newest first, optionally of one status (for the administrators' page)."""
    query = select(OutboundMessage)
    if status:
        query = query.where(OutboundMessage.status == status)
    return query.order_by(OutboundMessage.id.desc())


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status))
    return {status: count for status, count in rows}


def by_dedupe_key(key: str) -> OutboundMessage | None:
    return db.session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == key))


def _opted_out(phone: str) -> bool:
    return bool(db.session.scalar(select(Caller.id).where(Caller.phone == phone, Caller.opted_out_at.is_not(None))))


# -- the opt-out list (STOP / START) -------------------------------------------------------


def caller_for(phone: str) -> Caller | None:
    return db.session.scalar(select(Caller).where(Caller.phone == phone))


def set_opt_out(phone: str, opted_out: bool, now: datetime | None = None) -> Caller:
    """Record STOP (or START) for a number; commits."""
    now = now or utcnow()
    for attempt in range(2):
        caller = mark_opt_out(phone, opted_out, now)
        try:
            db.session.commit()
            return caller
        except IntegrityError:  # the same number created meanwhile: update that row instead
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def mark_opt_out(phone: str, opted_out: bool, now: datetime) -> Caller:
    """Record STOP (or START) in the caller's transaction (the caller commits)."""
    caller = caller_for(phone)
    if caller is None:
        caller = Caller(phone=phone, created_at=now)
        db.session.add(caller)
    caller.opted_out_at = (caller.opted_out_at or now) if opted_out else None
    return caller
