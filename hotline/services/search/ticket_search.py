"""Searching tickets by their words, within the searcher's rights, and keeping the index in step.

A ticket's document holds its description, address and resolution and the texts of its
events that carry words (notes, replies, citizens' messages, transcribed voicemails);
everyone who may see a ticket sees its whole timeline, so one document serves all.
Caller names and numbers are never indexed: department staff must not find a ticket by
the caller they are not shown.

Whoever changes a ticket's words (its fields, a worded event) rewrites its document in the
same transaction, by an explicit call: `refresh`, through `derived` (`lifecycle.apply` for
every action; intake writes a new ticket's document itself); tickets written around the ORM
(bulk loaders) are indexed by `reindex` (`flask search reindex`), whose full rebuild reads
plain rows and writes through the database's bulk path; both make a document with
`_documents`, so they cannot differ.

Filters are checked on the ticket row in the same query as the words; a date range also
bounds the ids that the index walk visits (`id_bounds`), so that a word common outside the
range is not walked back to the oldest ticket.

Rights: `access.visible_tickets` (department staff: their department's tickets and those
they assist on), and confidential tickets only for supervisors, administrators and the
department that holds them; operators and dispatchers never find them.

On PostgreSQL a document also carries its ticket's scopes, `@d<id>` for its department and
each assisting one (`scopes_of`), so that department staff's searches ask the GIN index for
the words within their department (search_index's docstring). They are kept in step by the
same calls, on any change of a ticket's department or of its assists, and by `reindex`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Connection, delete, false, func, not_, or_, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import (
    Category,
    Department,
    District,
    Role,
    Status,
    Ticket,
    TicketAssist,
    TicketEvent,
    TicketHold,
    TicketSearch,
    User,
)
from hotline.services.accounts import access
from hotline.services.city.directory import by_code
from hotline.services.errors import InvalidInput
from hotline.services.reporting.report_figures import day_bounds, timezone
from hotline.services.search import search_index
from hotline.services.search.search_index import Query

TICKETS = search_index.Kind("ticket", scoped=True)
# The events whose words belong to the ticket's document, and where their words are.
WORDED_EVENTS = {
    "note": "text",
    "resolved": "resolution",
    "direct_answer": "answer",
    "assist_done": "reply",
    "citizen_message": "text",
    "voicemail_transcribed": "text",
}
CONFIDENTIAL_ROLES = (Role.SUPERVISOR, Role.ADMIN)
PER_PAGE_MAX = 100
REINDEX_BATCH = 2000
FULL_REINDEX_BATCH = 50_000  # tickets per read of a full reindex
# Fewer tickets than this pass the rights and filters: they are matched one by one (_few_passing).
SELECTIVE = 5_000
# A date range holding fewer tickets than this gives the index walk id bounds (id_bounds).
ID_BOUNDS_SPAN = 1_000_000


# --- documents -----------------------------------------------------------------------------


def documents_for(connection: Connection, ticket_ids: Sequence[int]) -> dict[int, str]:
    """The prepared document of each of these tickets that exists."""
    if not ticket_ids:
        return {}
    tickets = Ticket.__table__
    events = TicketEvent.__table__
    rows = connection.execute(
        select(tickets.c.id, tickets.c.description, tickets.c.address, tickets.c.resolution).where(
            tickets.c.id.in_(ticket_ids)
        )
    )
    worded = connection.execute(
        select(events.c.ticket_id, events.c.kind, events.c.data)
        .where(events.c.kind.in_(list(WORDED_EVENTS)), events.c.ticket_id.in_(ticket_ids))
        .order_by(events.c.id)
    )
    return _documents(rows, worded)


def _documents(ticket_rows: Iterable[Any], event_rows: Iterable[Any]) -> dict[int, str]:
    """Documents from (id, description, address, resolution) rows and their worded events'
    (ticket_id, kind, data) rows in event order: what `documents_for` and `reindex` share."""
    texts: dict[int, list[str | None]] = {row[0]: [row[1], row[2], row[3]] for row in ticket_rows}
    for ticket_id, kind, data in event_rows:
        words = (data or {}).get(WORDED_EVENTS[kind])
        # A resolution already in the ticket's field is not counted twice (it would weigh double).
        if isinstance(words, str) and ticket_id in texts and words not in texts[ticket_id]:
            texts[ticket_id].append(words)
    return {ticket_id: search_index.prepare(*values) for ticket_id, values in texts.items()}


def scope(department_ids: Iterable[int | None]) -> str | None:
    """The scopes of a ticket held by or assisted by these departments: `@d<id>` each, by id."""
    found = sorted({d for d in department_ids if d is not None})
    return " ".join(f"@d{d}" for d in found) or None


def scopes_of(connection: Connection, ticket_ids: Sequence[int]) -> dict[int, str | None]:
    """The scopes of each of these tickets that exists (PostgreSQL; {} where unused)."""
    if not ticket_ids or not search_index.uses_scopes(connection, TICKETS):
        return {}
    tickets = Ticket.__table__
    assists = TicketAssist.__table__
    held = connection.execute(select(tickets.c.id, tickets.c.department_id).where(tickets.c.id.in_(ticket_ids)))
    assisted = connection.execute(
        select(assists.c.ticket_id, assists.c.department_id).where(assists.c.ticket_id.in_(ticket_ids))
    )
    # The units it is sent down to (下派, issue 17) see it while their hold is open: they find it too.
    holds = TicketHold.__table__
    chain = connection.execute(
        select(holds.c.ticket_id, holds.c.department_id).where(
            holds.c.ticket_id.in_(ticket_ids), holds.c.ended_at.is_(None)
        )
    )
    return _scopes(held, [*assisted, *chain])


def _scopes(ticket_rows: Iterable[Any], assist_rows: Iterable[Any]) -> dict[int, str | None]:
    """Scopes from (id, department_id) rows and (ticket_id, department_id) rows of the units
    assisting on it or holding it down its chain."""
    departments: dict[int, list[int | None]] = {row[0]: [row[1]] for row in ticket_rows}
    for ticket_id, department_id in assist_rows:
        if ticket_id in departments:
            departments[ticket_id].append(department_id)
    return {ticket_id: scope(found) for ticket_id, found in departments.items()}


def refresh(connection: Connection, ticket_ids: Iterable[int]) -> None:
    """Rewrite these tickets' documents and scopes (and drop those of tickets that no longer
    exist)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    documents = documents_for(connection, ids)
    search_index.write(connection, TICKETS, documents, scopes_of(connection, ids))
    search_index.remove(connection, TICKETS, [i for i in ids if i not in documents])


