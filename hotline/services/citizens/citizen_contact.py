"""Contact with the citizen (先联系后办理) and callback (回访): issue 17 items 3 and 5.

The unit holding a ticket must reach its citizen before it works the ticket, and national
assessments count how fast it does (the first-contact clock, `sla.contact_level`). Staff:
- record an attempt made outside (reached, no answer, wrong number, a text), with a note;
- text the citizen from a template (through the outbox);
- start a click-to-call: the hotline rings the staff member's own phone (`User.phone`) and,
  when they answer, bridges the citizen from the hotline's number (TwiML <Dial>,
  telephony/contact_calls.py), so that neither sees the other's number; Twilio's status
  callback logs the call with its duration (`call_ended`);
- reveal the citizen's number with a reason, written to the view log.

After a ticket is resolved, operators call its citizen from the callback queue (the same
click-to-call) and record the answer (满意 / 基本满意 / 不满意); unsatisfied reopens the ticket
(重办) exactly as a text rating does (`survey.record_rating`).

Every attempt is a `TicketContact` row and an event of the lifecycle table (`lifecycle`).
The first one that reached the citizen (or texted them) stops the first-contact clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from twilio.base.exceptions import TwilioException

from hotline.extensions import db
from hotline.models import OutboundMessage, Status, Ticket, TicketContact, User
from hotline.models.audit import ViewChannel, ViewKind
from hotline.models.types import utcnow
from hotline.services.accounts import access, audit
from hotline.services.citizens import citizen_sms, outbox, senders, survey
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.ticketing import derived, lifecycle

log = logging.getLogger(__name__)

NOTE_MAX = 2000
QUESTION_MAX = 200  # characters of the staff member's question in the text
REASON_MAX = 500
# The texts a unit may send the citizen (templates/sms/<name>.<locale>.txt).
TEXT_TEMPLATES = ("contact_tried", "contact_visit")
# Twilio's DialCallStatus values of a citizen who answered the bridged call.
DIAL_ANSWERED = ("completed", "answered")
CALL_ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


# --- staff phones -----------------------------------------------------------------------------


def staff_phone(raw: str | None, region: str | None = None) -> str | None:
    """A staff member's own phone as E.164 (validated with `phonenumbers`); empty: None."""
    text = (raw or "").strip()
    if not text:
        return None
    region = region or current_app.config.get("HOTLINE_PHONE_REGION") or "CN"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(_("“%(phone)s” is not a valid phone number.", phone=text[:40]), field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def set_phone(user: User, raw: str | None) -> User:
    user.phone = staff_phone(raw)
    db.session.commit()
    return user


# --- attempts recorded by hand ----------------------------------------------------------------


def record_contact(
    actor: User,
    ticket: Ticket,
    outcome: str,
    note: str = "",
    expected_version: int | None = None,
    template: str | None = None,
) -> TicketContact:
    """An attempt to reach the citizen, made outside the hotline's calls; with `template` (outcome
    `text`), the text is also sent to the citizen through the outbox."""
    lifecycle.require(actor, ticket, "contact")
    if outcome not in TicketContact.OUTCOMES:
        raise InvalidInput(_("The outcome is one of: %(all)s.", all=", ".join(TicketContact.OUTCOMES)), field="outcome")
    text = (note or "").strip()[:NOTE_MAX]
    if template and outcome != TicketContact.TEXT:
        raise InvalidInput(_("A text template goes with the outcome “text”."), field="template")
    if template and template not in TEXT_TEMPLATES:
        raise InvalidInput(_("Unknown text template “%(name)s”.", name=template[:40]), field="template")
    if template and not citizen_sms.may_text(ticket):
        raise Conflict(_("The citizen may not be texted (confidential, or they opted out)."))
    lifecycle.check(ticket, "contact", expected_version)
    now = utcnow()
    contact = TicketContact(ticket=ticket, outcome=outcome, note=text, by=actor, at=now)
    db.session.add(contact)
    _first_contact(ticket, outcome, now)
    data = {"outcome": outcome, "note": text} | ({"template": template} if template else {})
    lifecycle.apply(actor, ticket, "contact", expected_version=expected_version, data=data, at=now)
    if template:
        body = citizen_sms.render(template, citizen_sms.locale_for(ticket.caller_phone), number=ticket.number)
        outbox.queue_message(template, ticket.caller_phone, body, ticket=ticket, dedupe_key=f"contact:{contact.id}")
    return contact


def reveal_phone(actor: User, ticket: Ticket, reason: str, expected_version: int | None = None) -> str:
    """The citizen's number, shown to unit staff who say why; the view log keeps who, when and why."""
    lifecycle.require(actor, ticket, "reveal_phone")
    text = (reason or "").strip()[:REASON_MAX]
    if not text:
        raise InvalidInput(_("Say why you need the citizen's number."), field="reason")
    lifecycle.check(ticket, "reveal_phone", expected_version)
    now = utcnow()
    db.session.add(audit.view_record(actor, ticket, ViewChannel.REVEAL, what=ViewKind.CALLER, reason=text, at=now))
    lifecycle.apply(actor, ticket, "reveal_phone", expected_version=expected_version, data={"reason": text}, at=now)
    return ticket.caller_phone


def ask_citizen(ticket: Ticket, question: str) -> OutboundMessage | None:
    """Waiting on the citizen (the `wait` action): the staff member's question goes to the citizen
    by text, through the outbox; their reply lands on the timeline and resumes the ticket
    (`citizen_sms`, which takes a free text to the caller's ticket that waits on them first).
    Never raises: the ticket is committed already, a lost text is logged."""
    if not ticket.caller_phone or not citizen_sms.may_text(ticket):
        return None
    try:
        body = citizen_sms.render(
            "waiting_question",
            citizen_sms.locale_for(ticket.caller_phone),
            number=ticket.number,
            question=citizen_sms.shorten(question, QUESTION_MAX),
        )
        waits = sum(1 for event in ticket.events if event.kind == "waiting")
        message, _created = outbox.queue_message(
            "waiting_question", ticket.caller_phone, body, ticket=ticket, dedupe_key=f"waiting:{ticket.id}:{waits}"
        )
    except Exception:
        log.exception("could not queue the question to the citizen of ticket %s", ticket.number)
        db.session.rollback()
        return None
    return message


# --- click-to-call ----------------------------------------------------------------------------


def call_citizen(actor: User, ticket: Ticket, expected_version: int | None = None) -> TicketContact:
    """Unit staff: ring the actor's phone, then bridge the citizen (see the module's note)."""
    return _start_call(actor, ticket, "call_citizen", TicketContact.CONTACT, expected_version)


def callback_call(actor: User, ticket: Ticket, expected_version: int | None = None) -> TicketContact:
    """An operator calls the citizen of a resolved ticket from the callback queue."""
    return _start_call(actor, ticket, "callback_call", TicketContact.CALLBACK, expected_version)


def _start_call(actor: User, ticket: Ticket, name: str, purpose: str, expected_version: int | None) -> TicketContact:
    lifecycle.require(actor, ticket, name)
    lifecycle.check(ticket, name, expected_version)
    if not actor.phone:
        raise InvalidInput(_("Add your own phone number to your account first: the hotline rings it."), field="phone")
    if not ticket.caller_phone:
        raise Conflict(_("The citizen left no number to call."))
    sender = senders.current_sender()
    voice_number = current_app.config.get("TWILIO_VOICE_NUMBER") or current_app.config.get("TWILIO_FROM_NUMBER")
    if not isinstance(sender, senders.TwilioSender) or not voice_number:
        raise Conflict(_("Calls through the hotline need Twilio to be configured."))
    base = _public_base()
    try:
        call = sender.client.calls.create(
            to=actor.phone,
            from_=voice_number,
            url=f"{base}/twilio/contact/bridge",
            method="POST",
            status_callback=f"{base}/twilio/contact/status",
            status_callback_method="POST",
        )
    except TwilioException as error:
        raise Conflict(_("Twilio did not start the call: %(error)s", error=str(error)[:200])) from None
    now = utcnow()
    contact = TicketContact(
        ticket=ticket, purpose=purpose, outcome=TicketContact.CALLING, by=actor, at=now, call_sid=call.sid
    )
    db.session.add(contact)
    lifecycle.apply(actor, ticket, name, expected_version=expected_version, data={"call_sid": call.sid}, at=now)
    return contact


@dataclass(frozen=True)
class Bridge:
    to: str  # the citizen's number
    caller_id: str  # the hotline's


def bridge(call_sid: str) -> Bridge | None:
    """What to dial when the staff member answered call `call_sid`: None for a call we did not start."""
    contact = _calling(call_sid)
    if contact is None:
        return None
    number = current_app.config.get("TWILIO_VOICE_NUMBER") or current_app.config.get("TWILIO_FROM_NUMBER") or ""
    return Bridge(to=contact.ticket.caller_phone, caller_id=number)


def dialled(call_sid: str, dial_status: str, duration: int | None) -> TicketContact | None:
    """The <Dial> to the citizen ended (its action): keep how, until the call's status callback."""
    contact = _calling(call_sid)
    if contact is None:
        return None
    contact.dial_status = dial_status
    if dial_status in DIAL_ANSWERED:
        contact.duration_seconds = duration
    db.session.commit()
    return contact


def call_ended(call_sid: str, status: str, duration: int | None, at: datetime | None = None) -> TicketContact | None:
    """Twilio's status callback for a call we started: log it on the ticket, once (Twilio may
    post it again). Reached when the citizen's leg was answered; the duration is that leg's
    (the whole call's when the <Dial> reported none)."""
    contact = _calling(call_sid)
    if contact is None or status not in CALL_ENDED:
        return None
    now = at or utcnow()
    reached = contact.dial_status in DIAL_ANSWERED
    contact.outcome = TicketContact.REACHED if reached else TicketContact.NO_ANSWER
    if contact.duration_seconds is None and reached:
        contact.duration_seconds = duration
    if not reached:
        contact.duration_seconds = 0
        contact.note = contact.note or _no_answer_note(status, contact.dial_status)
    contact.at = now
    ticket = contact.ticket
    if contact.purpose == TicketContact.CONTACT:
        _first_contact(ticket, contact.outcome, now)
    data = {
        "call_sid": call_sid,
        "outcome": contact.outcome,
        "duration_seconds": contact.duration_seconds,
        "by": contact.by.username if contact.by else None,
        "purpose": contact.purpose,
    }
    lifecycle.apply(None, ticket, "log_call", data=data, at=now)
    return contact


def _no_answer_note(status: str, dial_status: str | None) -> str:
    if dial_status is None:
        return "staff phone: " + status  # the staff member never answered: the citizen was not called
    return "citizen: " + dial_status


def _calling(call_sid: str) -> TicketContact | None:
    if not call_sid:
        return None
    return db.session.scalar(
        select(TicketContact).where(TicketContact.call_sid == call_sid, TicketContact.outcome == TicketContact.CALLING)
    )


# --- callback (回访) ---------------------------------------------------------------------------


def record_callback(
    actor: User, ticket: Ticket, rating: str, words: str = "", expected_version: int | None = None
) -> Ticket:
    """An operator's callback answer: the citizen's rating and words; unsatisfied reopens (重办)."""
    lifecycle.require(actor, ticket, "callback")
    if rating not in survey.RATINGS:
        raise InvalidInput(_("A rating is satisfied, basically_satisfied or unsatisfied."), field="rating")
    text = (words or "").strip()[:NOTE_MAX]
    lifecycle.check(ticket, "callback", expected_version)
    now = utcnow()
    db.session.add(
        TicketContact(
            ticket=ticket,
            purpose=TicketContact.CALLBACK,
            outcome=TicketContact.REACHED,
            note=text,
            rating=rating,
            by=actor,
            at=now,
        )
    )
    data = {"rating": rating, "words": text}
    lifecycle.apply(
        actor, ticket, "callback", expected_version=expected_version, data=data, at=now, changes=derived.Changes()
    )
    # The rating as a text rating records it (rated, then closed or reopened), in the same commit.
    return survey.record_rating(ticket, rating, via="callback", now=now)


def callback_queue(actor: User, now: datetime | None = None, limit: int = 200) -> list[Ticket]:
    """Resolved tickets to call back, oldest answer first: per HOTLINE_CALLBACK_POLICY, every
    complaint (`complaints`), or every ticket not rated by text within HOTLINE_CALLBACK_HOURS
    (`unrated`), or both (`complaints,unrated`, the default); one called back already is done."""
    now = now or utcnow()
    policy = {
        p.strip() for p in str(current_app.config.get("HOTLINE_CALLBACK_POLICY", "complaints,unrated")).split(",")
    }
    hours = float(current_app.config.get("HOTLINE_CALLBACK_HOURS", 24))
    wanted = []
    if "complaints" in policy:
        wanted.append(Ticket.type == "complaint")
    if "unrated" in policy:
        wanted.append(and_(Ticket.rated_at.is_(None), Ticket.resolved_at <= now - timedelta(hours=hours)))
    if not wanted:
        return []
    called = exists().where(
        TicketContact.ticket_id == Ticket.id,
        TicketContact.purpose == TicketContact.CALLBACK,
        TicketContact.outcome != TicketContact.CALLING,
        TicketContact.at >= Ticket.resolved_at,
    )
    query = (
        access.visible_tickets(actor)
        .where(Ticket.status == Status.RESOLVED, or_(*wanted), ~called)
        .order_by(Ticket.resolved_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- reading ----------------------------------------------------------------------------------


def contacts_of(ticket: Ticket) -> list[TicketContact]:
    if ticket.id is None:
        return []
    return list(
        db.session.scalars(select(TicketContact).where(TicketContact.ticket_id == ticket.id).order_by(TicketContact.id))
    )


def _first_contact(ticket: Ticket, outcome: str, now: datetime) -> None:
    """The first contact that reached (or texted) the citizen stops the first-contact clock."""
    if outcome in TicketContact.CONTACTED and ticket.first_contacted_at is None:
        ticket.first_contacted_at = now


def _public_base() -> str:
    return senders.public_url_for("").rstrip("/")
