"""Hotspots (热点): the problems callers repeat in the same place, for supervisors to act on
before the next call (每月一题, 未诉先办).

`detect(window)` groups the tickets logged in the last day, week or month (rolling, ending
now) by similar text within the same district, using `hotspot_clustering`; keeps the
largest groups as `Hotspot` rows with a label (the words that set each apart; district
names, stop words and generic words out), their size, the
size of the same group in the window of the same length before (growth), and the
departments and categories involved. A group found again by a later run updates the same
row (it shares tickets with it, or the same terms in the same district), so a name,
followers and an assignment survive the hourly re-detection; a hotspot no longer found is
deleted, unless a supervisor did something with it (then it stays, marked inactive).
A longer window counts at least what a shorter one inside it does (`_nested`).

Supervisors (and administrators) name, follow, dismiss and assign a hotspot: assigning
creates a proactive case, a ticket of type "report" on the channel "proactive", dispatched
to the chosen department through `tickets.dispatch`, so that its SLA clocks and notices
are those of any ticket.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select

from hotline.extensions import db
from hotline.models import (
    Category,
    Channel,
    Department,
    District,
    Hotspot,
    HotspotFollower,
    HotspotStatus,
    HotspotTicket,
    HotspotWindow,
    Status,
    Ticket,
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.city.directory import by_code
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.hotspot_detection import hotspot_clustering
from hotline.services.ticketing import intake, tickets

WINDOWS = {
    HotspotWindow.DAY: timedelta(days=1),
    HotspotWindow.WEEK: timedelta(days=7),
    HotspotWindow.MONTH: timedelta(days=30),
}
PROACTIVE_CHANNEL = Channel.PROACTIVE.value
NAME_MAX = 100
NOTE_MAX = 2000
# A later run's group is the same hotspot when it keeps half of the smaller group's tickets,
# or (its old tickets slid out of the window) its terms are this close in the same district.
SAME_BY_TICKETS = 0.5
SAME_BY_TERMS = 0.6
READ_BATCH = 50_000


@dataclass(frozen=True)
class DetectionResult:
    window: str
    start: datetime
    end: datetime
    tickets: int  # in the window
    previous_tickets: int  # in the window before
    groups: int  # groups of at least the minimum size
    hotspots: int  # kept (the largest groups)
    created: int
    updated: int
    removed: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["start"], values["end"] = self.start.isoformat(), self.end.isoformat()
        values["seconds"] = round(self.seconds, 2)
        return values


def window_bounds(window: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    if window not in WINDOWS:
        raise InvalidInput(_("Unknown window “%(window)s”: day, week or month.", window=window), field="window")
    end = now or utcnow()
    return end - WINDOWS[window], end


@dataclass
class TicketRows:
    """The columns detection needs, as parallel lists (a million ORM objects would not fit).
    `texts` stays empty when the texts were streamed (see `stream_tickets`)."""

    ids: list[int]
    texts: list[str]
    districts: list[int | None]
    departments: list[int | None]
    categories: list[int]


def stream_tickets(
    start: datetime, end: datetime, rows: TicketRows, districts: set[int | None] | None = None
) -> Iterator[str]:
    """The texts of the tickets logged in [start, end), one at a time, each ticket's other
    columns appended to `rows` as it is read: merged ones (counted in their parent) and
    proactive cases (our own answer to a hotspot) left out. Read in id batches, columns only,
    so that a month's million texts are never all in memory (the clustering tokenises them as
    they come)."""
    query = (
        select(
            Ticket.id, Ticket.description, Ticket.address, Ticket.district_id, Ticket.department_id, Ticket.category_id
        )
        .where(
            Ticket.created_at >= start,
            Ticket.created_at < end,
            Ticket.status != Status.MERGED,
            Ticket.channel != PROACTIVE_CHANNEL,
        )
        .order_by(Ticket.id)
    )
    if districts is not None:
        # A handful of districts: the database leaves the others out (None is "no district").
        known = [d for d in districts if d is not None]
        place = Ticket.district_id.in_(known)
        query = query.where(or_(place, Ticket.district_id.is_(None)) if None in districts else place)
    last = 0
    while True:
        batch = db.session.execute(query.where(Ticket.id > last).limit(READ_BATCH)).all()
        for ticket_id, description, address, district_id, department_id, category_id in batch:
            rows.ids.append(ticket_id)
            rows.districts.append(district_id)
            rows.departments.append(department_id)
            rows.categories.append(category_id)
            yield _text(description, address)
        if len(batch) < READ_BATCH:
            return
        last = batch[-1][0]


def _text(description: str | None, address: str | None) -> str:
    return f"{description or ''} {address or ''}"


def read_tickets(start: datetime, end: datetime, districts: set[int | None] | None = None) -> TicketRows:
    """The same tickets as `stream_tickets`, texts included, all at once."""
    rows = TicketRows([], [], [], [], [])
    rows.texts.extend(stream_tickets(start, end, rows, districts))
    return rows


def detect(
    window: str, now: datetime | None = None, params: hotspot_clustering.Params | None = None
) -> DetectionResult:
    """Find the window's hotspots and store them, keeping what supervisors did with earlier ones."""
    started = time.perf_counter()
    start, end = window_bounds(window, now)
    params = params or hotspot_clustering.Params()
    # Every ticket of a district names it in its address: its name says nothing of the problem.
    names = db.session.scalars(select(District.name)).all()
    params = dataclasses.replace(params, ignore=params.ignore | hotspot_clustering.place_words(names))
    current = TicketRows([], [], [], [], [])
    # The districts are filled as the texts are read: find_groups reads them after the texts.
    found = hotspot_clustering.find_groups(stream_tickets(start, end, current), current.districts, params)
    kept = _nested(window, start, end, found, found.groups[: params.max_groups], current)
    previous_ticket_count = 0
    previous_counts = [0] * len(kept)
    if kept:
        # Only the previous window's tickets in the kept groups' districts can count for them.
        previous = TicketRows([], [], [], [], [])
        texts = stream_tickets(start - (end - start), start, previous, {group.block for group in kept})
        # Each text is yielded after its district was appended: the last one is its own.
        previous_counts = found.count_similar(kept, ((text, previous.districts[-1]) for text in texts))
        previous_ticket_count = len(previous.ids)
    created, updated, removed = _store(window, start, end, current, kept, previous_counts)
    return DetectionResult(
        window=window,
        start=start,
        end=end,
        tickets=len(current.ids),
        previous_tickets=previous_ticket_count,
        groups=len(found.groups),
        hotspots=len(kept),
        created=created,
        updated=updated,
        removed=removed,
        seconds=time.perf_counter() - started,
    )


