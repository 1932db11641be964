"""Phone calls through Twilio voice: the call log, the operators' queue, voicemail and call-backs.

A call's `status` is one of:

- ``ringing``: logged by the `/twilio/voice` webhook, the greeting is playing;
- ``queued``: waiting in the operators' queue;
- ``in-progress``: answered by an operator (`answered_at` is set): from the console, or, where
  operators' phones dequeue calls in Twilio, reported by the queue (QueueResult ``bridged``);
- ``voicemail``: the caller is offered, or leaving, a message;
- Twilio's final CallStatus once the call is over (`ended_at`): ``completed``, ``busy``,
  ``no-answer``, ``failed`` or ``canceled``.

Twilio's own ``in-progress`` status callback means that Twilio picked up the call to play our
greeting, not that an operator did, so it changes nothing here.

A call that ended without an operator answering and without a voicemail ticket is `missed`: the
2025 national rules ask hotlines to call such callers back. It stays on the console's call-back
list until an operator marks it called back, or the caller is reached by a later call (answered,
or leaving a voicemail). Callers who withhold their number cannot be called back and are not listed.

A voicemail becomes a ticket in `pending_dispatch` (a dispatcher listens to it and sends it on),
channel `voicemail`, created by the system (no operator), under the category whose code is
HOTLINE_VOICEMAIL_CATEGORY or, when that is unset or unknown, a top-level category named
其他/其它/Other (or coded `other`). Where there is neither, no ticket is made: the recording stays on
the call, which is listed as missed so that an operator calls the citizen back. Its description
is the recording's URL until Twilio's transcription arrives, which then replaces the placeholder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from hotline.extensions import db
from hotline.models import Call, Category, Channel, Ticket, User
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens.phones import normalise_phone
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.platform import queueing
from hotline.services.ticketing import derived, intake
from hotline.services.ticketing.intake import DESCRIPTION_MAX
from hotline.services.ticketing.transition import record_event

log = logging.getLogger(__name__)

RINGING, QUEUED, IN_PROGRESS, VOICEMAIL = "ringing", "queued", "in-progress", "voicemail"
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
LIVE = (RINGING, QUEUED, IN_PROGRESS)
# Everything Twilio may report in a call status callback.
TWILIO_STATUSES = ("queued", "initiated", "ringing", "in-progress", *ENDED)
# A call still "live" after this long lost its status callbacks: the console leaves it out.
LIVE_WINDOW = timedelta(hours=4)
LISTED = 50  # calls shown per console list
VOICEMAIL_TYPE = "help"  # 求助: what a message left on the hotline is, until a dispatcher reads it
OTHER_NAMES = ("其他", "其它", "other")
SID_MAX, PHONE_MAX, URL_MAX = 64, 32, 500


# -- the call log ----------------------------------------------------------------------------


def caller_number(raw: str | None) -> str:
    """The caller's number in E.164, or "" when it is withheld or not a phone number
    (Twilio sends "anonymous", "Restricted", "+266696687"... for those)."""
    try:
        return normalise_phone((raw or "").replace("\x00", "").strip()[:PHONE_MAX])
    except InvalidInput:
        return ""


def find_call(call_sid: str | None) -> Call | None:
    sid = (call_sid or "").strip()
    if not sid or len(sid) > SID_MAX or "\x00" in sid:
        return None
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


def log_call(call_sid: str, from_raw: str | None = "", to_raw: str | None = "", now: datetime | None = None) -> Call:
    """The call with this CallSid, logged the first time Twilio names it; commits. Twilio
    retries a webhook it got no answer to: the same CallSid is logged once."""
    for attempt in range(2):
        call = find_call(call_sid)
        if call is not None:
            return call
        call = Call(
            call_sid=call_sid,
            from_number=caller_number(from_raw),
            to_number=(to_raw or "").replace("\x00", "").strip()[:PHONE_MAX],
            status=RINGING,
            started_at=now or utcnow(),
        )
        db.session.add(call)
        try:
            db.session.commit()
            return call
        except IntegrityError:  # logged meanwhile by a concurrent request: use that row
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def operators_on_duty(now: datetime | None = None) -> bool:
    """Whether calls go to the operators' queue: always (HOTLINE_VOICE_HOURS=always, the default:
    a 12345 line has people on it 7x24), or, for a line that really closes
    (HOTLINE_VOICE_HOURS=office), within the working calendar's office hours."""
    if (current_app.config.get("HOTLINE_VOICE_HOURS") or "always").strip().lower() != "office":
        return True
    return work_calendar().is_office_time(now or utcnow())