def refresh_scopes(connection: Connection, ticket_ids: Iterable[int]) -> None:
    """Rewrite these tickets' scopes only (their department or assists changed, not their
    words): no document is prepared again."""
    ids = sorted({i for i in ticket_ids if i is not None})
    search_index.write_scopes(connection, TICKETS, scopes_of(connection, ids))


def reindex(
    batch: int = REINDEX_BATCH, progress: Callable[[int, int], None] | None = None, full: bool | None = None
) -> tuple[int, int]:
    """Rebuild every ticket's document. Returns (tickets read, documents written).

    `full` (the default when no ticket is indexed yet, as after a bulk load): every document
    is written anew in one transaction, the session's (committed at the end), and the index
    built once at the end (`rebuild`), 10,000 to 20,000 tickets a second here; meanwhile
    searches see the old index on SQLite and wait on PostgreSQL, and writers wait. Otherwise
    a batch of tickets per transaction (bounded memory, the index stays usable meanwhile):
    documents already right are left alone, and those of tickets that no longer exist are
    dropped."""
    if full is None:
        full = db.session.scalar(select(TicketSearch.id).limit(1)) is None
    if full:
        return _reindex_full(max(batch, FULL_REINDEX_BATCH), progress)
    read = written = 0
    last = 0
    while True:
        with db.engine.begin() as connection:
            ids = connection.scalars(
                select(Ticket.__table__.c.id)
                .where(Ticket.__table__.c.id > last)
                .order_by(Ticket.__table__.c.id)
                # Keyset paging: each batch is an index range, however far in.
                .limit(batch)
            ).all()
            if not ids:
                break
            documents = documents_for(connection, ids)
            scopes = scopes_of(connection, ids)
            for same in search_index.unchanged(connection, TICKETS, documents, scopes):
                del documents[same]
            search_index.write(connection, TICKETS, documents, scopes)
        read += len(ids)
        written += len(documents)
        last = ids[-1]
        if progress:
            progress(read, written)
    with db.engine.begin() as connection:
        connection.execute(delete(TicketSearch).where(TicketSearch.id.not_in(select(Ticket.__table__.c.id))))
    return read, written