def _nested(
    window: str,
    start: datetime,
    end: datetime,
    found: hotspot_clustering.Found,
    kept: list[hotspot_clustering.Group],
    rows: TicketRows,
) -> list[hotspot_clustering.Group]:
    """A longer window counts at least what a shorter one inside it does: each hotspot of a
    shorter window whose span lies inside this one (the job runs day, week, month in turn)
    gives its tickets to the group of this window that continues it (the most shared tickets
    in its district, else the closest terms), or stays a group of its own here.

    Why: each window is grouped anew, and a ticket joins the group it resembles most *in that
    window*. A week holds problems a day does not, so a streetlight complaint that also
    mentions a fall and the property manager joined a week's group about those instead, and
    the streetlight hotspot counted 5 in 24 hours but 4 in 7 days."""
    shorter = [name for name, span in WINDOWS.items() if span < WINDOWS[window]]
    inner = db.session.scalars(
        select(Hotspot)
        .where(
            Hotspot.window_kind.in_(shorter),
            Hotspot.active.is_(True),
            Hotspot.window_start >= start,
            Hotspot.window_end <= end,
        )
        .order_by(Hotspot.ticket_count.desc(), Hotspot.id)
    ).all()
    if not inner:
        return kept
    position = {ticket_id: i for i, ticket_id in enumerate(rows.ids)}
    members: dict[int, set[int]] = defaultdict(set)
    query = select(HotspotTicket.hotspot_id, HotspotTicket.ticket_id).where(
        HotspotTicket.hotspot_id.in_([h.id for h in inner])
    )
    for hotspot_id, ticket_id in db.session.execute(query):
        if ticket_id in position:  # merged since, or out of this window: not counted here either
            members[hotspot_id].add(position[ticket_id])
    kept = list(kept)
    for hotspot in inner:
        own = members[hotspot.id]
        if not own:
            continue
        here = [g for g in kept if g.block == hotspot.district_id]
        by_tickets = max(here, key=lambda g: len(own.intersection(g.members)), default=None)
        group = by_tickets if by_tickets is not None and own.intersection(by_tickets.members) else None
        if group is None:
            similarity = {id(g): hotspot_clustering.term_similarity(hotspot.terms or {}, g.terms) for g in here}
            closest = max(here, key=lambda g: similarity[id(g)], default=None)
            if closest is not None and similarity[id(closest)] >= SAME_BY_TERMS:
                group = closest
        if group is not None:
            group.members = sorted(own.union(group.members))
            continue
        ids = [rows.ids[i] for i in sorted(own)]
        texts = [
            _text(d, a)
            for d, a in db.session.execute(select(Ticket.description, Ticket.address).where(Ticket.id.in_(ids)))
        ]
        kept.append(found.add(hotspot.district_id, sorted(own), texts, hotspot.label, dict(hotspot.terms or {})))
    kept.sort(key=lambda g: -g.size)
    return kept