def mark_queued(call: Call, now: datetime | None = None) -> Call:
    """The call waits in the operators' queue (from the greeting, or the queue's wait requests);
    the first time, `queued_at` records when it joined (the call report's wait starts there)."""
    return _move(call, QUEUED, (RINGING,), queued_at=func.coalesce(Call.queued_at, now or utcnow()))


def mark_voicemail(call: Call, now: datetime | None = None) -> Call:
    """The caller is offered the voicemail prompt (out of hours, or after the longest wait)."""
    return _move(call, VOICEMAIL, (RINGING, QUEUED), voicemail_at=func.coalesce(Call.voicemail_at, now or utcnow()))


def _move(call: Call, to: str, allowed: tuple[str, ...], **values) -> Call:
    # Guarded in SQL: a status callback that ended the call meanwhile is never undone.
    result = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.status.in_(allowed), Call.ended_at.is_(None))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        db.session.refresh(call)
    return call


def update_status(
    call_sid: str, status: str, from_raw: str | None = "", to_raw: str | None = "", now: datetime | None = None
) -> Call:
    """Apply a Twilio call status callback; commits. Only the end of the call changes anything
    here (see the module's notes); a call Twilio names for the first time is logged."""
    if status not in TWILIO_STATUSES:
        raise InvalidInput(f"unknown CallStatus {status!r}", field="CallStatus")
    call = log_call(call_sid, from_raw, to_raw, now)
    if status in ENDED:
        end_call(call, status, now)
    return call


def end_call(call: Call, status: str = "completed", now: datetime | None = None) -> Call:
    """The call is over; the first report of its end counts. Unanswered and without a voicemail
    ticket, it is missed (a voicemail arriving later clears that). Commits."""
    if status not in ENDED:
        raise InvalidInput(f"{status!r} is not a final call status", field="CallStatus")
    now = now or utcnow()
    db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.ended_at.is_(None))
        .values(
            status=status,
            ended_at=now,
            missed=and_(Call.answered_at.is_(None), Call.ticket_id.is_(None)),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(call)
    return call


def answer_call(operator: User, call: Call, now: datetime | None = None) -> Call:
    """An operator takes the call (the console's "answer" button). Two operators at once: one
    gets it, the other a Conflict; so does anyone once the caller has hung up. Commits."""
    access.require_role(operator, *access.INTAKE_ROLES)
    result = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.answered_at.is_(None), Call.ended_at.is_(None), Call.status.in_(LIVE))
        .values(status=IN_PROGRESS, answered_at=now or utcnow(), answered_by_id=operator.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(call)
    if not result.rowcount:
        if call.answered_at is not None:
            raise Conflict(_("This call has already been answered."))
        if call.ended_at is not None:
            raise Conflict(_("The caller has hung up. Call them back from the missed calls list."))
        raise Conflict(_("This call is no longer waiting for an operator."))
    return call


def mark_bridged(call: Call, now: datetime | None = None) -> Call:
    """Twilio connected the queued caller to an operator's phone (QueueResult bridged)."""
    db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.answered_at.is_(None))
        .values(answered_at=now or utcnow(), missed=False)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.ended_at.is_(None))
        .values(status=IN_PROGRESS)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(call)
    return call


