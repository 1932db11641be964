"""Units in a tree (issue 17, items 1 and 2): a ticket sent down (下派) from the unit the city
dispatched it to, through its sub-units, returned up (回退), replied and reviewed (审核) on the
way back up; and the person of the holding unit who handles it (承办人).

The chain is the ticket's open holds (`TicketHold`) below `Ticket.department_id`; the unit
holding it now is `Ticket.holder_id` (None: the city's unit). Every step is a row of
`lifecycle.ACTIONS` taken through `lifecycle.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, HoldOutcome, Role, Status, Ticket, TicketEvent, TicketHold, User
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_sms
from hotline.services.city import duty
from hotline.services.city.directory import by_code
from hotline.services.errors import Conflict, InvalidInput, PermissionDenied
from hotline.services.reporting.reports import department_subtree
from hotline.services.ticketing import derived, lifecycle

NOTE_MAX = 2000


@dataclass(frozen=True)
class Link:
    """One unit of a ticket's chain: since when it holds it and its deadline."""

    department: Department
    since: datetime | None
    due: datetime | None


def chain(ticket: Ticket) -> list[Link]:
    """From the unit the city dispatched the ticket to down to the one holding it now."""
    if ticket.department is None:
        return []
    links = [Link(ticket.department, ticket.dispatched_at, ticket.resolve_due_at)]
    for hold in lifecycle.open_holds(ticket):
        if hold.outcome == HoldOutcome.REPLIED:
            break  # its reply waits above: the unit above holds it
        links.append(Link(hold.department, hold.since, hold.due))
    return links


def holder(ticket: Ticket) -> Department | None:
    return ticket.holder if ticket.holder_id is not None else ticket.department


def own_due(ticket: Ticket) -> datetime | None:
    """The deadline of the unit holding the ticket now: its hold's, or the city's."""
    links = chain(ticket)
    return links[-1].due if links else None