def _signature(window: str, district_id: int | None, terms: dict[str, float]) -> str:
    top = sorted(sorted(terms, key=lambda t: -terms[t])[:5])
    return hashlib.sha1(f"{window}|{district_id}|{'|'.join(top)}".encode(), usedforsecurity=False).hexdigest()


def _ranked(values: list[int | None], limit: int = 10) -> list[tuple[int, int]]:
    return [(value, n) for value, n in Counter(v for v in values if v is not None).most_common(limit)]


def _store(
    window: str,
    start: datetime,
    end: datetime,
    rows: TicketRows,
    groups: list[hotspot_clustering.Group],
    previous_counts: list[int],
) -> tuple[int, int, int]:
    now = utcnow()
    existing = list(db.session.scalars(select(Hotspot).where(Hotspot.window_kind == window)))
    matches = _match(existing, groups, rows)
    codes = dict(db.session.execute(select(Department.id, Department.code)).all())
    category_codes = dict(db.session.execute(select(Category.id, Category.code)).all())
    created = updated = 0
    seen: set[int] = set()
    for index, group in enumerate(groups):
        members = [rows.ids[i] for i in group.members]
        count, before = len(members), previous_counts[index]
        hotspot = matches.get(index)
        if hotspot is None:
            hotspot = Hotspot(window_kind=window, status=HotspotStatus.OPEN, name="", note="", first_seen_at=now)
            db.session.add(hotspot)
            created += 1
        else:
            updated += 1
        hotspot.window_start, hotspot.window_end, hotspot.last_seen_at, hotspot.active = start, end, now, True
        hotspot.label = group.label[:200]
        hotspot.terms = group.terms
        hotspot.district_id = group.block
        hotspot.signature = _signature(window, group.block, group.terms)
        hotspot.ticket_count, hotspot.previous_count = count, before
        hotspot.growth = round((count - before) / before, 4) if before else None
        hotspot.departments = [
            [codes[d], n] for d, n in _ranked([rows.departments[i] for i in group.members]) if d in codes
        ]
        hotspot.categories = [
            [category_codes[c], n]
            for c, n in _ranked([rows.categories[i] for i in group.members])
            if c in category_codes
        ]
        db.session.flush()
        seen.add(hotspot.id)
        db.session.execute(delete(HotspotTicket).where(HotspotTicket.hotspot_id == hotspot.id))
        db.session.execute(
            insert(HotspotTicket), [{"hotspot_id": hotspot.id, "ticket_id": ticket_id} for ticket_id in members]
        )
    removed = 0
    for hotspot in existing:
        if hotspot.id in seen:
            continue
        if _has_state(hotspot):
            hotspot.active = False  # kept with its last tickets: someone named, followed or acted on it
        else:
            db.session.delete(hotspot)
            removed += 1
    db.session.commit()
    return created, updated, removed


def _has_state(hotspot: Hotspot) -> bool:
    return bool(hotspot.name or hotspot.followers or hotspot.status != HotspotStatus.OPEN)


