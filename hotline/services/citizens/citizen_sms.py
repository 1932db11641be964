"""Text messages with the citizen: what we send them, and what we make of what they send us.

Outgoing (through the outbox): the ticket number when a ticket is logged, the reply
and the satisfaction question when it is resolved. Texts are `templates/sms/<kind>.<locale>.txt`,
in the caller's language (Caller.locale) or the hotline's default one.

Confidential tickets (保密件) are handled by phone only: no text is sent about them,
and a text never rates, reports on or adds to them, since a sender's number can be
forged. Callers who opted out (STOP/退订) are sent nothing until they opt in again
(START/订阅); what they send us is still handled.

Incoming (`handle_inbound`, from the `/twilio/sms` webhook), in this order:
STOP/退订 and START/订阅; a rating 1/2/3 (满意/基本满意/不满意) of the caller's ticket
awaiting the survey; a ticket number, answered with its status if the ticket is the
sender's own; anything else, logged as a citizen message on the sender's open ticket.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import Caller, InboundMessage, OutboundMessage, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import outbox, survey, twilio_media
from hotline.services.citizens.outbox import caller_for  # the opt-out list lives with the outbox
from hotline.services.citizens.phones import normalise_phone
from hotline.services.errors import Conflict
from hotline.services.platform import queueing
from hotline.services.ticketing import derived, lifecycle
from hotline.services.ticketing.transition import record_event

log = logging.getLogger(__name__)

SUMMARY_MAX = 120  # characters of the department's reply quoted in a text
MESSAGE_MAX = 1600

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "退订", "取消订阅"}
START_WORDS = {"START", "UNSTOP", "订阅", "恢复订阅"}
RATING_WORDS = {
    "1": survey.SATISFIED,
    "2": survey.BASICALLY_SATISFIED,
    "3": survey.UNSATISFIED,
    "满意": survey.SATISFIED,
    "非常满意": survey.SATISFIED,
    "基本满意": survey.BASICALLY_SATISFIED,
    "不满意": survey.UNSATISFIED,
    "SATISFIED": survey.SATISFIED,
    "BASICALLY SATISFIED": survey.BASICALLY_SATISFIED,
    "UNSATISFIED": survey.UNSATISFIED,
    "NOT SATISFIED": survey.UNSATISFIED,
}
# 20261125-000042, also without the hyphen; digits not glued to other digits.
TICKET_NUMBER = re.compile(r"(?<!\d)(\d{8})-?(\d{6})(?!\d)")
_EDGE_PUNCTUATION = " \t\r\n.。!！,，;；:：、~～\"'“”‘’()（）[]【】"


# -- outgoing ------------------------------------------------------------------------------


def ticket_resolved(ticket: Ticket) -> OutboundMessage | None:
    """Queue the reply summary and the satisfaction question. Never raises."""
    return _safely(_ticket_resolved, ticket)


def caller_settings(phone: str) -> Row | None:
    """The caller's opt-out and language (`opted_out_at`, `locale`), None for a caller never
    seen: one look-up of two columns, as every intake runs it."""
    return db.session.connection().execute(_CALLER_STATEMENT, {"phone": phone}).first()


def created_text(ticket: Ticket, caller: Row | None) -> str | None:
    """The text that tells the caller the ticket's number; None when none is due: a call
    answered at once (直接办结), a confidential ticket, a caller who opted out. `caller` is
    `caller_settings(ticket.caller_phone)`."""
    if ticket.status == Status.CLOSED or ticket.confidential:
        return None
    if caller is not None and caller.opted_out_at is not None:
        return None
    public = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    return render(
        "created",
        _locale_of(caller),
        ticket=ticket,
        number=ticket.number,
        status_url=f"{public}/status" if public else None,  # the public status page
    )


_CALLER_STATEMENT = select(Caller.opted_out_at, Caller.locale).where(Caller.phone == bindparam("phone"))


def created_key(number: str) -> str:
    """The outbox's dedupe key of the created text: one per ticket, whoever writes it."""
    return f"created:{number}"


def _ticket_resolved(ticket: Ticket) -> OutboundMessage | None:
    if ticket.status != Status.RESOLVED or not may_text(ticket):
        return None
    body = render(
        "resolved_survey",
        locale_for(ticket.caller_phone),
        ticket=ticket,
        number=ticket.number,
        resolution=shorten(ticket.resolution or ""),
    )
    # A reopened ticket resolved again is asked again: the reopen count is part of the key.
    message, _ = outbox.queue_message(
        "resolved_survey",
        ticket.caller_phone,
        body,
        ticket=ticket,
        dedupe_key=f"resolved:{ticket.id}:{ticket.reopen_count}",
    )
    _tell_merged_callers(ticket)
    return message