def subdispatch(
    actor: User,
    ticket: Ticket,
    department_code: str | None,
    due: datetime | str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """下派: the unit holding an accepted ticket sends it down to one of its direct sub-units,
    due no later than its own deadline (by default, the margin before it)."""
    lifecycle.require(actor, ticket, "subdispatch")
    above = holder(ticket)
    target = by_code(Department, department_code, "department", required=True)
    if above is None or target.parent_id != above.id:
        raise InvalidInput(
            _("%(name)s is not a sub-unit of %(unit)s.", name=target.name, unit=above.name if above else ""),
            field="department",
        )
    now = utcnow()
    limit = own_due(ticket)
    when = _due(due, limit, now)
    text = (note or "").strip()[:NOTE_MAX]
    lifecycle.check(ticket, "subdispatch", expected_version)
    if lifecycle.pending_reply(ticket) is not None:
        raise Conflict(_("A reply from below waits for your review: review it first."))
    data = {"department": target.code, "from_department": above.code, "due": when.isoformat(), "note": text}
    changes = derived.Changes()
    lifecycle.apply(actor, ticket, "subdispatch", expected_version=expected_version, data=data, at=now, changes=changes)
    db.session.add(
        TicketHold(
            ticket_id=ticket.id,
            department_id=target.id,
            sent_by_id=actor.id,
            since=now,
            due=when,
            above_handler_id=ticket.handler_id,
        )
    )
    ticket.holder_id, ticket.handler_id = target.id, None
    duty.ticket_reached_unit(ticket, target.id, now)  # duty rota (值班): urgent, out of hours, alerts
    lifecycle.commit(ticket, changes)
    duty.kick_after_commit()
    return ticket


def _due(value: datetime | str | None, limit: datetime | None, now: datetime) -> datetime:
    if value is None or value == "":
        if limit is None:
            raise InvalidInput(_("Give the sub-unit a deadline."), field="due")
        margin = timedelta(hours=float(current_app.config.get("HOTLINE_SUBDISPATCH_MARGIN_HOURS", 24)))
        # Never before now: a ticket close to its own deadline goes down with what is left.
        return max(limit - margin, min(limit, now + timedelta(hours=1)))
    when = _parsed(value)
    if when <= now:
        raise InvalidInput(_("The deadline must be in the future."), field="due")
    if limit is not None and when > limit:
        raise InvalidInput(_("The deadline cannot be later than your own."), field="due")
    return when


def _parsed(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            message = _("Write the deadline as an ISO time, e.g. 2026-12-07T17:00+08:00.")
            raise InvalidInput(message, field="due") from None
    if when.tzinfo is None:  # a time without offset is the city's
        when = when.replace(tzinfo=ZoneInfo(current_app.config["HOTLINE_TIMEZONE"]))
    return when


def return_up(actor: User, ticket: Ticket, reason: str | None, expected_version: int | None = None) -> Ticket:
    """回退: the unit it was sent down to hands it back to the unit above, with a reason."""
    lifecycle.require(actor, ticket, "return_up")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(_("Say why you return it."), field="reason")
    lifecycle.check(ticket, "return_up", expected_version)
    hold = _holding_hold(ticket)
    if hold is None:
        raise Conflict(_("The ticket was not sent down to your unit."))
    now = utcnow()
    data = {"reason": text[:NOTE_MAX], "department": hold.department.code}
    changes = derived.Changes()
    lifecycle.apply(actor, ticket, "return_up", expected_version=expected_version, data=data, at=now, changes=changes)
    hold.ended_at, hold.outcome = now, HoldOutcome.RETURNED_UP
    _hand_up(ticket, hold)
    return lifecycle.commit(ticket, changes)


def resolve(actor: User, ticket: Ticket, text: str, expected_version: int | None = None) -> bool:
    """A reply from a unit the ticket was sent down to that needs review goes up for it
    (True); otherwise (False) the caller resolves the ticket for the city."""
    if ticket.holder_id is None or ticket.holder is None or not ticket.holder.needs_review:
        return False
    lifecycle.require(actor, ticket, "reply_up")
    lifecycle.check(ticket, "reply_up", expected_version)
    hold = _holding_hold(ticket)
    now = utcnow()
    changes = derived.Changes()
    data = {"resolution": text, "department": hold.department.code}
    lifecycle.apply(actor, ticket, "reply_up", expected_version=expected_version, data=data, at=now, changes=changes)
    hold.outcome, hold.reply, hold.handler_id = HoldOutcome.REPLIED, text, ticket.handler_id
    _hand_up(ticket, hold)
    lifecycle.commit(ticket, changes)
    return True


def review(
    actor: User, ticket: Ticket, approve: bool | None, reason: str | None, expected_version: int | None = None
) -> Ticket:
    """审核: the unit holding the ticket approves the reply from below (it resolves the ticket
    for the city, or goes up for the review of the unit above, if this one needs it) or refuses
    it with a reason (back down to the unit that replied)."""
    lifecycle.require(actor, ticket, "review")
    if not isinstance(approve, bool):
        raise InvalidInput(_("Say whether you approve the reply."), field="approve")
    text = (reason or "").strip()[:NOTE_MAX]
    if not approve and not text:
        raise InvalidInput(_("Say why you refuse the reply."), field="reason")
    lifecycle.check(ticket, "review", expected_version)
    hold = lifecycle.pending_reply(ticket)
    if hold is None:
        raise Conflict(_("No reply waits for your review."))
    now = utcnow()
    data = {"department": hold.department.code, "reason": text, "resolution": hold.reply}
    reviewer = holder(ticket)
    if not approve:
        changes = derived.Changes()
        lifecycle.apply(
            actor, ticket, "refuse_reply", expected_version=expected_version, data=data, at=now, changes=changes
        )
        hold.outcome, hold.reply = None, None
        ticket.holder_id, ticket.handler_id = hold.department_id, hold.handler_id
        return lifecycle.commit(ticket, changes)
    hold.ended_at, hold.outcome = now, HoldOutcome.APPROVED
    if ticket.holder_id is not None and reviewer is not None and reviewer.needs_review:
        own = _holding_hold(ticket)
        changes = derived.Changes()
        lifecycle.apply(
            actor, ticket, "approve_reply_up", expected_version=expected_version, data=data, at=now, changes=changes
        )
        own.outcome, own.reply, own.handler_id = HoldOutcome.REPLIED, hold.reply, ticket.handler_id
        _hand_up(ticket, own)
        return lifecycle.commit(ticket, changes)
    ticket.resolution, ticket.resolved_at = hold.reply, now
    lifecycle.apply(actor, ticket, "review", expected_version=expected_version, data=data | {"reviewed": True}, at=now)
    citizen_sms.ticket_resolved(ticket)  # the reply and the survey question by text; never raises
    return ticket


def assign(actor: User, ticket: Ticket, username: str | None, expected_version: int | None = None) -> Ticket:
    """The unit lead names (or changes) the person of the holding unit who handles the ticket."""
    lifecycle.require(actor, ticket, "assign")
    name = (username or "").strip()
    person = db.session.scalar(select(User).where(User.username == name)) if name else None
    unit = access.holder_id(ticket)
    if person is None or person.role != Role.DEPARTMENT or person.department_id != unit or not person.active:
        raise InvalidInput(_("Name a member of the unit holding the ticket."), field="handler")
    lifecycle.check(ticket, "assign", expected_version)
    if ticket.handler_id == person.id:
        raise InvalidInput(_("%(name)s already handles it.", name=person.label), field="handler")
    previous = ticket.handler
    ticket.handler_id = person.id
    data = {"handler": person.username, "from_handler": previous.username if previous else None}
    lifecycle.apply(actor, ticket, "assign", expected_version=expected_version, data=data)
    return ticket


def take_on_accept(actor: User, ticket: Ticket) -> None:
    """The first of the holding unit to accept the ticket handles it, unless the lead named someone."""
    if ticket.handler_id is None and actor.role == Role.DEPARTMENT:
        ticket.handler_id = actor.id


def _holding_hold(ticket: Ticket) -> TicketHold | None:
    """The open hold of the unit holding the ticket now (None: the city's unit holds it)."""
    return next(
        (h for h in reversed(lifecycle.open_holds(ticket)) if h.department_id == ticket.holder_id and not h.outcome),
        None,
    )


def _hand_up(ticket: Ticket, hold: TicketHold) -> None:
    """The unit above `hold` holds the ticket again, with the handler it had when it sent it down."""
    above = [h for h in lifecycle.open_holds(ticket) if h.id < hold.id and not h.outcome]
    ticket.holder_id = above[-1].department_id if above else None
    ticket.handler_id = hold.above_handler_id


# --- The workbench: what a unit sent down, a handler's own tickets, the lead's view of loads ----

LIST_MAX = 500  # open tickets are few at any time (see `workbench`); a page lists at most this many


@dataclass(frozen=True)
class SentDown:
    """A ticket the actor's unit sent down: the unit holding it now, its deadline and its level."""

    ticket: Ticket
    holder: Department
    due: datetime | None
    level: str  # "", "amber" (75% of its time used) or "red" (past its deadline)


def _level(since: datetime | None, due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    if now >= due:
        return "red"
    if since is not None and now >= since + (due - since) * 0.75:
        return "amber"
    return ""


def _department_of(actor: User) -> int:
    access.require_role(actor, Role.DEPARTMENT)
    if actor.department_id is None:
        raise InvalidInput(_("Your account has no unit."))
    return actor.department_id


def sent_down(actor: User, now: datetime | None = None) -> list[SentDown]:
    """The open tickets the actor's unit sent down (it is in their chain, above the unit holding
    them), the most pressing deadline first."""
    mine = _department_of(actor)
    now = now or utcnow()
    in_chain = select(TicketHold.ticket_id).where(TicketHold.department_id == mine, TicketHold.ended_at.is_(None))
    query = (
        select(Ticket)
        .where(
            Ticket.status.in_(Status.OPEN),
            Ticket.holder_id.is_not(None),
            Ticket.holder_id != mine,
            (Ticket.department_id == mine) | Ticket.id.in_(in_chain),
        )
        .limit(LIST_MAX)
    )
    rows = []
    for ticket in db.session.scalars(query):
        last = chain(ticket)[-1]
        rows.append(SentDown(ticket, last.department, last.due, _level(last.since, last.due, now)))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda row: (row.due or far, row.ticket.id))


def my_tickets(actor: User) -> list[Ticket]:
    """The open tickets the actor handles (承办人), the deadline that runs next first."""
    _department_of(actor)
    query = (
        select(Ticket)
        .where(Ticket.handler_id == actor.id, Ticket.status.in_(Status.OPEN))
        .order_by(Ticket.resolve_due_at.is_(None), Ticket.resolve_due_at, Ticket.id)
        .limit(LIST_MAX)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Load:
    person: User | None  # None: nobody handles them yet
    open: int
    overdue: int


def loads(actor: User, now: datetime | None = None) -> list[Load]:
    """For the unit lead: each member's open tickets held by the unit and how many are past the
    unit's deadline (its hold's, or the city's), and those no one handles yet."""
    mine = _department_of(actor)
    if not actor.is_unit_lead:
        raise PermissionDenied(_("Only the unit lead may do this."))
    now = now or utcnow()
    held = (Ticket.holder_id == mine) | (Ticket.holder_id.is_(None) & (Ticket.department_id == mine))
    tickets_held = list(
        db.session.scalars(select(Ticket).where(held, Ticket.status.in_(Status.OPEN)).limit(10 * LIST_MAX))
    )
    members = list(
        db.session.scalars(
            select(User).where(User.department_id == mine, User.role == Role.DEPARTMENT).order_by(User.username)
        )
    )
    counts: dict[int | None, list[int]] = {member.id: [0, 0] for member in members}
    for ticket in tickets_held:
        due = own_due(ticket)
        entry = counts.setdefault(ticket.handler_id, [0, 0])
        entry[0] += 1
        entry[1] += int(due is not None and due < now)
    people = {member.id: member for member in members}
    result = [Load(people[key], *value) for key, value in counts.items() if key in people]
    if None in counts:
        result.append(Load(None, *counts[None]))
    return result


# --- Figures (issue 17, item 6): what went down and came back up, per unit and per handler ------

TREE_EVENTS = {
    "subdispatched": "sent_down",  # counted for the unit it was sent down to
    "returned_up": "returned_up",  # for the unit that returned it up
    "reply_refused": "replies_refused",  # for the unit whose reply the unit above refused
    "reply_submitted": "replies_sent_up",
}


def unit_figures(low: datetime, high: datetime, unit: str | None = None) -> list[dict[str, Any]]:
    """Per unit (its code), the tickets sent down to it, returned up by it, and its replies sent up
    and refused, from the events of low..high; `unit`: only that unit and the units below it, with
    each handler's part (the person who took the action) for its lead's drill-down."""

    query = select(TicketEvent.kind, TicketEvent.data, TicketEvent.actor_id).where(
        TicketEvent.kind.in_(TREE_EVENTS), TicketEvent.at >= low, TicketEvent.at < high
    )
    wanted = None
    if unit is not None:
        wanted = set(db.session.scalars(select(Department.code).where(Department.id.in_(department_subtree(unit)))))
    rows: dict[str, dict[str, Any]] = {}
    people: dict[int, str] = {}
    for kind, data, actor_id in db.session.execute(query):
        code = (data or {}).get("department") or ""
        if wanted is not None and code not in wanted:
            continue
        row = rows.setdefault(code, {"department": code, **dict.fromkeys(TREE_EVENTS.values(), 0), "handlers": {}})
        row[TREE_EVENTS[kind]] += 1
        if unit is not None and actor_id is not None and kind != "subdispatched" and kind != "reply_refused":
            people.setdefault(actor_id, "")
            row["handlers"].setdefault(actor_id, dict.fromkeys(TREE_EVENTS.values(), 0))[TREE_EVENTS[kind]] += 1
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(people))).all()) if people else {}
    result = []
    for code in sorted(rows):
        row = rows[code]
        handlers = row.pop("handlers")
        if unit is not None:
            row["handlers"] = [{"handler": names.get(k, ""), **v} for k, v in sorted(handlers.items())]
        result.append(row)
    return result