def link_ticket(call: Call, ticket: Ticket, actor: User | None = None, now: datetime | None = None) -> bool:
    """The ticket logged for this call (the intake form carries the CallSid). A call keeps the
    first ticket linked to it. A call still on the line counts as answered; a missed call that
    gets a ticket was called back, by the ticket's operator. Commits; False if another ticket
    was linked first."""
    now = now or utcnow()
    result = db.session.execute(
        update(Call)
        .where(Call.id == call.id, or_(Call.ticket_id.is_(None), Call.ticket_id == ticket.id))
        .values(ticket_id=ticket.id)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        db.session.rollback()
        db.session.refresh(call)
        return False
    db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.answered_at.is_(None), Call.ended_at.is_(None))
        .values(answered_at=now, status=IN_PROGRESS, answered_by_id=actor.id if actor is not None else None)
        .execution_options(synchronize_session=False)
    )
    if actor is not None:
        db.session.execute(
            update(Call)
            .where(Call.id == call.id, Call.missed.is_(True), Call.called_back_at.is_(None))
            .values(called_back_at=now, called_back_by_id=actor.id)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    db.session.refresh(call)
    return True


def link_ticket_from_intake(call_sid: str | None, ticket: Ticket, actor: User | None) -> bool:
    """The intake form's hidden `call` field. Never raises: the ticket is saved already."""
    if not call_sid:
        return False
    try:
        call = find_call(call_sid)
        if call is None:
            log.info("ticket %s names an unknown call %r", ticket.number, call_sid[:SID_MAX])
            return False
        return link_ticket(call, ticket, actor)
    except Exception:
        log.exception("could not link ticket %s to call %r", ticket.number, call_sid[:SID_MAX])
        db.session.rollback()
        return False


def mark_called_back(operator: User, call: Call, now: datetime | None = None) -> Call:
    """An operator called the citizen back. The first one to say so is kept. Commits."""
    access.require_role(operator, *access.INTAKE_ROLES)
    if not call.missed:
        raise Conflict(_("Only a missed call can be called back."))
    if not call.from_number:
        raise Conflict(_("The caller withheld their number."))
    db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.called_back_at.is_(None))
        .values(called_back_at=now or utcnow(), called_back_by_id=operator.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(call)
    return call


def live_calls(now: datetime | None = None, limit: int = LISTED) -> list[Call]:
    """Calls ringing, waiting in the queue or on the line with an operator, oldest first."""
    since = (now or utcnow()) - LIVE_WINDOW
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.status.in_(LIVE), Call.ended_at.is_(None), Call.started_at >= since)
            .order_by(Call.started_at, Call.id)
            .limit(limit)
        )
    )


def _missed_query():
    later = aliased(Call)
    reached_since = exists().where(
        later.from_number == Call.from_number,
        later.started_at > Call.started_at,
        or_(later.answered_at.is_not(None), later.ticket_id.is_not(None)),
    )
    return select(Call).where(
        Call.missed.is_(True),
        Call.called_back_at.is_(None),
        Call.from_number != "",
        ~reached_since,
    )


def missed_calls(limit: int = LISTED) -> list[Call]:
    """Missed calls still to be called back, oldest first (first missed, first called)."""
    return list(db.session.scalars(_missed_query().order_by(Call.started_at, Call.id).limit(limit)))


def missed_count() -> int:
    return db.session.scalar(select(func.count()).select_from(_missed_query().subquery())) or 0


# -- voicemail --------------------------------------------------------------------------------


def voicemail_category() -> Category | None:
    """HOTLINE_VOICEMAIL_CATEGORY (a category code), else a top-level 其他/Other category."""
    code = (current_app.config.get("HOTLINE_VOICEMAIL_CATEGORY") or "").strip()
    if code:
        category = db.session.scalar(select(Category).where(Category.code == code))
        if category is not None:
            return category
        log.warning("HOTLINE_VOICEMAIL_CATEGORY=%s names no category: looking for 其他/Other", code)
    return db.session.scalar(
        select(Category)
        .where(
            Category.parent_id.is_(None),
            or_(func.lower(Category.name).in_(OTHER_NAMES), func.lower(Category.code) == "other"),
        )
        .order_by(Category.id)
        .limit(1)
    )


@dataclass
class Voicemail:
    call: Call
    ticket: Ticket | None
    created: bool = False


