"""A department's workbench (工作台): its tabs, how many tickets each holds and a page of each,
at any number of tickets.

Open tickets (new to waiting on the citizen) are few at any time, however long the hotline has
run: they are counted exactly and listed by the deadline that runs next, least time left first.
Finished ones (resolved, closed, merged) pile up year after year, a big department's by the
million: they are counted up to `listing.COUNT_CAP` ("10000+") and listed newest first down the
`(department_id, created_at)` index, so that no page reads or sorts all of a department's
tickets (the "all" tab sorted every one by its deadline: 1,071 ms at 1 million tickets). The
"all" tab lists the open ones first, then the finished ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import Role, Status, Ticket, TicketAssist, User
from hotline.services.accounts import access
from hotline.services.platform.listing import counted_up_to

# The tabs: what to sign for, what to work on, what is done, everything.
TABS: dict[str, tuple[str, ...]] = {
    "open": Status.WITH_DEPARTMENT,
    "dispatched": (Status.DISPATCHED,),
    "in_progress": (Status.IN_PROGRESS,),
    "waiting": (Status.WAITING,),
    "done": (Status.RESOLVED, Status.CLOSED),
    "all": Status.ALL,
}
DEFAULT_TAB = "open"
LIVE = Status.OPEN
FINISHED = tuple(status for status in Status.ALL if status not in LIVE)


@dataclass(frozen=True)
class TabCount:
    """A tab's ticket count; `more`: the count stopped at `number` and the tab holds more."""

    number: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.number}+" if self.more else str(self.number)


@dataclass(frozen=True)
class TabPage:
    items: list[Ticket]
    total: int
    more: bool  # the total stopped counting: the tab holds more than `total`


def _department(actor: User) -> int:
    access.require_role(actor, Role.DEPARTMENT)
    return actor.department_id


def _next_due() -> ColumnElement:
    """The deadline that runs next: to accept while unaccepted, else to resolve."""
    return case(
        (
            and_(
                Ticket.accepted_at.is_(None),
                Ticket.accept_due_at.is_not(None),
                or_(Ticket.resolve_due_at.is_(None), Ticket.accept_due_at < Ticket.resolve_due_at),
            ),
            Ticket.accept_due_at,
        ),
        else_=Ticket.resolve_due_at,
    )


def _finished_branches(department_id: int, statuses: tuple[str, ...]) -> list[Select]:
    """The department's finished tickets as two disjoint selects of (id, created_at), each one
    an index walk: its own (the department leads), and those it assisted on (协办). One OR of
    the two would read every finished ticket of the city's status index instead."""
    own = select(Ticket.id, Ticket.created_at).where(Ticket.department_id == department_id, Ticket.status.in_(statuses))
    assisted = (
        select(Ticket.id, Ticket.created_at)
        .join(TicketAssist, TicketAssist.ticket_id == Ticket.id)
        .where(
            TicketAssist.department_id == department_id,
            or_(Ticket.department_id.is_(None), Ticket.department_id != department_id),
            Ticket.status.in_(statuses),
        )
    )
    return [own, assisted]


def _count_finished(department_id: int, statuses: tuple[str, ...], limit: int) -> TabCount:
    counted = sum(counted_up_to(branch, limit) for branch in _finished_branches(department_id, statuses))
    return TabCount(min(counted, limit), counted > limit)


def tab_counts(actor: User, cap: int) -> dict[str, TabCount]:
    """Every tab's count: exact for the open ones, up to `cap` for finished ones."""
    department_id = _department(actor)
    live = dict(
        db.session.execute(
            access.visible_tickets(actor)
            .where(Ticket.status.in_(LIVE))
            .with_only_columns(Ticket.status, func.count())
            .group_by(Ticket.status)
        ).all()
    )
    counts = {}
    for name, statuses in TABS.items():
        exact = sum(live.get(status, 0) for status in statuses if status in LIVE)
        finished = tuple(status for status in statuses if status in FINISHED)
        if finished:
            rest = _count_finished(department_id, finished, cap)
            counts[name] = TabCount(exact + rest.number, rest.more)
        else:
            counts[name] = TabCount(exact)
    return counts


def tab_page(actor: User, tab: str, page: int, per_page: int, count_limit: int) -> TabPage:
    """One page of a tab: its open tickets by deadline, then its finished ones newest first;
    the total is counted up to `count_limit` finished tickets."""
    department_id = _department(actor)
    statuses = TABS[tab]
    offset = (page - 1) * per_page
    live_statuses = tuple(status for status in statuses if status in LIVE)
    finished = tuple(status for status in statuses if status in FINISHED)
    items: list[Ticket] = []
    live_total = 0
    if live_statuses:
        visible = access.visible_tickets(actor).where(Ticket.status.in_(live_statuses))
        live_total = db.session.scalar(visible.with_only_columns(func.count()).order_by(None)) or 0
        if offset < live_total:
            next_due = _next_due()
            items = list(
                db.session.scalars(
                    visible.options(selectinload(Ticket.category), selectinload(Ticket.department))
                    .order_by(next_due.is_(None), next_due, Ticket.created_at, Ticket.id)
                    .limit(per_page)
                    .offset(offset)
                )
            )
    if not finished:
        return TabPage(items, live_total, False)
    rest = _count_finished(department_id, finished, count_limit)
    wanted = per_page - len(items)
    if wanted > 0:
        items += _newest_finished(department_id, finished, max(0, offset - live_total), wanted)
    return TabPage(items, live_total + rest.number, rest.more)


def _newest_finished(department_id: int, statuses: tuple[str, ...], offset: int, limit: int) -> list[Ticket]:
    """Finished tickets newest first, `limit` of them after `offset`: each branch gives its
    first offset + limit down its index, and the union is ordered and cut."""
    newest = (Ticket.created_at.desc(), Ticket.id.desc())
    parts = [
        branch.order_by(*newest).limit(offset + limit).subquery()
        for branch in _finished_branches(department_id, statuses)
    ]
    both = union(*(select(part.c.id, part.c.created_at) for part in parts)).subquery()
    ids = list(
        db.session.scalars(
            select(both.c.id).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(limit).offset(offset)
        )
    )
    if not ids:
        return []
    found = {
        ticket.id: ticket
        for ticket in db.session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ids))
            .options(selectinload(Ticket.category), selectinload(Ticket.department))
        )
    }
    return [found[ticket_id] for ticket_id in ids if ticket_id in found]