def _match(existing: list[Hotspot], groups: list[hotspot_clustering.Group], rows: TicketRows) -> dict[int, Hotspot]:
    """Which stored hotspot each new group continues: best first, each hotspot at most once."""
    if not existing or not groups:
        return {}
    by_id = {h.id: h for h in existing}
    sizes = dict(
        db.session.execute(
            select(HotspotTicket.hotspot_id, func.count())
            .where(HotspotTicket.hotspot_id.in_(by_id))
            .group_by(HotspotTicket.hotspot_id)
        ).all()
    )
    owner: dict[int, list[int]] = {}
    for hotspot_id, ticket_id in db.session.execute(
        select(HotspotTicket.hotspot_id, HotspotTicket.ticket_id).where(HotspotTicket.hotspot_id.in_(by_id))
    ):
        owner.setdefault(ticket_id, []).append(hotspot_id)
    scores: list[tuple[float, int, int]] = []
    for index, group in enumerate(groups):
        shared = Counter(h for i in group.members for h in owner.get(rows.ids[i], ()))
        for hotspot_id, n in shared.items():
            overlap = n / max(1, min(len(group.members), sizes.get(hotspot_id, 0)))
            if overlap >= SAME_BY_TICKETS:
                scores.append((1.0 + overlap, index, hotspot_id))  # shared tickets beat shared terms
        for hotspot in existing:
            if hotspot.district_id == group.block and hotspot.id not in shared:
                similarity = hotspot_clustering.term_similarity(hotspot.terms or {}, group.terms)
                if similarity >= SAME_BY_TERMS:
                    scores.append((similarity, index, hotspot.id))
    matches: dict[int, Hotspot] = {}
    taken: set[int] = set()
    for _score, index, hotspot_id in sorted(scores, key=lambda s: (-s[0], s[1], s[2])):
        if index not in matches and hotspot_id not in taken:
            matches[index] = by_id[hotspot_id]
            taken.add(hotspot_id)
    return matches


# --- what supervisors do --------------------------------------------------------------------


def get(actor: User, hotspot_id: int) -> Hotspot:
    access.require_role(actor, *access.SUPERVISE_ROLES)
    hotspot = db.session.get(Hotspot, hotspot_id)
    if hotspot is None:
        raise NotFound(_("No hotspot %(id)s.", id=hotspot_id))
    return hotspot


def top(actor: User, window: str, limit: int = 20) -> list[Hotspot]:
    """The window's hotspots found by its latest run, largest first (then new ones, then fastest growing)."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    window_bounds(window)  # validates the name
    return list(
        db.session.scalars(
            select(Hotspot)
            .where(Hotspot.window_kind == window, Hotspot.active.is_(True))
            .order_by(Hotspot.ticket_count.desc(), Hotspot.growth.desc().nulls_first(), Hotspot.id)
            .limit(limit)
        )
    )


def followed(actor: User) -> list[Hotspot]:
    """The hotspots this supervisor follows, in every window, found again or not."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    return list(
        db.session.scalars(
            select(Hotspot)
            .join(HotspotFollower)
            .where(HotspotFollower.user_id == actor.id)
            .order_by(Hotspot.active.desc(), Hotspot.ticket_count.desc(), Hotspot.id)
        )
    )


