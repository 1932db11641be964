"""On duty out of hours (值班): each unit's rota, the supervisors' rota, and the alerts that an
urgent ticket reaching a unit out of office hours sets off.

The rota: dated shifts (`DutyShift`) override the weekly pattern (`DutyPattern`: "workday" or
"restday" rules, the day's kind read from the holiday calendar, so a statutory holiday is a rest
day and a make-up workday a working day). Rows with no department are the supervisors' rota.

The alerts: `ticket_reached_unit` (called by `lifecycle.apply` whenever an action hands a
ticket to a unit, and by anything else that does, e.g. a sub-dispatch) writes a `DutyAlert` in
the caller's transaction; once that commits, a job takes it (`run_due`). Each step
(HOTLINE_DUTY_STEPS: "text" the person on duty, "call" them, "lead": text and call the unit's
leads, "supervisor": text and call the supervisor on duty) checks the ticket first: accepted
(or moved elsewhere) stops the alert. Steps are RQ jobs scheduled at their time, and the sweep
(every minute) takes any that is due, so a lost job delays a step by a minute at most. Every
message goes through the outbox (dedupe key per alert, step, person and channel: a step taken
twice sends once) and each step is written on the ticket's timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import Department, DutyAlert, DutyContact, DutyPattern, DutyShift, Role, Status, Ticket, User
from hotline.models.types import utcnow
from hotline.services.citizens import outbox, phones
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import InvalidInput, NotFound, PermissionDenied
from hotline.services.platform import queueing
from hotline.services.ticketing.transition import record_event

log = logging.getLogger(__name__)

STEPS = ("text", "call", "lead", "supervisor")
URGENT = "urgent"
EDIT_ROLES = (Role.ADMIN,)  # and the unit's own lead
READ_ROLES = (Role.SUPERVISOR, Role.ADMIN)  # and the unit's own staff
# The longest shift accepted: a week (a typo in a year should not make someone on duty for months).
MAX_SHIFT = timedelta(days=7)


# -- the rota --------------------------------------------------------------------------------


def on_duty(department_id: int | None, at: datetime) -> User | None:
    """Who is on duty for the unit (None: the supervisors) at `at`: a dated shift first, else
    the weekly pattern; None when nobody is."""
    shift = db.session.scalar(
        select(DutyShift)
        .where(_unit(DutyShift, department_id), DutyShift.starts_at <= at, DutyShift.ends_at > at)
        .order_by(DutyShift.starts_at.desc(), DutyShift.id.desc())
        .limit(1)
    )
    if shift is not None:
        return shift.user
    patterns = db.session.scalars(
        select(DutyPattern).where(_unit(DutyPattern, department_id)).order_by(DutyPattern.id)
    ).all()
    calendar = work_calendar()
    local = at.astimezone(calendar.tz)
    for pattern in patterns:
        # A rule of today, or a night rule of yesterday that runs past midnight.
        for day in (local.date(), local.date() - timedelta(days=1)):
            if _kind(day) != pattern.day_kind:
                continue
            start, end = _span(day, pattern, calendar.tz)
            if start <= local < end:
                return pattern.user
    return None


def _unit(model, department_id: int | None):
    return model.department_id.is_(None) if department_id is None else model.department_id == department_id


def _kind(day: date) -> str:
    return DutyPattern.WORKDAY if work_calendar().is_working_day(day) else DutyPattern.RESTDAY


def _span(day: date, pattern: DutyPattern, tz) -> tuple[datetime, datetime]:
    starts, ends = _clock(pattern.starts), _clock(pattern.ends)
    start = datetime.combine(day, starts, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1) if ends <= starts else day, ends, tzinfo=tz)
    return start, end


def _clock(text: str) -> time:
    if text == "24:00":
        return time(0, 0)
    return time.fromisoformat(text)


# -- who may read and edit a rota ------------------------------------------------------------


def may_edit(actor: User, department: Department | None) -> bool:
    """Admins edit every rota; a unit lead edits their own unit's. The supervisors' rota
    (department None): admins only."""
    if actor.role in EDIT_ROLES:
        return True
    return (
        department is not None
        and actor.role == Role.DEPARTMENT
        and actor.is_unit_lead
        and actor.department_id == department.id
    )


def may_read(actor: User, department: Department | None) -> bool:
    """Supervisors and admins read every rota; a unit's own staff read theirs."""
    if actor.role in READ_ROLES:
        return True
    return department is not None and actor.role == Role.DEPARTMENT and actor.department_id == department.id