def _tell_merged_callers(parent: Ticket) -> None:
    """Callers of merged duplicates (重复件) are told that it was handled, under their own number;
    the survey stays with the parent's caller. The parent is another citizen's ticket: its
    reply is not theirs to read (access.citizen_may_follow), they call the hotline for it."""
    told = {parent.caller_phone}
    for child in db.session.scalars(select(Ticket).where(Ticket.parent_id == parent.id).order_by(Ticket.id)):
        if child.caller_phone in told or not child.caller_phone or not may_text(child):
            continue
        told.add(child.caller_phone)
        body = render("resolved_merged", locale_for(child.caller_phone), number=child.number)
        outbox.queue_message(
            "resolved_merged",
            child.caller_phone,
            body,
            ticket=child,
            dedupe_key=f"resolved-merged:{child.id}:{parent.reopen_count}",
        )


def _safely(hook, ticket: Ticket) -> OutboundMessage | None:
    try:
        return hook(ticket)
    except Exception:  # the ticket is committed already: a lost text is logged, never fatal
        log.exception("could not queue the text for ticket %s", getattr(ticket, "number", "?"))
        db.session.rollback()
        return None


def may_text(ticket: Ticket) -> bool:
    """Whether we may send the caller unprompted texts about this ticket."""
    if ticket.confidential:
        return False
    caller = caller_for(ticket.caller_phone)
    return caller is None or not caller.opted_out


def locale_for(phone: str) -> str:
    return _locale_of(caller_for(phone))


def _locale_of(caller: Caller | Row | None) -> str:
    if caller is not None and caller.locale in current_app.config["HOTLINE_LANGUAGES"]:
        return caller.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def render(kind: str, locale: str, **context: Any) -> str:
    """The text of `templates/sms/<kind>.<locale>.txt` (the default locale's if that one is
    missing), with labels such as the status in the same language; blank lines dropped.

    Rendered from the Jinja environment directly, not through `render_template`: a text needs
    none of the pages' context processors (the menu, the language switch), which cost more than
    the text itself at every intake (benchmarks/intake.py)."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    environment = current_app.jinja_env
    with force_locale(_babel_locale(locale)):
        try:
            template = environment.get_template(f"sms/{kind}.{locale}.txt")
        except TemplateNotFound:
            if locale == default:
                raise
            template = environment.get_template(f"sms/{kind}.{default}.txt")
        text = template.render(context)
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


@lru_cache(maxsize=16)
def _babel_locale(code: str) -> Locale:
    """Parsed once: `force_locale` takes the parsed locale as it is (parsing costs more than
    rendering the text)."""
    return Locale.parse(code)


def shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- incoming ------------------------------------------------------------------------------


@dataclass
class Reply:
    """What to answer an incoming text. `body` None: nothing new to say (a repeated delivery,
    which the webhook answers with the reply it recorded the first time)."""

    meaning: str  # rating | status | stop | start | message | unknown | duplicate
    kind: str | None = None  # the template used for the answer
    body: str | None = None
    ticket: Ticket | None = None
    context: dict[str, Any] = field(default_factory=dict)
    phone: str = ""  # the sender, in E.164


def handle_inbound(
    message_sid: str, from_number: str, body: str, now: datetime | None = None, media: Sequence[str] = ()
) -> Reply:
    """Act on a text from a citizen and say what to answer; commits. A text Twilio delivers
    twice (same MessageSid) is acted on once. Raises InvalidInput for a sender that is not
    a phone number."""
    phone = normalise_phone(from_number)
    for attempt in range(2):
        if _seen(message_sid):
            return Reply("duplicate")
        try:
            reply = _handle(message_sid, phone, body or "", now or utcnow(), media)
        except IntegrityError:
            # The same MessageSid, handled by a concurrent delivery: that one answers.
            db.session.rollback()
            return Reply("duplicate")
        except Conflict:
            # The ticket moved meanwhile (a department replied, the sweep closed it): look again.
            db.session.rollback()
            if attempt:
                raise
            continue
        reply.phone = phone
        if reply.kind is not None:
            reply.body = render(reply.kind, locale_for(phone), **reply.context)
        return reply
    raise AssertionError("unreachable")


def _seen(message_sid: str) -> bool:
    return db.session.scalar(select(InboundMessage.id).where(InboundMessage.provider_sid == message_sid)) is not None


def _handle(message_sid: str, phone: str, body: str, now: datetime, media: Sequence[str] = ()) -> Reply:
    text = body.strip()[:MESSAGE_MAX]
    word = normalise_word(text)
    inbound = InboundMessage(provider_sid=message_sid, from_number=phone, body=text, meaning="unknown", received_at=now)
    db.session.add(inbound)  # committed with the action it causes: a repeat fails on its unique SID

    if word in STOP_WORDS or word in START_WORDS:
        inbound.meaning = "stop" if word in STOP_WORDS else "start"
        outbox.mark_opt_out(phone, word in STOP_WORDS, now)
        db.session.commit()
        return Reply(inbound.meaning, "opted_out" if word in STOP_WORDS else "opted_in")

    if word in RATING_WORDS:
        ticket = _awaiting_rating(phone)
        if ticket is None:
            db.session.commit()
            return Reply("unknown", "no_survey")
        inbound.meaning, inbound.ticket_id = "rating", ticket.id
        rating = RATING_WORDS[word]
        survey.record_rating(ticket, rating, now=now)
        if ticket.status == Status.IN_PROGRESS:  # 重办
            return Reply("rating", "reopened", ticket=ticket, context={"ticket": ticket, "number": ticket.number})
        escalated = rating == survey.UNSATISFIED
        context = {"ticket": ticket, "number": ticket.number, "escalated": escalated}
        return Reply("rating", "rating_thanks", ticket=ticket, context=context)

    match = TICKET_NUMBER.search(unicodedata.normalize("NFKC", text))
    if match:
        number = f"{match.group(1)}-{match.group(2)}"
        ticket = _own_ticket(phone, number)
        inbound.meaning = "status"
        if ticket is None:
            db.session.commit()
            return Reply("status", "unknown_ticket", context={"number": number})
        inbound.ticket_id = ticket.id
        if media:  # pictures sent with the ticket's number: they are for that ticket (issue 18 item 5)
            data = {"text": text, "channel": "sms", "media": len(media)}
            record_event(ticket, None, "citizen_message", None, None, data, at=now)
        db.session.commit()
        if media:
            _keep_media(ticket, media)
        return _status_reply(ticket)

    ticket = _current_ticket(phone) if text or media else None
    if ticket is None:
        db.session.commit()
        return Reply("unknown", "unknown_ticket", context={"number": None})
    inbound.meaning, inbound.ticket_id = "message", ticket.id
    data = {"text": text, "channel": "sms"} | ({"media": len(media)} if media else {})
    record_event(ticket, None, "citizen_message", None, None, data, at=now)
    derived.tickets_changed([ticket], scopes=False, figures=False)  # the message's words
    if ticket.status == Status.WAITING:
        lifecycle.apply(None, ticket, "resume")  # the citizen answered: the clocks run again (commits)
    else:
        db.session.commit()
    if media:  # MMS pictures (issue 18 item 5): fetched from Twilio by a job, kept as attachments
        _keep_media(ticket, media)
    return Reply("message", "message_logged", ticket=ticket, context={"ticket": ticket, "number": ticket.number})


def _keep_media(ticket: Ticket, media: Sequence[str]) -> None:
    """Hand the pictures to a job, after the text's commit (the text is kept whatever becomes of
    them); with Redis away nothing would fetch them: the timeline says so, for staff to ask again."""
    urls = list(media[: twilio_media.MEDIA_MAX])
    if not queueing.enqueue_keep_media(ticket.id, urls):
        twilio_media.note_not_kept(ticket.id, [twilio_media.media_sid(url) for url in urls], twilio_media.NOT_QUEUED)


def normalise_word(text: str) -> str:
    """ＳＴＯＰ, "stop.", " 1 " → STOP, STOP, 1: full-width forms folded, edges trimmed, upper case."""
    folded = unicodedata.normalize("NFKC", text).strip(_EDGE_PUNCTUATION)
    return " ".join(folded.split()).upper()


def _texted_tickets(phone: str):
    return select(Ticket).where(Ticket.caller_phone == phone, Ticket.confidential.is_(False))


def _awaiting_rating(phone: str) -> Ticket | None:
    return db.session.scalar(
        _texted_tickets(phone).where(Ticket.status == Status.RESOLVED).order_by(Ticket.resolved_at.desc()).limit(1)
    )


def _own_ticket(phone: str, number: str) -> Ticket | None:
    """Only the sender's own ticket: any other number gets the same "not found" as a wrong one."""
    return db.session.scalar(_texted_tickets(phone).where(Ticket.number == number))