def tickets_query(actor: User, hotspot: Hotspot):
    """The tickets behind a hotspot that the actor may see, newest first (a select, for paging)."""
    return (
        access.visible_tickets(actor)
        .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
        .where(HotspotTicket.hotspot_id == hotspot.id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )


def name(actor: User, hotspot: Hotspot, new_name: str) -> Hotspot:
    """Give the hotspot a name of the supervisor's choosing; an empty one goes back to the label."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    text = " ".join((new_name or "").split())
    if len(text) > NAME_MAX:
        raise InvalidInput(_("The name is longer than %(n)d characters.", n=NAME_MAX), field="name")
    hotspot.name = text
    db.session.commit()
    return hotspot


def follow(actor: User, hotspot: Hotspot) -> Hotspot:
    access.require_role(actor, *access.SUPERVISE_ROLES)
    if not hotspot.followed_by(actor):
        hotspot.followers.append(HotspotFollower(user_id=actor.id, at=utcnow()))
        db.session.commit()
    return hotspot


def unfollow(actor: User, hotspot: Hotspot) -> Hotspot:
    access.require_role(actor, *access.SUPERVISE_ROLES)
    hotspot.followers = [f for f in hotspot.followers if f.user_id != actor.id]
    db.session.commit()
    return hotspot


def dismiss(actor: User, hotspot: Hotspot) -> Hotspot:
    """No pattern worth a proactive case: it stays listed, marked, until it fades."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    _require_open(hotspot)
    hotspot.status = HotspotStatus.DISMISSED
    db.session.commit()
    return hotspot


def reopen(actor: User, hotspot: Hotspot) -> Hotspot:
    access.require_role(actor, *access.SUPERVISE_ROLES)
    if hotspot.status != HotspotStatus.DISMISSED:
        raise Conflict(_("Only a dismissed hotspot can be reopened."))
    hotspot.status = HotspotStatus.OPEN
    db.session.commit()
    return hotspot


def _require_open(hotspot: Hotspot) -> None:
    if hotspot.status == HotspotStatus.ASSIGNED:
        number = hotspot.proactive_ticket.number if hotspot.proactive_ticket else "—"
        raise Conflict(_("This hotspot was already assigned as ticket %(number)s.", number=number))
    if hotspot.status == HotspotStatus.DISMISSED:
        raise Conflict(_("This hotspot was dismissed; reopen it first."))


def assign(actor: User, hotspot: Hotspot, department_code: str, note: str = "") -> Ticket:
    """Hand the hotspot to a department as a proactive case (未诉先办): a ticket of type
    "report" on the channel "proactive", under the category most of its tickets were filed
    under, in its district, dispatched at once (SLA clocks and notices as for any ticket)."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    _require_open(hotspot)
    department = by_code(Department, (department_code or "").strip(), "department", required=True)
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput(_("The note is longer than %(n)d characters.", n=NOTE_MAX), field="note")
    category = _main_category(hotspot)
    if category is None:
        raise InvalidInput(_("This hotspot has no tickets left to take a category from."), field="department")
    now = utcnow()
    fields = {
        "type": "report",
        "category_id": category.id,
        "district_id": hotspot.district_id,
        "address": _main_address(hotspot),
        "description": _case_description(hotspot, text),
        "urgency": "normal",
        "caller_phone": "",  # nobody called: no texts to a citizen
        "caller_name": "",
    }
    # Not handed to the workers: no routing job that could race the dispatch; one commit for all.
    opened = intake.open_ticket(
        actor, PROACTIVE_CHANNEL, fields, at=now, event_data={"hotspot": hotspot.id}, commit=False
    )
    ticket = opened.ticket
    hotspot.status = HotspotStatus.ASSIGNED
    hotspot.assigned_department = department
    hotspot.proactive_ticket = ticket
    hotspot.assigned_by = actor
    hotspot.assigned_at = now
    hotspot.note = text
    try:
        return tickets.dispatch(actor, ticket, department.code)
    except Exception:
        db.session.rollback()
        raise


def _main_category(hotspot: Hotspot) -> Category | None:
    for code, _n in hotspot.categories or []:
        category = db.session.scalar(select(Category).where(Category.code == code))
        if category is not None:
            return category
    return db.session.scalar(
        select(Category)
        .join(Ticket, Ticket.category_id == Category.id)
        .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
        .where(HotspotTicket.hotspot_id == hotspot.id)
        .group_by(Category.id)
        .order_by(func.count().desc(), Category.id)
        .limit(1)
    )


def _main_address(hotspot: Hotspot) -> str:
    address = db.session.scalar(
        select(Ticket.address)
        .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
        # Not a confidential report's address: the case goes to a department.
        .where(HotspotTicket.hotspot_id == hotspot.id, Ticket.address != "", Ticket.confidential.is_(False))
        .group_by(Ticket.address)
        .order_by(func.count().desc(), Ticket.address)
        .limit(1)
    )
    return (address or "")[:300]


def _case_description(hotspot: Hotspot, note: str) -> str:
    # The case goes to a department, who may see none of the members: it names no confidential one.
    examples = db.session.scalars(
        select(Ticket.number)
        .join(HotspotTicket, HotspotTicket.ticket_id == Ticket.id)
        .where(HotspotTicket.hotspot_id == hotspot.id, Ticket.confidential.is_(False))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(5)
    ).all()
    district = db.session.get(District, hotspot.district_id) if hotspot.district_id else None
    lines = [
        _(
            "Proactive case (未诉先办) for the hotspot “%(title)s”: %(count)d tickets from %(start)s to %(end)s%(place)s.",
            title=hotspot.title,
            count=hotspot.ticket_count,
            start=hotspot.window_start.strftime("%Y-%m-%d"),
            end=hotspot.window_end.strftime("%Y-%m-%d"),
            place=f" ({district.name})" if district else "",
        ),
        _("For example: %(numbers)s.", numbers=", ".join(examples)) if examples else "",
        note,
    ]
    return "\n".join(line for line in lines if line)[: tickets.DESCRIPTION_MAX]