def _reindex_full(batch: int, progress: Callable[[int, int], None] | None) -> tuple[int, int]:
    """Every document from plain rows (Core, no ORM objects), a range of ids at a time, handed
    to `search_index.rebuild` as they are made."""
    tickets = Ticket.__table__
    events = TicketEvent.__table__
    assists = TicketAssist.__table__
    read = 0

    def batches(connection: Connection) -> Iterator[list[tuple[Any, ...]]]:
        nonlocal read
        last = 0
        scoped = search_index.uses_scopes(connection, TICKETS)
        while True:
            rows = connection.execute(
                select(
                    tickets.c.id,
                    tickets.c.description,
                    tickets.c.address,
                    tickets.c.resolution,
                    tickets.c.department_id,
                )
                .where(tickets.c.id > last)
                .order_by(tickets.c.id)
                .limit(batch)
            ).all()
            if not rows:
                return
            first, last = rows[0][0], rows[-1][0]
            # The batch's worded events by id range: ix_ticket_event_kind_ticket, one range per kind.
            worded = connection.execute(
                select(events.c.ticket_id, events.c.kind, events.c.data)
                .where(events.c.kind.in_(list(WORDED_EVENTS)), events.c.ticket_id.between(first, last))
                .order_by(events.c.id)
            ).all()
            documents = _documents(rows, worded)
            read += len(rows)
            if not scoped:
                yield list(documents.items())
            else:
                assisted = connection.execute(
                    select(assists.c.ticket_id, assists.c.department_id).where(assists.c.ticket_id.between(first, last))
                )
                holds = TicketHold.__table__
                chain = connection.execute(
                    select(holds.c.ticket_id, holds.c.department_id).where(
                        holds.c.ticket_id.between(first, last), holds.c.ended_at.is_(None)
                    )
                )
                scopes = _scopes([(row[0], row[4]) for row in rows], [*assisted, *chain])
                yield [(ticket_id, document, scopes[ticket_id]) for ticket_id, document in documents.items()]
            if progress:
                progress(read, read)

    # In the session's own transaction, committed here: on PostgreSQL a read that the session
    # held open on the documents would otherwise block the index's DROP for good.
    connection = db.session.connection()
    try:
        written = search_index.rebuild(connection, TICKETS, batches(connection))
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return read, written


def needs_reindex() -> bool:
    """True when tickets exist but none is indexed (a database loaded around the ORM)."""
    has_tickets = db.session.scalar(select(Ticket.id).limit(1)) is not None
    return has_tickets and db.session.scalar(select(TicketSearch.id).limit(1)) is None


# --- searching -----------------------------------------------------------------------------


@dataclass
class Filters:
    statuses: Sequence[str] = ()
    category_id: int | None = None  # with its subcategories
    department_id: int | None = None
    district_id: int | None = None
    created_from: datetime | None = None  # UTC, inclusive
    created_before: datetime | None = None  # UTC, exclusive


@dataclass
class Hit:
    ticket: Ticket
    score: float
    snippet: Markup | None