def _current_ticket(phone: str) -> Ticket | None:
    """Where a free-text message goes: the latest ticket waiting on the citizen (they answer
    what was asked: issue 17), else the latest open ticket, else one awaiting the survey."""
    waiting = db.session.scalar(
        _texted_tickets(phone).where(Ticket.status == Status.WAITING).order_by(Ticket.paused_at.desc()).limit(1)
    )
    if waiting is not None:
        return waiting
    open_ticket = db.session.scalar(
        _texted_tickets(phone).where(Ticket.status.in_(Status.OPEN)).order_by(Ticket.created_at.desc()).limit(1)
    )
    return open_ticket or _awaiting_rating(phone)


def _status_reply(ticket: Ticket) -> Reply:
    # A duplicate is answered by the ticket it was merged into when that is the same caller's;
    # merged into another citizen's or a confidential ticket, a neutral text with their own number.
    shown = access.answering_for_citizen(ticket)
    if shown is None:
        return Reply("status", "status_merged", ticket=ticket, context={"ticket": ticket, "number": ticket.number})
    answered = shown.status in (Status.RESOLVED, Status.CLOSED)
    context = {
        "ticket": ticket,
        "number": ticket.number,
        # Never the other ticket's number (as on the public status page).
        "merged": shown is not ticket,
        "status": shown.status,  # the template shows its label, in the text's language
        "resolution": shorten(shown.resolution or "") if answered else "",
        "awaiting_rating": shown is ticket and shown.status == Status.RESOLVED,
    }
    return Reply("status", "status_reply", ticket=ticket, context=context)
