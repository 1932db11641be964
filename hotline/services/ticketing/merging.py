"""Duplicates (重复件): finding likely ones, and merging a ticket into the one that answers for it.

Likely duplicates are open tickets within a window (default 7 days) about the same
matter: in the same category at a similar address, or with a very similar text. The
same caller alone makes no duplicate (a caller's tourism complaint is no duplicate of
their streetlight call): it is their history, shown beside the intake form; it is named
as a further reason when the matter is the same too. Merging makes one ticket the parent; the child stops its clocks,
follows the parent, and counts once in the reports (merged tickets are left out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from hotline.extensions import db
from hotline.models import Category, Status, Ticket, User
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.ticketing import derived, lifecycle
from hotline.services.ticketing.transition import record_event

TEXT_SIMILARITY = 0.5  # Jaccard similarity of character bigrams that counts as "very similar"
CANDIDATE_LIMIT = 500
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass
class Likely:
    ticket: Ticket
    reasons: list[str] = field(default_factory=list)
    similarity: float = 0.0


def find_duplicates(
    actor: User,
    phone: str | None,
    category: Category | None,
    address: str,
    description: str,
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[Likely]:
    """Open tickets that may be the same request, most likely first: only those the actor may see
    (a confidential ticket is no candidate for those it is kept from, its text stays hidden)."""
    since = utcnow() - timedelta(days=current_app.config["HOTLINE_DUPLICATE_WINDOW_DAYS"])
    conditions = []
    if phone:
        conditions.append(Ticket.caller_phone == phone)
    if category is not None:
        conditions.append(Ticket.category_id == category.id)
    if not conditions:
        return []
    query = (
        access.visible_tickets(actor)
        .where(Ticket.status.in_(Status.OPEN), Ticket.created_at >= since, or_(*conditions))
        .order_by(Ticket.created_at.desc())
        .limit(CANDIDATE_LIMIT)
    )
    if exclude_id is not None:
        query = query.where(Ticket.id != exclude_id)
    grams = _bigrams(description)
    place = _normalise(address)
    # Up to 500 candidates are weighed on the four columns that decide (the dispatch desk does
    # this for each of its 50 rows); only the few shown are loaded whole.
    light = query.with_only_columns(
        Ticket.id, Ticket.description, Ticket.address, Ticket.category_id, Ticket.caller_phone
    )
    found: list[tuple[int, float, list[str]]] = []
    for candidate in db.session.execute(light):
        similarity, reasons = _jaccard(grams, _bigrams(candidate.description)), []
        if category is not None and candidate.category_id == category.id and _near(place, candidate.address):
            reasons.append("same_place")
        if similarity >= TEXT_SIMILARITY:
            reasons.append("similar_text")
        if not reasons:  # not the same matter, whoever called
            continue
        if phone and candidate.caller_phone == phone:
            reasons.insert(0, "same_phone")
        found.append((candidate.id, similarity, reasons))
    found.sort(key=lambda x: (len(x[2]), x[1]), reverse=True)
    found = found[:limit]
    if not found:
        return []
    tickets = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_([f[0] for f in found])))}
    return [Likely(tickets[id_], similarity=similarity, reasons=reasons) for id_, similarity, reasons in found]


def merge_into(actor: User, ticket: Ticket, parent_number: str, expected_version: int | None = None) -> Ticket:
    """Merge `ticket` into the ticket numbered `parent_number`, which answers for both."""
    lifecycle.require(actor, ticket, "merge")
    if not isinstance(parent_number, str) or not parent_number.strip():
        raise InvalidInput(_("Give the number of the ticket to merge into."), field="into")
    # The one look-up by number: a parent the actor may not see is no parent, exactly as a
    # number that does not exist (a merge must not tell whether a confidential number exists).
    parent = access.ticket_for(actor, parent_number.strip())
    if parent.id == ticket.id:
        raise InvalidInput(_("A ticket cannot be merged into itself."), field="into")
    if parent.status in (Status.MERGED, Status.CLOSED):
        raise Conflict(_("Ticket %(number)s cannot take duplicates: it is closed or merged.", number=parent.number))
    lifecycle.check(ticket, "merge", expected_version)
    now = utcnow()
    # A ticket that had duplicates of its own hands them on, all of them (seen or not by the
    # actor: this keeps the tree, it shows nothing): the tree stays one level deep.
    handed_on = list(db.session.scalars(select(Ticket).where(Ticket.parent_id == ticket.id)))
    for child in handed_on:
        child.parent = parent
    ticket.parent = parent
    changes = derived.Changes()
    data = {"into": parent.number}
    lifecycle.apply(actor, ticket, "merge", expected_version=expected_version, data=data, at=now, changes=changes)
    record_event(parent, actor, "merge_received", None, None, {"child": ticket.number}, at=now)
    for child in handed_on:
        changes.add(child)
    return lifecycle.commit(ticket, changes)


def children(actor: User, ticket: Ticket) -> list[Ticket]:
    """The duplicates merged into `ticket` that the actor may see."""
    query = access.visible_tickets(actor).where(Ticket.parent_id == ticket.id).order_by(Ticket.id)
    return list(db.session.scalars(query))


# The events that name the other ticket of a merge, and the field that names it.
MERGE_EVENT_FIELDS = {"merged": "into", "merge_received": "child"}


def numbers_in_events(ticket: Ticket) -> set[str]:
    """The numbers of the other tickets that this ticket's merge events name."""
    found = set()
    for event in ticket.events:
        name = MERGE_EVENT_FIELDS.get(event.kind)
        if name and isinstance((event.data or {}).get(name), str):
            found.add(event.data[name])
    return found


def _normalise(text: str) -> str:
    return _NOISE.sub("", (text or "").lower())


def _near(place: str, other: str) -> bool:
    """The same address, or one contained in the other (at least 6 characters of it)."""
    theirs = _normalise(other)
    if not place or not theirs:
        return False
    shorter, longer = sorted((place, theirs), key=len)
    return len(shorter) >= 6 and shorter in longer


def _bigrams(text: str) -> set[str]:
    clean = _normalise(text)
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