def require_read(actor: User, department: Department | None) -> None:
    if not may_read(actor, department):
        raise PermissionDenied(_("You may not see this duty rota."))


def require_edit(actor: User, department: Department | None) -> None:
    if not may_edit(actor, department):
        raise PermissionDenied(_("Only the unit lead or an administrator may change this duty rota."))


def department_by_code(code: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(_("No department with code %(code)s.", code=code))
    return department


# -- dated shifts ----------------------------------------------------------------------------


def shifts(
    department: Department | None, since: datetime | None = None, until: datetime | None = None
) -> list[DutyShift]:
    """The unit's dated shifts that end after `since` and start before `until`, by start."""
    query = select(DutyShift).where(_unit(DutyShift, department.id if department else None))
    if since is not None:
        query = query.where(DutyShift.ends_at > since)
    if until is not None:
        query = query.where(DutyShift.starts_at < until)
    return list(db.session.scalars(query.order_by(DutyShift.starts_at, DutyShift.id)))


@dataclass(frozen=True)
class ShiftInput:
    user: str
    starts_at: datetime | None
    ends_at: datetime | None
    phone: str = ""


def add_shift(actor: User, department: Department | None, given: ShiftInput) -> DutyShift:
    """Add a dated shift and commit. The person must be active staff of that unit (a
    supervisor for the supervisors' rota); the end after the start, within MAX_SHIFT; the same
    person may not hold two shifts that overlap, in any unit (one person cannot answer two
    units' alerts at once). Two people's shifts may overlap: the later-starting one is on duty.
    `phone` sets the person's duty number; one is needed to alert them."""
    require_edit(actor, department)
    user = db.session.scalar(select(User).where(User.username == (given.user or "").strip()))
    if user is None:
        raise InvalidInput(_("No user %(name)s.", name=given.user or ""), field="user")
    if department is None:
        if user.role not in (Role.SUPERVISOR, Role.ADMIN) or not user.active:
            raise InvalidInput(_("%(name)s is not a supervisor.", name=user.username), field="user")
    elif user.role != Role.DEPARTMENT or user.department_id != department.id or not user.active:
        raise InvalidInput(
            _("%(name)s is not on the staff of %(unit)s.", name=user.username, unit=department.name), field="user"
        )
    if given.starts_at is None:
        raise InvalidInput(_("Give the time the shift starts."), field="starts_at")
    if given.ends_at is None:
        raise InvalidInput(_("Give the time the shift ends."), field="ends_at")
    if given.ends_at <= given.starts_at:
        raise InvalidInput(_("The shift must end after it starts."), field="ends_at")
    if given.ends_at - given.starts_at > MAX_SHIFT:
        raise InvalidInput(_("A shift may last at most 7 days."), field="ends_at")
    overlapping = db.session.scalar(
        select(DutyShift).where(
            DutyShift.user_id == user.id, DutyShift.starts_at < given.ends_at, DutyShift.ends_at > given.starts_at
        )
    )
    if overlapping is not None:
        raise InvalidInput(
            _("%(name)s already has a shift at that time (shift %(id)s).", name=user.username, id=overlapping.id),
            field="starts_at",
        )
    phone = None
    if given.phone:
        try:
            phone = phones.normalise_phone(given.phone)
        except InvalidInput as error:
            raise InvalidInput(error.message, field="phone") from None
    elif duty_phone(user) is None:
        raise InvalidInput(_("Give a phone number to reach %(name)s on duty.", name=user.username), field="phone")
    if phone:
        set_duty_phone(user, phone)
    shift = DutyShift(
        department_id=department.id if department else None,
        user_id=user.id,
        starts_at=given.starts_at,
        ends_at=given.ends_at,
        created_at=utcnow(),
    )
    db.session.add(shift)
    db.session.commit()
    return shift


def delete_shift(actor: User, department: Department | None, shift_id: int) -> None:
    require_edit(actor, department)
    shift = db.session.get(DutyShift, shift_id)
    if shift is None or shift.department_id != (department.id if department else None):
        raise NotFound(_("No such shift in this duty rota."))
    db.session.delete(shift)
    db.session.commit()


def patterns(department: Department | None) -> list[DutyPattern]:
    return list(
        db.session.scalars(
            select(DutyPattern)
            .where(_unit(DutyPattern, department.id if department else None))
            .order_by(DutyPattern.id)
        )
    )


def set_pattern(
    actor: User, department: Department | None, username: str, day_kind: str, starts: str, ends: str
) -> DutyPattern:
    """Add a weekly rule ("workday" 18:00-09:00: weekday nights; "restday" 00:00-24:00: weekends
    and holidays) and commit."""
    require_edit(actor, department)
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    unit_id = department.id if department else None
    if (
        user is None
        or not user.active
        or (user.department_id != unit_id if unit_id else user.role not in (Role.SUPERVISOR, Role.ADMIN))
    ):
        raise InvalidInput(_("%(name)s may not be on this duty rota.", name=username or ""), field="user")
    if day_kind not in DutyPattern.DAY_KINDS:
        raise InvalidInput(_("Choose working days or rest days."), field="day_kind")
    for field, text in (("starts", starts), ("ends", ends)):
        try:
            _clock(text)
        except (TypeError, ValueError):
            raise InvalidInput(_("Give a time of day as HH:MM."), field=field) from None
    if len(starts) != 5 or len(ends) != 5 or starts == ends and starts != "00:00":
        raise InvalidInput(_("Give a time of day as HH:MM."), field="ends")
    pattern = DutyPattern(department_id=unit_id, user_id=user.id, day_kind=day_kind, starts=starts, ends=ends)
    db.session.add(pattern)
    db.session.commit()
    return pattern


def delete_pattern(actor: User, department: Department | None, pattern_id: int) -> None:
    require_edit(actor, department)
    pattern = db.session.get(DutyPattern, pattern_id)
    if pattern is None or pattern.department_id != (department.id if department else None):
        raise NotFound(_("No such rule in this duty rota."))
    db.session.delete(pattern)
    db.session.commit()


def duty_phone(user: User) -> str | None:
    contact = db.session.get(DutyContact, user.id)
    return contact.phone if contact else None


def set_duty_phone(user: User, phone: str) -> None:
    contact = db.session.get(DutyContact, user.id)
    if contact is None:
        db.session.add(DutyContact(user_id=user.id, phone=phone))
    else:
        contact.phone = phone


# -- the alerts ------------------------------------------------------------------------------


def steps() -> tuple[str, ...]:
    configured = current_app.config.get("HOTLINE_DUTY_STEPS") or ",".join(STEPS)
    chosen = tuple(step.strip() for step in configured.split(",") if step.strip())
    unknown = [step for step in chosen if step not in STEPS]
    if unknown:  # a typo must not stop a dispatch: the known steps still run
        log.warning("HOTLINE_DUTY_STEPS: unknown steps %s ignored; known: %s", unknown, STEPS)
    return tuple(step for step in chosen if step in STEPS)


def _gap(step_name: str) -> timedelta:
    """How long after the step before this one it is due."""
    if step_name == "call":
        return timedelta(minutes=current_app.config.get("HOTLINE_DUTY_CALL_AFTER_MINUTES", 10))
    return timedelta(minutes=current_app.config.get("HOTLINE_DUTY_ESCALATE_AFTER_MINUTES", 15))


def ticket_reached_unit(ticket: Ticket, department_id: int | None, now: datetime) -> DutyAlert | None:
    """A ticket was just handed to a unit (not committed yet): an urgent one, out of office
    hours, starts the unit's duty alert, taken once the caller commits. The one entry point:
    routing, dispatch and reassignment reach it through `lifecycle.apply`; a sub-dispatch calls
    it too."""
    if department_id is None or ticket.urgency != URGENT or not steps():
        return None
    if work_calendar().is_office_time(now):
        return None
    alert = DutyAlert(
        ticket=ticket, department_id=department_id, reached_at=now, step=0, next_at=now, status=DutyAlert.ACTIVE
    )
    db.session.add(alert)
    db.session.info[_KICK] = True  # the committer calls `kick_after_commit`
    return alert


_KICK = "hotline_duty_kick"


def kick_after_commit() -> None:
    """Called by whoever committed a hand-over (`lifecycle.apply`, routing's own commits): if an
    alert was started in that transaction, enqueue its job now (never before the commit: the job
    would not find it). An explicit call, as for the other derived work (no session listener). A
    flag left by a transaction rolled back costs one job that finds nothing due."""
    if db.session.info.pop(_KICK, None):
        queueing.enqueue_duty_alerts()


def due_alerts(now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(DutyAlert.id)
            .where(DutyAlert.status == DutyAlert.ACTIVE, DutyAlert.next_at <= now)
            .order_by(DutyAlert.next_at, DutyAlert.id)
        )
    )


