"""Overdue now (当前超期): the one definition that the dashboard, the overdue list (督办), the
reports' drill-downs and the API all count with, so that their figures agree.

A ticket is overdue now when it is open, it has a resolve deadline, and that deadline has
passed: at this moment, or, while it waits on the citizen (its clock paused), at the moment
the pause began (a paused clock stands still). A deadline that falls exactly now is not
passed yet (on time means at or before the due time). Merged duplicates are not open: their
parent answers for them. Extensions count: they moved the deadline itself.

Imported open tickets keep their old system's deadline and count too (its own export calls
them overdue); they are marked by their `source` (the old system's name), so that the list
can show them apart or leave them out.

A missed accept deadline (签收) while the resolve deadline is ahead is not "overdue": the
list shows it as not accepted in time, and the reports count it in the response rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true

from hotline.extensions import db
from hotline.models import Status, Ticket

# The overdue list's filter on imported tickets: every ticket, imported ones only, or none.
IMPORTED_FILTERS = ("all", "imported", "hotline")


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """The SQL form of the definition (`resolve_due_at < now` first: the index on status,
    deadline and creation serves it; the pause is checked on those rows only)."""
    return and_(
        Ticket.status.in_(Status.OPEN),
        Ticket.resolve_due_at < now,
        or_(Ticket.paused_at.is_(None), Ticket.resolve_due_at < Ticket.paused_at),
    )


def imported_condition(which: str = "all") -> ColumnElement[bool]:
    """Imported tickets (from another system: `source` names it), the others, or every ticket."""
    if which == "imported":
        return Ticket.source != ""
    if which == "hotline":
        return Ticket.source == ""
    return true()


def clock_moment(ticket: Ticket, now: datetime) -> datetime:
    """Where the ticket's clocks stand: a paused clock stopped where the pause began."""
    return ticket.paused_at or now


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """The Python form of `overdue_condition`, for a ticket already loaded."""
    return (
        ticket.status in Status.OPEN
        and ticket.resolve_due_at is not None
        and ticket.resolve_due_at < clock_moment(ticket, now)
    )


def lateness(ticket: Ticket, now: datetime) -> str | None:
    """What the overdue list says of a ticket held by a department: "overdue" (the definition),
    "accept_late" (not accepted by its accept deadline, resolve deadline ahead), "due_soon"
    (75 % of a running clock used), or None (on time)."""
    if ticket.status not in Status.WITH_DEPARTMENT:
        return None
    if is_overdue(ticket, now):
        return "overdue"
    moment = clock_moment(ticket, now)
    unaccepted = ticket.accepted_at is None
    if unaccepted and ticket.accept_due_at is not None and ticket.accept_due_at < moment:
        return "accept_late"
    ambers = [ticket.resolve_amber_at, ticket.accept_amber_at if unaccepted else None]
    if any(amber is not None and amber <= moment for amber in ambers):
        return "due_soon"
    return None


def late_candidates(now: datetime) -> ColumnElement[bool]:
    """Every ticket `lateness` may call late at `now` (a superset: paused ones are decided in
    Python), for the list's query."""
    return and_(
        Ticket.status.in_(Status.WITH_DEPARTMENT),
        or_(
            Ticket.resolve_due_at < now,
            Ticket.resolve_amber_at <= now,
            and_(Ticket.accepted_at.is_(None), or_(Ticket.accept_amber_at <= now, Ticket.accept_due_at < now)),
        ),
    )


@dataclass(frozen=True)
class OverdueNow:
    """The count of tickets overdue now, whenever they were logged, and how many of them were
    imported."""

    total: int
    imported: int
    at: datetime


def overdue_now(now: datetime) -> OverdueNow:
    """Counted by the database in one query (supervisors, who read it, see every ticket)."""
    query = select(func.count(), func.count().filter(Ticket.source != "")).where(overdue_condition(now))
    total, from_import = db.session.execute(query.select_from(Ticket)).one()
    return OverdueNow(int(total or 0), int(from_import or 0), now)
