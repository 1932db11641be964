"""Template filters and helpers: times in the hotline's time zone, badges, deadlines, figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.lists import format_list
from flask import Flask, current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from hotline.models import Status, Ticket
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import phones
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import work_calendar

# Bootstrap colour per status: what needs someone's action stands out.
STATUS_COLOURS = {
    Status.NEW: "light",
    Status.PENDING_DISPATCH: "warning",
    Status.DISPATCHED: "info",
    Status.IN_PROGRESS: "primary",
    Status.WAITING: "secondary",
    Status.RESOLVED: "success",
    Status.CLOSED: "dark",
    Status.MERGED: "light",
}

# Share of the resolve time used after which a deadline shows amber, where the SLA
# engine has not set the amber time itself (it counts working time).
DUE_SOON_FRACTION = 0.75


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).strftime(fmt)


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "secondary")


def deadline_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """'overdue', 'soon' or 'ok' for an open ticket with a resolve deadline; None otherwise."""
    if not ticket.is_open or ticket.resolve_due_at is None:
        return None
    # A paused clock stands still where the pause began.
    now = ticket.paused_at or now or utcnow()
    due = ticket.resolve_due_at
    if due < now:
        return "overdue"
    if ticket.resolve_amber_at is not None:
        return "soon" if now >= ticket.resolve_amber_at else "ok"
    start = ticket.dispatched_at
    if start is not None and due > start and (now - start) / (due - start) >= DUE_SOON_FRACTION:
        return "soon"
    return "ok"


def sla_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """The SLA level of an open ticket held by a department: 'red', 'amber' or '' (on time);
    None when no clock runs. The sweep stores the level periodically; between sweeps the
    live level counts, so a row turns red the minute its deadline passes. A paused ticket
    keeps the level it had."""
    if ticket.status not in Status.WITH_DEPARTMENT or (ticket.resolve_due_at is None and ticket.accept_due_at is None):
        return None
    stored = ticket.sla_level or ""
    if ticket.paused_at is not None:
        return stored
    live = sla.level_at(ticket, now or utcnow())
    return max(stored, live, key=lambda level: sla.LEVELS.index(level) if level in sla.LEVELS else 0)


@dataclass(frozen=True)
class Clock:
    """The deadline that falls first of those still running: to accept (签收) while the ticket
    is unaccepted, and to resolve."""

    kind: str  # accept | resolve
    due: datetime
    minutes_left: float  # negative when overdue
    working: bool  # counted in office time
    paused: bool
    overdue: bool  # the deadline has passed (perhaps outside office hours: then no working time is over)


def next_clock(ticket: Ticket, now: datetime | None = None) -> Clock | None:
    if ticket.status not in Status.WITH_DEPARTMENT:
        return None
    terms = ticket.sla_terms or sla.DEFAULT_TERMS.get(ticket.urgency, sla.DEFAULT_TERMS["normal"]).as_dict()
    calendar = work_calendar()
    running = []
    if ticket.accepted_at is None and ticket.accept_due_at is not None:
        running.append(("accept", ticket.accept_due_at, sla.accept_span(terms).working))
    if ticket.resolve_due_at is not None:
        running.append(("resolve", ticket.resolve_due_at, sla.resolve_span(terms, calendar).working))
    if not running:
        return None
    kind, due, working = min(running, key=lambda clock: clock[1])
    moment = ticket.paused_at or now or utcnow()
    if ticket.sla_terms is None:  # no Hotline clock ran (imported history): plain calendar time
        working = False
    try:
        left = calendar.working_minutes_between(moment, due) if working else (due - moment).total_seconds() / 60
    except ValueError:  # years away, beyond the loaded calendar: say it in calendar time
        working = False
        left = (due - moment).total_seconds() / 60
    return Clock(kind, due, left, working, ticket.paused_at is not None, due < moment)


def duration(minutes: float, working: bool = False) -> str:
    """An amount of time for people: '45 min', '3 h 20 min', '2 d 4 h', '2 working days 4 h'.
    In working time a day is a standard working day of office hours (7 h by default), as the
    SLA counts it."""
    total = round(abs(minutes))
    day = work_calendar().day_minutes if working else 24 * 60
    days, rest = divmod(total, day) if day else (0, total)
    hours, mins = divmod(rest, 60)
    if days:
        if working:
            if not hours:
                return ngettext("%(num)d working day", "%(num)d working days", days)
            return ngettext("%(num)d working day %(hours)d h", "%(num)d working days %(hours)d h", days, hours=hours)
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        if not mins:
            return _("%(hours)d h", hours=hours)
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)
    return _("%(minutes)d min", minutes=mins)


def time_left(minutes: float, working: bool = False, overdue: bool | None = None) -> str:
    """'2 h 10 min left' or 'overdue by 1 d 3 h', saying when it counts office time only.

    `overdue` comes from comparing the deadline with the moment: a deadline that passed
    after office hours is overdue by no working time at all, yet overdue."""
    if overdue is None:
        overdue = minutes < 0
    amount = duration(minutes, working)
    # Working days say so themselves; hours and minutes of office time need the words.
    office = working and abs(minutes) < work_calendar().day_minutes
    if not overdue:
        if office:
            return _("%(time)s of working time left", time=amount)
        return _("%(time)s left", time=amount)
    if abs(minutes) < 1:
        return _("overdue")
    if office:
        return _("overdue by %(time)s of working time", time=amount)
    return _("overdue by %(time)s", time=amount)


def sla_amount(amount: int, unit: str) -> str:
    """An SLA limit for people: '4 working hours', '1 working day', '30 minutes'."""
    if unit == "working_hours":
        return ngettext("%(num)d working hour", "%(num)d working hours", amount)
    if unit == "working_days":
        return ngettext("%(num)d working day", "%(num)d working days", amount)
    if unit == "calendar_minutes":
        return ngettext("%(num)d minute", "%(num)d minutes", amount)
    if unit == "calendar_hours":
        return ngettext("%(num)d hour", "%(num)d hours", amount)
    return f"{amount} {unit}"


def caller_phone(ticket: Ticket) -> str:
    """The caller's number as the current user may see it: masked for department staff."""
    if current_user.is_authenticated and access.masks_caller(current_user):
        return phones.mask_phone(ticket.caller_phone)
    return phones.display_phone(ticket.caller_phone)


def number(value: float | None, digits: int = 1) -> str:
    """A figure for a report cell; a dash where there is nothing to measure."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def listing(items, style: str = "standard") -> str:
    """Items as a list in the reader's language: "2025、2026和2027", "2025, 2026, and 2027";
    style "or" for alternatives (a rule's keywords: any one matches)."""
    words = [str(item) for item in items]
    return format_list(words, style=style, locale=get_locale() or "en") if words else ""


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        status_colour=status_colour,
        deadline_state=deadline_state,
        sla_state=sla_state,
        next_clock=next_clock,
        duration=duration,
        time_left=time_left,
        sla_amount=sla_amount,
        caller_phone=caller_phone,
        figure=number,
        percent=percent,
        listing=listing,
    )