def run_due(now: datetime | None = None) -> int:
    """Take every alert step that is due (the job and the sweep); returns how many were taken."""
    now = now or utcnow()
    taken = 0
    for alert_id in due_alerts(now):
        try:
            taken += advance(alert_id, now)
        except Exception:  # one alert's failure must not hold up the others; the next run retries it
            db.session.rollback()
            log.exception("duty alert %s failed", alert_id)
    return taken


def advance(alert_id: int, now: datetime) -> int:
    """Take the alert's due step, once, however many workers run it; 1 if this call took it."""
    alert = db.session.get(DutyAlert, alert_id)
    if alert is None:
        return 0
    db.session.refresh(alert)
    if alert.status != DutyAlert.ACTIVE or alert.next_at is None or alert.next_at > now:
        return 0
    ticket = db.session.get(Ticket, alert.ticket_id)
    db.session.refresh(ticket)
    chosen = steps()
    if ticket is None or not _still_waiting(ticket, alert):
        _claim(alert, now, status=DutyAlert.STOPPED, next_at=None)
        db.session.commit()
        return 0
    if alert.step >= len(chosen):
        _claim(alert, now, status=DutyAlert.DONE, next_at=None)
        db.session.commit()
        return 0
    name = chosen[alert.step]
    sent = _send_step(alert, ticket, name, now)  # before the claim: the dedupe keys make a second run send nothing new
    last = alert.step + 1 >= len(chosen)
    next_at = None if last else now + _gap(chosen[alert.step + 1])
    step = alert.step
    if not _claim(alert, now, status=DutyAlert.DONE if last else DutyAlert.ACTIVE, next_at=next_at, step=step + 1):
        db.session.rollback()
        return 0
    record_event(
        ticket, None, "duty_alert", None, None, {"step": name, "department": alert.department_id, **sent}, at=now
    )
    db.session.commit()
    if next_at is not None:
        queueing.enqueue_duty_alerts(at=next_at, job_id=f"hotline-duty-{alert_id}-{step + 1}")
    return 1