@dataclass
class Results:
    query: Query
    hits: list[Hit]
    page: int
    per_page: int
    total: int
    capped: bool  # more matches than were ranked: `total` is a lower bound
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = -(-self.total // self.per_page)


def rights(actor: User) -> list:
    """The conditions on Ticket for what this actor may find."""
    conditions = []
    visible = access.visible_tickets(actor).whereclause
    if visible is not None:
        conditions.append(visible)
    if actor.role == Role.DEPARTMENT:
        conditions.append(or_(not_(Ticket.confidential), Ticket.department_id == actor.department_id))
    elif actor.role not in CONFIDENTIAL_ROLES:
        conditions.append(not_(Ticket.confidential))
    return conditions


def conditions_for(filters: Filters) -> list:
    conditions = []
    if filters.statuses:
        conditions.append(Ticket.status.in_(list(filters.statuses)))
    if filters.category_id is not None:
        conditions.append(Ticket.category_id.in_(category_and_descendants(filters.category_id)))
    if filters.department_id is not None:
        conditions.append(Ticket.department_id == filters.department_id)
    if filters.district_id is not None:
        conditions.append(Ticket.district_id == filters.district_id)
    if filters.created_from is not None:
        conditions.append(Ticket.created_at >= filters.created_from)
    if filters.created_before is not None:
        conditions.append(Ticket.created_at < filters.created_before)
    if filters.created_from and filters.created_before and filters.created_from >= filters.created_before:
        conditions.append(false())
    return conditions


def category_and_descendants(category_id: int) -> list[int]:
    pairs = db.session.execute(select(Category.id, Category.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for child, parent in pairs:
        children.setdefault(parent, []).append(child)
    found, todo = [], [category_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.append(current)
            todo.extend(children.get(current, []))
    return found


def search(
    actor: User, raw_query: str | None, filters: Filters | None = None, page: int = 1, per_page: int = 20
) -> Results:
    """The tickets the actor may see that match the query and the filters, best first."""
    query = search_index.parse_query(raw_query)
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    page = max(1, page)
    connection = db.session.connection()
    filtering = conditions_for(filters or Filters())
    conditions = [*rights(actor), *filtering]
    # Department staff see no ticket outside their department's scope: the index walk keeps to it.
    within = scope([actor.department_id]) if actor.role == Role.DEPARTMENT else None
    if within and not filtering and _holds_many(connection, actor.department_id):
        few = None  # its own tickets alone pass the rights: not few (a cheaper probe than _few_passing's)
    else:
        few = _few_passing(connection, conditions)
    if few is not None:
        matches = search_index.match_among(connection, TICKETS, query, few)
    else:
        low, high = id_bounds(connection, filters or Filters())
        matches = search_index.match(
            connection,
            TICKETS,
            query,
            join=(Ticket.__table__, Ticket.__table__.c.id),
            where=conditions,
            low=low,
            high=high,
            scopes=[within] if within else [],
        )
    chosen = matches[(page - 1) * per_page : page * per_page]
    tickets = {
        t.id: t
        for t in db.session.scalars(
            select(Ticket)
            .where(Ticket.id.in_([ticket_id for ticket_id, _score in chosen]))
            .options(selectinload(Ticket.category), selectinload(Ticket.department), selectinload(Ticket.parent))
        )
    }
    texts = _event_texts(list(tickets))
    hits = [
        Hit(tickets[ticket_id], score, _snippet(tickets[ticket_id], texts.get(ticket_id, []), query))
        for ticket_id, score in chosen
        if ticket_id in tickets
    ]
    return Results(query, hits, page, per_page, total=len(matches), capped=len(matches) >= search_index.CANDIDATES)


def id_bounds(connection: Connection, filters: Filters) -> tuple[int | None, int | None]:
    """The lowest and highest ids of the tickets created within the filters' dates, when that
    range holds fewer than ID_BOUNDS_SPAN tickets (read from the created_at index): the
    index walk then stops at the range's ends instead of going on to the oldest match. Ids
    mostly follow creation, but not always (imports): the bounds are the range's true
    extremes, so nothing in it is missed. (None, None) when there is no date or the range
    is too wide to be worth reading; an empty range gives (1, 0), which matches nothing."""
    table_ = Ticket.__table__
    created = table_.c.created_at
    start, end = filters.created_from, filters.created_before
    if start is not None and end is not None:
        # Both dates: the range's own tickets, read once. Each edge alone would read every
        # ticket on its side, and "up to today" is all of them (ID_BOUNDS_SPAN index entries).
        span = (
            select(table_.c.id)
            .where(created >= start, created < end)
            .order_by(created.asc())
            .limit(ID_BOUNDS_SPAN)
            .subquery()
        )
        count, lowest, highest = connection.execute(
            select(func.count(), func.min(span.c.id), func.max(span.c.id))
        ).one()
        if count == 0:
            return 1, 0
        return (lowest, highest) if count < ID_BOUNDS_SPAN else (None, None)
    low = high = None
    for edge, bound in ((start, "low"), (end, "high")):
        if edge is None:
            continue
        inside = created >= edge if bound == "low" else created < edge
        order = created.asc() if bound == "low" else created.desc()
        span = select(table_.c.id).where(inside).order_by(order).limit(ID_BOUNDS_SPAN).subquery()
        count, lowest, highest = connection.execute(
            select(func.count(), func.min(span.c.id), func.max(span.c.id))
        ).one()
        if count == 0:
            return 1, 0
        if count < ID_BOUNDS_SPAN:
            if bound == "low":
                low = lowest
            else:
                high = highest
    return low, high


def _few_passing(connection: Connection, conditions: list) -> list[int] | None:
    """The ids, newest first, of the tickets that the rights and filters let through when
    they are few (fewer than SELECTIVE); None when there are more, or no conditions. A
    common word under a narrow filter would otherwise walk all its matches for the few
    that pass (neither FTS5 nor a GIN index knows the filters)."""
    if not conditions:
        return None
    table_ = Ticket.__table__
    # No ORDER BY: it would make the planner walk the primary key backwards past every
    # ticket that does not pass, rather than use the filters' indexes.
    ids = connection.scalars(select(table_.c.id).where(*conditions).limit(SELECTIVE)).all()
    return sorted(ids, reverse=True) if len(ids) < SELECTIVE else None


def _holds_many(connection: Connection, department_id: int | None) -> bool:
    """Whether the department holds at least SELECTIVE tickets: read from the index on
    (department_id, status) alone, where `_few_passing` reads the rights' rows from the table."""
    table_ = Ticket.__table__
    held = select(table_.c.department_id).where(table_.c.department_id == department_id).limit(SELECTIVE)
    return connection.scalar(select(func.count()).select_from(held.subquery())) >= SELECTIVE


def _event_texts(ticket_ids: list[int]) -> dict[int, list[str]]:
    texts: dict[int, list[str]] = {}
    if not ticket_ids:
        return texts
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.data)
        .where(TicketEvent.kind.in_(list(WORDED_EVENTS)), TicketEvent.ticket_id.in_(ticket_ids))
        .order_by(TicketEvent.id)
    )
    for ticket_id, kind, data in rows:
        words = (data or {}).get(WORDED_EVENTS[kind])
        if isinstance(words, str):
            texts.setdefault(ticket_id, []).append(words)
    return texts


def _snippet(ticket: Ticket, event_texts: list[str], query: Query) -> Markup | None:
    """From the first text that shows a term: the description, the resolution, the events, the
    address; else the description's start."""
    for value in (ticket.description, ticket.resolution, *event_texts, ticket.address):
        marked = search_index.snippet(value or "", query)
        if marked is not None:
            return marked
    start = ticket.description[:90]
    return Markup.escape(start + ("…" if len(ticket.description) > 90 else ""))


def day_range(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds of local days `start` to `end`, both inclusive (either may be open)."""
    zone = timezone()
    low = day_bounds(start, start, zone)[0] if start else None
    high = day_bounds(end, end, zone)[1] if end else None
    return low, high


def filters_from(
    statuses: Sequence[str] = (),
    category: str | None = None,
    department: str | None = None,
    district: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
) -> Filters:
    """Filters from the codes and ISO dates (YYYY-MM-DD, local days, both inclusive) that the
    page and the API take; InvalidInput naming the parameter at fault."""
    wanted = [s.strip() for value in statuses for s in value.split(",") if s.strip()]
    for status in wanted:
        if status not in Status.ALL:
            raise InvalidInput(
                _("Unknown status “%(status)s”; one of: %(all)s.", status=status, all=", ".join(Status.ALL)),
                field="status",
            )
    found_category = by_code(Category, (category or "").strip(), "category")
    found_department = by_code(Department, (department or "").strip(), "department")
    found_district = by_code(District, (district or "").strip(), "district")
    low, high = day_range(_day(created_from, "from"), _day(created_to, "to"))
    return Filters(
        statuses=wanted,
        category_id=found_category.id if found_category else None,
        department_id=found_department.id if found_department else None,
        district_id=found_district.id if found_district else None,
        created_from=low,
        created_before=high,
    )


def _day(value: str | None, name: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
        # Days near date.min/max have no UTC bounds (OverflowError, a 500): refuse them as typos.
        if not 1900 <= day.year <= 2200:
            raise ValueError(value)
        return day
    except ValueError:
        raise InvalidInput(_("“%(field)s” must be a date like 2026-11-25.", field=name), field=name) from None