def record_voicemail(
    call_sid: str,
    recording_url: str,
    duration: int | None = None,
    from_raw: str | None = "",
    to_raw: str | None = "",
    now: datetime | None = None,
) -> Voicemail:
    """A message the caller left (the recording's action or status callback, or a transcription
    arriving first). The call gets one ticket, however many callbacks Twilio sends. An empty
    recording makes none. Commits."""
    now = now or utcnow()
    call = log_call(call_sid, from_raw, to_raw, now)
    if call.ticket_id is not None:
        return Voicemail(call, call.ticket)
    if duration is not None and duration <= 0:
        return Voicemail(call, None)
    if call.recording_url != recording_url:
        call.recording_url = recording_url[:URL_MAX]
        db.session.commit()
    category = voicemail_category()
    if category is None:
        log.error(
            "voicemail of call %s not made a ticket: set HOTLINE_VOICEMAIL_CATEGORY or add a top-level 其他 category",
            call.call_sid,
        )
        # No ticket: the caller must be called back, so an ended call is listed as missed.
        db.session.execute(
            update(Call)
            .where(Call.id == call.id, Call.ended_at.is_not(None), Call.answered_at.is_(None))
            .values(missed=True)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        db.session.refresh(call)
        return Voicemail(call, None)

    fields = {
        "type": VOICEMAIL_TYPE,
        "category_id": category.id,
        "description": voicemail_description(call.recording_url or recording_url, call.transcription),
        "urgency": "normal",
        "caller_phone": call.from_number,
        "caller_name": "",
    }
    # Nobody has heard it yet: a dispatcher listens to it and sends it on (not through routing).
    opened = intake.open_ticket(
        None, Channel.VOICEMAIL, fields, at=now, to_desk=True, event_data={"call": call.call_sid}, commit=False
    )
    claimed = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.ticket_id.is_(None))
        .values(ticket_id=opened.written.id, missed=False)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # another delivery of this callback made the ticket first
        db.session.rollback()
        db.session.refresh(call)
        return Voicemail(call, call.ticket)
    db.session.commit()
    db.session.refresh(call)
    intake.hand_over(opened)  # the ticket number by text, through the workers
    ticket = opened.ticket
    queueing.enqueue_keep_recording(ticket.id)  # the recording kept as an attachment (issue 18 item 5)
    return Voicemail(call, ticket, created=True)


def add_transcription(
    call_sid: str,
    text: str,
    recording_url: str | None = None,
    from_raw: str | None = "",
    to_raw: str | None = "",
    now: datetime | None = None,
) -> Voicemail:
    """Twilio's transcription of the voicemail: kept on the call and put into the ticket's
    description in place of the placeholder (or after what is there), with a timeline event.
    The same transcription again changes nothing. Commits."""
    now = now or utcnow()
    text = " ".join((text or "").split())
    call = log_call(call_sid, from_raw, to_raw, now)
    if not text or call.transcription == text:
        return Voicemail(call, call.ticket)
    for attempt in range(2):
        call.transcription = text
        if recording_url and not call.recording_url:
            call.recording_url = recording_url[:URL_MAX]
        if call.ticket_id is None:
            db.session.commit()
            if not call.recording_url:
                return Voicemail(call, None)
            # The recording's own callbacks were lost or are late: the ticket is made now, transcribed.
            return record_voicemail(call.call_sid, call.recording_url, now=now)
        ticket = call.ticket
        assert ticket is not None
        placeholder = voicemail_description(call.recording_url or "", None)
        if ticket.description == placeholder:
            ticket.description = voicemail_description(call.recording_url or "", text)
        else:
            addition = _in_default_locale(lambda: _("Transcription of the voicemail: %(text)s", text=text))
            ticket.description = (ticket.description + "\n\n" + addition)[:DESCRIPTION_MAX]
        record_event(ticket, None, "voicemail_transcribed", None, None, {"text": text}, at=now)
        try:
            derived.tickets_changed([ticket], scopes=False, figures=False)  # its words (flushes)
            db.session.commit()  # the call's transcription and the ticket's together
            return Voicemail(call, ticket)
        except StaleDataError:  # someone acted on the ticket meanwhile: apply it to what they saved
            db.session.rollback()
            db.session.refresh(call)
            if attempt:
                raise
    raise AssertionError("unreachable")


def voicemail_description(recording_url: str, transcription: str | None) -> str:
    """A voicemail ticket's description, in the hotline's language: the transcription (or a
    placeholder until it arrives), then where to listen to the recording."""

    def build() -> str:
        recording = _("Recording of the voicemail: %(url)s", url=recording_url)
        if not transcription:
            return _("Voicemail, not transcribed yet: listen to the recording.") + "\n" + recording
        room = max(DESCRIPTION_MAX - len(recording) - 2, 0)
        return transcription[:room] + "\n\n" + recording

    return _in_default_locale(build)


def _in_default_locale(build):
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return build()