def _still_waiting(ticket: Ticket, alert: DutyAlert) -> bool:
    """Unaccepted, and still with the unit the alert is for."""
    return ticket.status == Status.DISPATCHED and ticket.department_id == alert.department_id


def _claim(alert: DutyAlert, now: datetime, *, status: str, next_at: datetime | None, step: int | None = None) -> bool:
    values: dict[str, Any] = {"status": status, "next_at": next_at}
    if step is not None:
        values["step"] = step
    claimed = db.session.execute(
        update(DutyAlert)
        .where(DutyAlert.id == alert.id, DutyAlert.status == DutyAlert.ACTIVE, DutyAlert.step == alert.step)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def _recipients(alert: DutyAlert, name: str, now: datetime) -> tuple[list[User], tuple[str, ...]]:
    """Whom a step alerts and how: the person on duty (text, or call), the unit's leads, the
    supervisor on duty (text and call)."""
    if name in ("text", "call"):
        person = on_duty(alert.department_id, now)
        return ([person] if person else []), ((name,) if name == "text" else ("call",))
    if name == "lead":
        leads = db.session.scalars(
            select(User)
            .where(User.department_id == alert.department_id, User.is_unit_lead.is_(True), User.active.is_(True))
            .order_by(User.id)
        ).all()
        return list(leads), ("text", "call")
    person = on_duty(None, now)
    return ([person] if person else []), ("text", "call")


def _send_step(alert: DutyAlert, ticket: Ticket, name: str, now: datetime) -> dict[str, Any]:
    """Queue the step's texts and calls in the outbox; what the timeline records of them."""
    people, channels = _recipients(alert, name, now)
    alerted, unreachable = [], []
    for person in people:
        phone = duty_phone(person)
        if phone is None:
            unreachable.append(person.username)
            continue
        for channel in channels:
            body = _call_words(ticket) if channel == "call" else _text(ticket, alert)
            outbox.queue_message(
                f"duty_{channel}",
                phone,
                body,
                ticket=ticket,
                dedupe_key=f"duty-{alert.id}-{alert.step}-{person.id}-{channel}",
                channel="call" if channel == "call" else "sms",
            )
        alerted.append(person.username)
    data: dict[str, Any] = {"alerted": alerted, "channels": list(channels)}
    if unreachable:
        data["unreachable"] = unreachable
    if not people:
        data["nobody_on_duty"] = True
    return data


def _category(ticket: Ticket) -> str:
    return ticket.category.name if ticket.category is not None else ""


def _text(ticket: Ticket, alert: DutyAlert) -> str:
    unit = db.session.get(Department, alert.department_id)
    return _(
        "Urgent ticket %(number)s (%(category)s) reached %(unit)s out of office hours. Please accept it now.",
        number=ticket.number,
        category=_category(ticket),
        unit=unit.name if unit else "",
    )


def _call_words(ticket: Ticket) -> str:
    """What the voice call says (the sender wraps it in TwiML): the number digit by digit."""
    spoken = " ".join(ch for ch in ticket.number if ch.isdigit())
    return _(
        "This is the hotline. Urgent ticket %(number)s, %(category)s, is waiting for you. Please accept it now.",
        number=spoken,
        category=_category(ticket),
    )


def week_view(department: Department | None, start: date) -> list[dict[str, Any]]:
    """Who is on duty at the start of each hour for a week from `start` (local), folded into
    runs: the page's view of the rota after overrides and holidays."""
    tz = work_calendar().tz
    runs: list[dict[str, Any]] = []
    moment = datetime.combine(start, time(0, 0), tzinfo=tz)
    end = moment + timedelta(days=7)
    while moment < end:
        person = on_duty(department.id if department else None, moment.astimezone(UTC))
        name = person.label if person else None
        if runs and runs[-1]["user"] == name:
            runs[-1]["until"] = moment + timedelta(hours=1)
        else:
            runs.append({"from": moment, "until": moment + timedelta(hours=1), "user": name})
        moment += timedelta(hours=1)
    return [run for run in runs if run["user"]]


def parse_moment(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time from a form or the API, in UTC; one without an offset is the hotline's
    local time. None for nothing given; InvalidInput for what is not a time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("Give a time like 2026-12-05T18:00:00+08:00."), field=field)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_("Give a time like 2026-12-05T18:00:00+08:00."), field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=work_calendar().tz)
    return moment.astimezone(UTC)
