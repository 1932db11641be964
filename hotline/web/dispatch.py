"""The dispatcher's desk (派单): what routing could not place, oldest first, with the learned
suggestion, the likely duplicates (重复件) and the actions: dispatch (主办 + 协办) or merge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import Category, Department, Status, Ticket, TicketEvent
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.dispatch import ping_pong, suggestions
from hotline.services.ticketing import merge_proposal, merging
from hotline.web.forms import DispatchForm, MergeForm, department_choices
from hotline.web.guards import roles_required
from hotline.web.paging import bounded_page, page_number

bp = Blueprint("dispatch", __name__)
log = logging.getLogger(__name__)

# A ticket still "new" after this long missed its routing job (queue down): show it here too.
ROUTING_DELAY = timedelta(minutes=5)
# Cards per page, oldest first. A card costs some 5 to 8 ms at 10 M tickets, most of it its
# likely duplicates (each weighed against up to 500 open tickets of its category and phone): the
# seeded desk held 182 waiting tickets, 960 ms in one page; 30 a page took 240 ms.
DESK_PAGE_SIZE = 20
SUGGESTIONS_SHOWN = 3
DUPLICATES_SHOWN = 5


@dataclass
class Waiting:
    """One ticket on the desk and what the dispatcher needs beside it."""

    ticket: Ticket
    form: DispatchForm
    merge_form: MergeForm
    suggested: list[tuple[Department, float]] = field(default_factory=list)
    duplicates: list[merging.Likely] = field(default_factory=list)
    returned: TicketEvent | None = None
    returners: list[tuple[str, str]] = field(default_factory=list)  # (code, name): back to them needs a reason
    # Per likely duplicate's number: which of the two to keep, and the form that merges the
    # duplicate into this ticket when this one is the one to keep.
    proposals: dict[str, merge_proposal.Proposal] = field(default_factory=dict)
    reverse_forms: dict[str, MergeForm] = field(default_factory=dict)
    proposed_parent: merge_proposal.Proposal | None = None


@bp.context_processor
def _desk_helpers() -> dict:
    return {"ticket_url": ticket_url}


def ticket_url(endpoint: str, number: str) -> str:
    """A ticket's page or action, for the desk's cards (a dozen links each): url_for once per
    endpoint and request, the number quoted in its place as url_for's converter quotes it."""
    cache = request.__dict__.setdefault("_hotline_ticket_urls", {})
    base = cache.get(endpoint)
    if base is None:
        base = cache[endpoint] = url_for(endpoint, number="NUMBER")
    return base.replace("NUMBER", quote(number, safe="!$&'()*+,/:;=@"))


@bp.get("/dispatch")
@roles_required(*access.DISPATCH_ROLES)
def queue():
    now = utcnow()
    page = page_number()
    query = access.visible_tickets(current_user).where(  # the one rule (dispatchers: confidential ones too)
        or_(
            Ticket.status == Status.PENDING_DISPATCH,
            and_(Ticket.status == Status.NEW, Ticket.created_at <= now - ROUTING_DELAY),
        )
    )
    # The waiting tickets first, by the (status, created_at) index, then their page in order: a
    # few hundred at most. Asked for in one statement with ORDER BY created_at LIMIT, PostgreSQL
    # walked the whole created_at index looking for them (2.9 s at 10 M tickets).
    found = query.with_only_columns(Ticket.id, Ticket.created_at).cte("waiting").prefix_with("MATERIALIZED")
    waiting = list(
        db.session.scalars(
            select(Ticket)
            .join(found, found.c.id == Ticket.id)
            .order_by(found.c.created_at, found.c.id)
            .limit(DESK_PAGE_SIZE)
            .offset((page - 1) * DESK_PAGE_SIZE)
            # Each row shows its category (and its default department) and district: in one query each.
            .options(selectinload(Ticket.category), selectinload(Ticket.district))
        )
    )
    pagination = bounded_page(waiting, query, page, DESK_PAGE_SIZE)
    returns = _last_returns(waiting)
    returners = ping_pong.returned_by(t.id for t in waiting if t.status == Status.PENDING_DISPATCH)
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    # Every category at once (a few hundred): a category's default department is looked up its
    # parents up, which the session then finds in hand instead of one query per parent.
    categories = db.session.scalars(select(Category)).all()  # noqa: F841 (kept in the session)
    choices = department_choices()
    here = url_for("dispatch.queue", page=page if page > 1 else None)  # back to this page
    # The likely duplicates of every waiting ticket, weighed together (one query, not one per row).
    matters = [
        merging.Matter(t.caller_phone, t.category_id, t.address, t.description, exclude_id=t.id) for t in waiting
    ]
    found = merging.find_duplicates_of(current_user, matters, limit=DUPLICATES_SHOWN)
    duplicates = {t.id: likely for t, likely in zip(waiting, found, strict=True)}
    rows = []
    for ticket in waiting:
        data = {"version": ticket.version, "next": here}
        form = DispatchForm(data=data, departments=choices)
        row = Waiting(ticket, form, MergeForm(data=data), returned=returns.get(ticket.id))
        row.returners = [
            (code, departments[code].name if code in departments else code) for code in returners.get(ticket.id, [])
        ]
        row.suggested = [
            (departments[s.department], s.confidence) for s in suggestions_for(ticket) if s.department in departments
        ][:SUGGESTIONS_SHOWN]
        row.duplicates = duplicates[ticket.id]
        for likely in row.duplicates:
            other = likely.ticket
            proposal = row.proposals[other.number] = merge_proposal.propose(ticket, other)
            if proposal.keep is ticket:
                row.reverse_forms[other.number] = MergeForm(data={"version": other.version, "next": here})
        row.proposed_parent = merge_proposal.proposed_parent(ticket, [likely.ticket for likely in row.duplicates])
        if row.proposed_parent is not None:
            row.merge_form.into.data = row.proposed_parent.keep.number
        # Preselect the category's default department, else the best suggestion. A returned
        # ticket is not offered back to the department that returned it.
        default = ticket.category.routing_department
        returned_by = row.returned.data.get("department") if row.returned else None
        choice = default.code if default is not None else None
        if choice is None or choice == returned_by:
            choice = next((d.code for d, _ in row.suggested if d.code != returned_by), choice)
        if choice is not None and choice != returned_by:
            row.form.department.data = choice
        rows.append(row)
    return render_template("dispatch/queue.html", rows=rows, now=now, pagination=pagination)


def suggestions_for(ticket: Ticket) -> list[suggestions.Suggestion]:
    """The learned suggestions for a ticket, best first; none when no model is trained.

    A suggestion is a help: should the model fail, the desk still works without it."""
    try:
        by_ticket = getattr(suggestions, "suggest_for_ticket", None)
        if by_ticket is not None:
            return list(by_ticket(ticket))[:SUGGESTIONS_SHOWN]
        return list(suggestions.suggest(ticket.description, limit=SUGGESTIONS_SHOWN))
    except Exception:  # noqa: BLE001 - an optional aid must not take the desk down
        log.exception("routing suggestions failed for ticket %s", ticket.number)
        return []


def _last_returns(waiting: list[Ticket]) -> dict[int, TicketEvent]:
    """The latest return (退单) of each ticket: the dispatcher needs its reason."""
    ids = [t.id for t in waiting if t.status == Status.PENDING_DISPATCH]
    if not ids:
        return {}
    events = db.session.scalars(
        select(TicketEvent)
        .where(TicketEvent.kind == "returned", TicketEvent.ticket_id.in_(ids))
        .order_by(TicketEvent.id)
    )
    return {event.ticket_id: event for event in events}  # later events overwrite earlier ones
