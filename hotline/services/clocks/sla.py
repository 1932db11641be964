"""SLA clocks: which limits apply to a ticket, when they fall due, and when they turn amber.

A policy (per category, inherited down the tree, and urgency) gives the time to
accept (签收) in working hours or calendar minutes and the time to resolve in
working days or calendar hours. Working time runs only in office hours on
working days (`worktime`). A clock turns amber when 75 % of its time is used
and red when it is overdue; while a ticket waits on the citizen, it stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, SlaPolicy, Ticket
from hotline.services.clocks.calendar import work_calendar
from hotline.services.clocks.worktime import WorkCalendar

AMBER_AT = 0.75
LEVELS = ("", "amber", "red")


@dataclass(frozen=True)
class Terms:
    accept_amount: int
    accept_unit: str  # working_hours | calendar_minutes
    resolve_amount: int
    resolve_unit: str  # working_days | calendar_hours
    return_window_days: int = 2
    max_extension_days: int = 10
    source: str = "default"  # which policy: "default", or the category code it was set on
    # First contact with the citizen (先联系后办理, issue 17), in the accept clock's units.
    contact_amount: int = 2
    contact_unit: str = "working_hours"  # working_hours | calendar_minutes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Shandong's rules and common practice: 4 working hours to accept, 5 working days to resolve;
# urgent tickets: 30 minutes and 24 hours of calendar time. First contact: 2 working hours,
# 30 minutes when urgent.
DEFAULT_TERMS = {
    "normal": Terms(4, "working_hours", 5, "working_days"),
    "urgent": Terms(30, "calendar_minutes", 24, "calendar_hours", contact_amount=30, contact_unit="calendar_minutes"),
}


Policies = dict[tuple[int | None, str], SlaPolicy]  # (category id or None, urgency) -> policy


def load_policies() -> Policies:
    """Every policy, keyed as `terms_for` looks them up: loaded once for a batch of tickets."""
    return {(policy.category_id, policy.urgency): policy for policy in db.session.scalars(select(SlaPolicy))}


def terms_for(category: Category, urgency: str, policies: Policies | None = None) -> Terms:
    """The nearest policy up the category tree, then the hotline-wide one, then the defaults."""
    if policies is None:
        policies = {
            (policy.category_id, urgency): policy
            for policy in db.session.scalars(select(SlaPolicy).where(SlaPolicy.urgency == urgency))
        }
    for node in [*category.lineage(), None]:
        policy = policies.get((node.id if node else None, urgency))
        if policy is not None:
            default = DEFAULT_TERMS.get(urgency, DEFAULT_TERMS["normal"])
            return Terms(
                policy.accept_amount,
                policy.accept_unit,
                policy.resolve_amount,
                policy.resolve_unit,
                policy.return_window_days,
                policy.max_extension_days,
                source=node.code if node else "hotline",
                contact_amount=policy.contact_amount or default.contact_amount,
                contact_unit=policy.contact_unit or default.contact_unit,
            )
    return DEFAULT_TERMS.get(urgency, DEFAULT_TERMS["normal"])


@dataclass(frozen=True)
class Span:
    """An amount of time on one basis: office minutes ('working') or wall-clock minutes."""

    minutes: float
    working: bool

    def after(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.working:
            return calendar.add_working_minutes(start, self.minutes)
        return start + timedelta(minutes=self.minutes)

    def before(self, end: datetime, calendar: WorkCalendar) -> datetime:
        if self.working:
            return calendar.subtract_working_minutes(end, self.minutes)
        return end - timedelta(minutes=self.minutes)

    def scaled(self, factor: float) -> Span:
        return replace(self, minutes=self.minutes * factor)


def accept_span(terms: dict[str, Any]) -> Span:
    if terms["accept_unit"] == "working_hours":
        return Span(terms["accept_amount"] * 60, working=True)
    return Span(terms["accept_amount"], working=False)


def contact_span(terms: dict[str, Any]) -> Span:
    """The time to first contact the citizen; terms copied before it existed: the normal default."""
    amount = terms.get("contact_amount") or DEFAULT_TERMS["normal"].contact_amount
    unit = terms.get("contact_unit") or DEFAULT_TERMS["normal"].contact_unit
    return accept_span({"accept_amount": amount, "accept_unit": unit})


def contact_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """`terms` with the first-contact limit in the accept clock's place: `overtaking` then says
    whether the resolve deadline can fall before the first-contact one (policies' validation)."""
    default = DEFAULT_TERMS["normal"]
    return {
        **terms,
        "accept_amount": terms.get("contact_amount") or default.contact_amount,
        "accept_unit": terms.get("contact_unit") or default.contact_unit,
    }


def resolve_span(terms: dict[str, Any], calendar: WorkCalendar, extra_days: int = 0) -> Span:
    """The time to resolve, extensions (in working days) included."""
    if terms["resolve_unit"] == "working_days":
        return Span((terms["resolve_amount"] + extra_days) * calendar.day_minutes, working=True)
    return Span(terms["resolve_amount"] * 60 + extra_days * 24 * 60, working=False)


def due_times(terms: dict[str, Any], start: datetime, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """When the accept and the resolve clock of a ticket dispatched at `start` under `terms` fall due."""
    return accept_span(terms).after(start, calendar), resolve_span(terms, calendar).after(start, calendar)


@dataclass(frozen=True)
class Overtaking:
    """A dispatch time at which the resolve deadline falls before the accept deadline."""

    start: datetime
    accept_due_at: datetime
    resolve_due_at: datetime


# Dispatch times tried when the two clocks count different kinds of time: every quarter hour
# over two weeks from now (two weekends) and over two weeks from the day before the longest
# stretch of days off in the coming year (the Spring Festival or National Day holiday).
PROBE_STEP = timedelta(minutes=15)
PROBE_DAYS = 14
HOLIDAY_HORIZON_DAYS = 366


def overtaking(terms: dict[str, Any], calendar: WorkCalendar, now: datetime) -> Overtaking | None:
    """A dispatch time at which `terms` would make the resolve deadline fall before the accept
    deadline (None: never). Measured in the same kind of time, the limits compare directly;
    working time against calendar time depends on when the ticket comes (24 hours from a
    Saturday afternoon end before 1 working hour does), so the deadlines are computed for
    dispatch times over two weeks of ordinary days and around the longest holiday ahead."""
    accept, resolve = accept_span(terms), resolve_span(terms, calendar)
    if accept.working == resolve.working:
        if resolve.minutes >= accept.minutes:
            return None
        return Overtaking(now, *due_times(terms, now, calendar))
    worst: Overtaking | None = None
    for start in _probe_starts(calendar, now):
        accept_due, resolve_due = due_times(terms, start, calendar)
        # The example shown is the worst one found: the plainest to understand.
        if resolve_due < accept_due and (
            worst is None or accept_due - resolve_due > worst.accept_due_at - worst.resolve_due_at
        ):
            worst = Overtaking(start, accept_due, resolve_due)
    return worst


def _probe_starts(calendar: WorkCalendar, now: datetime) -> Iterator[datetime]:
    local = now.astimezone(calendar.tz)
    today = local.date()
    for first in (today, _longest_days_off(calendar, today) - timedelta(days=1)):
        moment = datetime.combine(first, time(0, 0), tzinfo=calendar.tz)
        end = moment + timedelta(days=PROBE_DAYS)
        while moment < end:
            yield moment.astimezone(UTC)
            moment += PROBE_STEP


def _longest_days_off(calendar: WorkCalendar, today: date) -> date:
    """The first day of the longest run of days off in the coming year (the next weekend when
    there is no longer one)."""
    best_start, best_length, run_start, run_length = today, 0, today, 0
    for offset in range(HOLIDAY_HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if calendar.is_working_day(day):
            run_length = 0
            continue
        if run_length == 0:
            run_start = day
        run_length += 1
        if run_length > best_length:
            best_start, best_length = run_start, run_length
    return best_start


def start_clocks(ticket: Ticket, at: datetime, policies: Policies | None = None) -> dict[str, Any]:
    """Set both deadlines from the moment of dispatch; returns what the timeline should say.
    A batch passes the policies it loaded once."""
    calendar = work_calendar()
    terms = terms_for(ticket.category, ticket.urgency, policies).as_dict()
    ticket.sla_terms = terms
    ticket.extended_days = 0
    ticket.paused_at = None
    ticket.sla_level = ""
    accept, resolve = accept_span(terms), resolve_span(terms, calendar)
    ticket.accept_due_at, ticket.resolve_due_at = due_times(terms, at, calendar)
    ticket.accept_amber_at = accept.scaled(1 - AMBER_AT).before(ticket.accept_due_at, calendar)
    ticket.resolve_amber_at = resolve.scaled(1 - AMBER_AT).before(ticket.resolve_due_at, calendar)
    # The first-contact clock runs from the first dispatch until a contact; a unit it is handed
    # on to later does not start it again once the citizen has been reached.
    if ticket.first_contacted_at is None:
        ticket.contact_due_at = contact_span(terms).after(at, calendar)
    return {
        "policy": terms["source"],
        "accept": f"{terms['accept_amount']} {terms['accept_unit']}",
        "resolve": f"{terms['resolve_amount']} {terms['resolve_unit']}",
        "accept_due_at": ticket.accept_due_at.isoformat(),
        "resolve_due_at": ticket.resolve_due_at.isoformat(),
    }


def stop_clocks(ticket: Ticket) -> None:
    """A returned ticket has no deadlines until it is dispatched again."""
    ticket.accept_due_at = ticket.accept_amber_at = None
    ticket.resolve_due_at = ticket.resolve_amber_at = None
    ticket.contact_due_at = None
    ticket.paused_at = None
    ticket.sla_level = ""


def resume_clocks(ticket: Ticket, at: datetime) -> dict[str, Any]:
    """After a pause, move every running deadline by the time the pause took from it."""
    calendar = work_calendar()
    paused_at = ticket.paused_at or at
    terms = ticket.sla_terms or DEFAULT_TERMS["normal"].as_dict()
    moved: dict[str, Any] = {}
    if ticket.accepted_at is None and ticket.accept_due_at is not None:
        working = accept_span(terms).working
        ticket.accept_due_at = _shift(ticket.accept_due_at, paused_at, at, working, calendar)
        ticket.accept_amber_at = _shift(ticket.accept_amber_at, paused_at, at, working, calendar)
        moved["accept_due_at"] = ticket.accept_due_at.isoformat()
    if ticket.first_contacted_at is None and ticket.contact_due_at is not None:
        working = contact_span(terms).working
        ticket.contact_due_at = _shift(ticket.contact_due_at, paused_at, at, working, calendar)
        moved["contact_due_at"] = ticket.contact_due_at.isoformat()
    if ticket.resolve_due_at is not None:
        working = resolve_span(terms, calendar).working
        ticket.resolve_due_at = _shift(ticket.resolve_due_at, paused_at, at, working, calendar)
        ticket.resolve_amber_at = _shift(ticket.resolve_amber_at, paused_at, at, working, calendar)
        moved["resolve_due_at"] = ticket.resolve_due_at.isoformat()
    ticket.paused_at = None
    ticket.sla_level = level_at(ticket, at)
    paused = calendar.working_minutes_between(paused_at, at)
    return {"paused_working_minutes": round(paused, 1), **moved}


def _shift(
    moment: datetime | None, paused_at: datetime, resumed_at: datetime, working: bool, calendar: WorkCalendar
) -> datetime | None:
    """The deadline keeps the time that was left on it when the pause began. One that had
    passed before the pause stays where it is: the ticket was overdue and still is (and an
    imported ticket's deadline years ago is no span of working time to walk through)."""
    if moment is None:
        return None
    if moment < paused_at:
        return moment
    if working:
        left = max(calendar.working_minutes_between(paused_at, moment), 0)
        return calendar.add_working_minutes(resumed_at, left)
    return moment + max(resumed_at - paused_at, timedelta(0))


def extend_resolve_clock(ticket: Ticket, days: int, at: datetime) -> dict[str, Any]:
    """An approved extension adds working days to the resolve deadline; amber moves with it."""
    calendar = work_calendar()
    terms = ticket.sla_terms or DEFAULT_TERMS["normal"].as_dict()
    before = ticket.resolve_due_at
    ticket.extended_days += days
    ticket.resolve_due_at = calendar.add_working_days(before or at, days)
    total = resolve_span(terms, calendar, ticket.extended_days)
    ticket.resolve_amber_at = total.scaled(1 - AMBER_AT).before(ticket.resolve_due_at, calendar)
    ticket.sla_level = level_at(ticket, at)
    return {
        "days": days,
        "from": before.isoformat() if before else None,
        "to": ticket.resolve_due_at.isoformat(),
    }


def level_at(ticket: Ticket, now: datetime) -> str:
    """'red' when a running deadline has passed, 'amber' past 75 % of its time, else ''."""
    clocks = [(ticket.resolve_amber_at, ticket.resolve_due_at)]
    if ticket.accepted_at is None:
        clocks.append((ticket.accept_amber_at, ticket.accept_due_at))
    level = ""
    for amber, due in clocks:
        if due is not None and now > due:
            return "red"
        if amber is not None and now >= amber:
            level = "amber"
    return level


def time_used(ticket: Ticket, now: datetime) -> dict[str, Any] | None:
    """How much of the resolve time is used, for the ticket page: fraction and minutes left."""
    if ticket.resolve_due_at is None or ticket.sla_terms is None:
        return None
    calendar = work_calendar()
    span = resolve_span(ticket.sla_terms, calendar, ticket.extended_days)
    moment = ticket.paused_at or ticket.resolved_at or now
    if span.working:
        left = calendar.working_minutes_between(moment, ticket.resolve_due_at)
    else:
        left = (ticket.resolve_due_at - moment).total_seconds() / 60
    used = 1 - left / span.minutes if span.minutes else 1.0
    return {"fraction": round(max(used, 0.0), 3), "minutes_left": round(left), "working": span.working}


def contact_level(ticket: Ticket, now: datetime) -> str | None:
    """The first-contact clock's colour for the ticket page: None when it does not run (never
    dispatched, or contacted: then judged by `contacted_on_time`), else '', 'amber' or 'red'.
    Kept apart from `sla_level`, which the sweep and the notices read for accept and resolve."""
    if ticket.contact_due_at is None or ticket.first_contacted_at is not None:
        return None
    moment = ticket.paused_at or now
    if moment > ticket.contact_due_at:
        return "red"
    calendar = work_calendar()
    span = contact_span(ticket.sla_terms or DEFAULT_TERMS["normal"].as_dict())
    amber = span.scaled(1 - AMBER_AT).before(ticket.contact_due_at, calendar)
    return "amber" if moment >= amber else ""


def contacted_on_time(ticket: Ticket) -> bool | None:
    """Whether the first contact came by its deadline (None: no contact yet, or no clock)."""
    if ticket.first_contacted_at is None or ticket.contact_due_at is None:
        return None
    return ticket.first_contacted_at <= ticket.contact_due_at
