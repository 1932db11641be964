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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

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


@dataclass(frozen=True)
class Matter:
    """What a ticket (or an intake form) is weighed on for duplicates."""

    phone: str | None
    category_id: int | None
    address: str
    description: str
    exclude_id: int | None = None


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
    matter = Matter(phone, category.id if category is not None else None, address, description, exclude_id)
    return find_duplicates_of(actor, [matter], limit)[0]


def find_duplicates_of(actor: User, matters: Sequence[Matter], limit: int = 10) -> list[list[Likely]]:
    """`find_duplicates` for several matters at once (the dispatch desk's waiting tickets): one
    query for the candidates of all of them, each candidate's words cut once, one query for
    the tickets shown. Each matter's candidates are its own newest CANDIDATE_LIMIT, as alone."""
    since = utcnow() - timedelta(days=current_app.config["HOTLINE_DUPLICATE_WINDOW_DAYS"])
    phones = sorted({m.phone for m in matters if m.phone})
    categories = sorted({m.category_id for m in matters if m.category_id is not None})
    if not phones and not categories:
        return [[] for _ in matters]
    conditions = []
    if phones:
        conditions.append(Ticket.caller_phone.in_(phones))
    if categories:
        conditions.append(Ticket.category_id.in_(categories))
    # A matter's newest CANDIDATE_LIMIT are among the newest of its category and the newest of
    # its phone (one more: the matter's own ticket, left out below), ranked by the database.
    newest = (Ticket.created_at.desc(), Ticket.id.desc())
    ranked = (
        access.visible_tickets(actor)
        .where(Ticket.status.in_(Status.OPEN), Ticket.created_at >= since, or_(*conditions))
        .with_only_columns(
            Ticket.id,
            Ticket.description,
            Ticket.address,
            Ticket.category_id,
            Ticket.caller_phone,
            Ticket.created_at,
            func.row_number().over(partition_by=Ticket.category_id, order_by=newest).label("in_category"),
            func.row_number().over(partition_by=Ticket.caller_phone, order_by=newest).label("in_phone"),
        )
        .subquery()
    )
    within = []
    if phones:
        within.append(and_(ranked.c.caller_phone.in_(phones), ranked.c.in_phone <= CANDIDATE_LIMIT + 1))
    if categories:
        within.append(and_(ranked.c.category_id.in_(categories), ranked.c.in_category <= CANDIDATE_LIMIT + 1))
    candidates = list(
        db.session.execute(select(ranked).where(or_(*within)).order_by(ranked.c.created_at.desc(), ranked.c.id.desc()))
    )
    # Each matter reads the candidates of its category and of its phone only, in the order read.
    by_category: dict[int, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    for position, candidate in enumerate(candidates):
        by_category[candidate.category_id].append(position)
        by_phone[candidate.caller_phone].append(position)
    cut: dict[int, tuple[set[str], str]] = {}  # each candidate's bigrams and address, cut once for all
    results: list[list[tuple[int, float, list[str]]]] = []
    for matter in matters:
        positions = set(by_category.get(matter.category_id, ())) if matter.category_id is not None else set()
        if matter.phone:
            positions.update(by_phone.get(matter.phone, ()))
        pool = [candidates[position] for position in sorted(positions)]
        results.append(_weigh(matter, pool, cut)[:limit])
    shown = {id_ for found in results for id_, _similarity, _reasons in found}
    tickets = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(shown)))} if shown else {}
    return [
        [Likely(tickets[id_], similarity=similarity, reasons=reasons) for id_, similarity, reasons in found]
        for found in results
    ]


def _weigh(
    matter: Matter, candidates: list[Any], cut: dict[int, tuple[set[str], str]]
) -> list[tuple[int, float, list[str]]]:
    """A matter's likely duplicates among its candidates (of its category or phone, newest
    first): (id, similarity, reasons), most likely first. `cut` keeps each candidate's bigrams
    and normalised address for the next matter."""
    phone, category_id = matter.phone, matter.category_id
    own = _bigrams(matter.description)
    place = _normalise(matter.address)
    found: list[tuple[int, float, list[str]]] = []
    weighed = 0
    for candidate in candidates:
        if candidate.id == matter.exclude_id:
            continue
        weighed += 1
        if weighed > CANDIDATE_LIMIT:
            break
        theirs = cut.get(candidate.id)
        if theirs is None:
            theirs = cut[candidate.id] = (_bigrams(candidate.description), _normalise(candidate.address))
        grams, address = theirs
        same_place = category_id is not None and candidate.category_id == category_id and _near(place, address)
        if not same_place and not _may_be_similar(own, grams):
            continue  # not the same matter, whoever called
        similarity, reasons = _jaccard(own, grams), []
        if same_place:
            reasons.append("same_place")
        if similarity >= TEXT_SIMILARITY:
            reasons.append("similar_text")
        if not reasons:  # not the same matter, whoever called
            continue
        if phone and candidate.caller_phone == phone:
            reasons.insert(0, "same_phone")
        found.append((candidate.id, similarity, reasons))
    found.sort(key=lambda x: (len(x[2]), x[1]), reverse=True)
    return found


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


def _near(place: str, theirs: str) -> bool:
    """The same address, or one contained in the other (at least 6 characters of it); both
    normalised."""
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
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # the union's size, without building it


def _may_be_similar(a: set[str], b: set[str]) -> bool:
    """Whether the texts can reach TEXT_SIMILARITY: their Jaccard similarity is at most the
    smaller set's size over the larger's, so most candidates are passed over without it."""
    return bool(a and b) and min(len(a), len(b)) >= TEXT_SIMILARITY * max(len(a), len(b))
