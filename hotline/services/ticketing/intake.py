"""Opening a ticket: the one way in, for every channel (`models.Channel`, the one list).

`open_ticket(actor, channel, fields, ...)` is the only code that creates a ticket and sets its
first state: the operator's form, `POST /api/v1/tickets` and Open311 call it through
`create_ticket` (which checks what a person typed), a voicemail through services/citizens/calls.py, a
hotspot's proactive case through services/hotspot_detection/hotspots.py. `open_history` is its batch form for
tickets of the past (an import, the demo city): each `draft`ed here, replayed by its caller to
where its history left it (`lifecycle.replay`), then written many at once. The lifecycle's
"create" and "answer_directly" actions (services/ticketing/lifecycle.py) describe the first state and the
events written here.

Operators wait on nothing else, so opening writes with plain INSERTs rather than through the
ORM's unit of work, which cost most of a request (benchmarks/intake.py --cpu --profile): the
ticket, its "created" event (and "direct_answer" for a call answered at once), the text that
tells the caller the number and the ticket's search document, then one commit. The ORM's
after-flush hooks that keep the search index and the report days in step see no Core INSERT,
so intake writes the document itself (`search_index.write`) and marks the report day of a
ticket that is not left new (`report_figures.mark_tickets_changed`); a new ticket's day is
marked by its routing. After the commit the ticket is handed to the workers with one
push to Redis (`queueing.enqueue_intake`): routing and sending happen there, in batches; when
Redis is down the ticket is kept all the same and the sweep hands it over later.

The answer is built from what was written: `IntakeResult.written` is the ticket as inserted,
not attached to the session (with its category and district as codes the caller gave), and
`IntakeResult.ticket` loads the stored one for callers that go on with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, Row, inspect

from hotline.extensions import db
from hotline.models import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Category,
    Channel,
    District,
    OutboundMessage,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_sms, outbox
from hotline.services.citizens.phones import normalise_phone
from hotline.services.city import geo
from hotline.services.city.directory import id_by_code
from hotline.services.errors import InvalidInput, InvalidInputs
from hotline.services.knowledge_base import knowledge
from hotline.services.platform import queueing, write_turns
from hotline.services.platform.row_inserts import insert_row, insert_rows
from hotline.services.reporting import report_figures
from hotline.services.search import search_index, ticket_search
from hotline.services.ticketing import derived, lifecycle
from hotline.services.ticketing.numbering import next_ticket_number

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 5000

# What whoever opens a ticket tells about it; the rest (its number, first state, channel, time
# and creator) is open_ticket's to set.
FIELDS = frozenset(
    (
        "type",
        "category_id",
        "district_id",
        "address",
        "description",
        "urgency",
        "confidential",
        "caller_phone",
        "caller_name",
        # geo (issue 18): the point, WGS84; open_ticket adds its grid cell (geo.point_values)
        "lat",
        "long",
    )
)
REQUIRED = frozenset({"type", "category_id", "description"})

_CREATE = lifecycle.ACTIONS["create"]  # new, "created"
_ANSWER = lifecycle.ACTIONS["answer_directly"]  # closed at once, "direct_answer"


@dataclass
class Intake:
    """What an operator (or a CTI system over the API) reports about a call."""

    caller_phone: str
    type: str
    category: str
    description: str
    caller_name: str = ""
    district: str | None = None
    address: str = ""
    urgency: str = "normal"
    channel: str = "phone"
    confidential: bool = False
    direct_answer: str | None = None  # set to close a consultation at once (直接办结)
    article_id: int | None = None  # the knowledge-base article the direct answer cites (its answer if none typed)
    # geo (issue 18): where it happened (WGS84), both or neither; fills the district when none is named
    lat: float | None = None
    long: float | None = None


@dataclass
class IntakeResult:
    written: Ticket  # the ticket as inserted, not attached to the session
    routing_queued: bool = False  # handed over to the workers (False: Redis down, or nothing to hand over)
    events: list[TicketEvent] = field(default_factory=list)  # as written, likewise
    messages: list[OutboundMessage] = field(default_factory=list)

    @property
    def ticket(self) -> Ticket:
        """The stored ticket, loaded (once per session) for callers that go on with it."""
        ticket = db.session.get(Ticket, self.written.id)
        assert ticket is not None  # written by open_ticket
        return ticket


def create_ticket(actor: User, intake: Intake) -> IntakeResult:
    """Log a call (the operator's form, the API, Open311): check what was typed, then
    `open_ticket`. Raises InvalidInput (with the field) for bad input."""
    access.require_role(actor, *access.INTAKE_ROLES)
    citation = knowledge.citation_for(intake.article_id, intake.type)
    if citation is not None and not (intake.direct_answer or "").strip():
        intake = replace(intake, direct_answer=citation.version.answer)
    result = open_ticket(
        actor, intake.channel, _validated_intake(intake), answer=intake.direct_answer, citation=citation
    )
    # The answer names the category and district by the codes the caller gave.
    ticket = result.written
    ticket.category = Category(id=ticket.category_id, code=intake.category)
    ticket.district = District(id=ticket.district_id, code=intake.district) if ticket.district_id else None
    if ticket.district_id and not intake.district:  # geo: the district the point lies in
        ticket.district = db.session.get(District, ticket.district_id)
    return result


def open_ticket(
    actor: User | None,
    channel: str,
    fields: dict[str, Any],
    *,
    at: datetime | None = None,
    answer: str | None = None,
    citation: knowledge.Citation | None = None,
    to_desk: bool = False,
    event_data: dict[str, Any] | None = None,
    commit: bool = True,
) -> IntakeResult:
    """Open a ticket on `channel`, whoever opens it (`actor`; None: the system). Writes, in one
    transaction, the ticket with its number and first state (new; closed at once when `answer`
    answers the call, 直接办结, citing `citation`'s article; pending dispatch with `to_desk`, a
    voicemail nobody has heard yet), its "created" event (with `event_data`), the text that
    tells the caller its number (when one is due), its search document and, unless it is left
    new for routing, its report day.

    `commit` (the default): commit in the database's write turn, then hand the ticket to the
    workers. Otherwise the caller adds its own rows to the transaction, commits (or rolls
    back) and calls `hand_over`. Rights are the caller's to check. Raises InvalidInput for a
    channel not in the list, ValueError for fields that are not an opener's to give."""
    values = _opening_values(channel, fields)
    now = at or utcnow()
    answer = (answer or "").strip()
    if answer and to_desk:
        raise ValueError("a ticket answered at once does not go to the dispatcher's desk")
    first = Status.PENDING_DISPATCH if to_desk else _CREATE.to_state
    values |= {"status": first, "created_at": now, "created_by_id": actor.id if actor else None}
    if answer:  # answered on the phone: closed at once
        values |= {"status": _ANSWER.to_state, "resolution": answer, "resolved_at": now, "closed_at": now}
    # What can be worked out before the first write is: SQLite lets one writer at a time, and a
    # writer waiting for the lock sleeps in steps of milliseconds, so the writes come last and
    # close together. A new ticket's words are its fields (its events at intake add none: a
    # direct answer's answer is its resolution), as `ticket_search.documents_for` would read them.
    document = search_index.prepare(values["description"], values["address"], values.get("resolution"))
    caller = citizen_sms.caller_settings(values["caller_phone"]) if values["caller_phone"] else None

    # SQLite: openings queue for the file's lock (see write_turns), up to their commit.
    with write_turns.write_turn() if commit else nullcontext():
        connection = db.session.connection()
        values["number"] = next_ticket_number(now, current_app.config["HOTLINE_TIMEZONE"])
        ticket = insert_row(connection, Ticket, values)
        created = {"channel": ticket.channel, **(event_data or {})}
        events = [_event(connection, ticket, actor, _CREATE.event_kind, None, first, created)]
        if answer:
            data: dict[str, Any] = {"answer": answer}
            if citation is not None:  # the article, counted in the same transaction
                assert actor is not None  # a person answers from the knowledge base
                data["article"] = citation.event_data()
                knowledge.record_use(citation, ticket.id, actor, now)
            events.append(_event(connection, ticket, actor, _ANSWER.event_kind, first, ticket.status, data))
        messages = _created_text(connection, ticket, caller) if ticket.caller_phone else []
        search_index.write(connection, ticket_search.TICKETS, {ticket.id: document})
        if ticket.status != Status.NEW:
            # A new ticket's day is marked for the reports by its routing, in the routing's own
            # transaction, seconds from now. Marking it here too made every intake wait for the
            # day's row while a worker's routing transaction held it (PostgreSQL: intake fell
            # from 317 to 121 tickets/s with a worker routing beside it, benchmarks/intake.py).
            report_figures.mark_tickets_changed([ticket])
        if commit:
            _commit_keeping_loaded()
    result = IntakeResult(written=ticket, events=events, messages=messages)
    if commit:
        hand_over(result)
    return result


def hand_over(result: IntakeResult) -> bool:
    """After the commit: give the workers what is left to do (route a new ticket, send its
    text), with one push to Redis. A call answered at once has nothing left to route and no
    text to send; nor has a case its opener dispatched at once."""
    ticket = result.written
    due = ticket.status == Status.NEW or bool(result.messages)
    result.routing_queued = due and queueing.enqueue_intake(ticket.id)
    return result.routing_queued


def draft(actor: User | None, channel: str, fields: dict[str, Any], *, at: datetime, number: str) -> Ticket:
    """A ticket of the past, not written yet, in its first state (new): for a history being
    replayed (an import, the demo city), whose caller moves it on (`lifecycle.replay`) and sets
    what its history did (department, times, answer) before `open_history` writes it."""
    values = _opening_values(channel, fields)
    return Ticket(
        **values,
        number=number,
        status=_CREATE.to_state,
        created_at=at,
        created_by_id=actor.id if actor else None,
    )


def open_history(drafts: Sequence[tuple[Ticket, list[dict[str, Any]]]]) -> list[int]:
    """Write drafted tickets (`draft`), each with its events (dicts of TicketEvent's columns
    but the ticket's id), in the caller's transaction, many at once, with their search
    documents and report days; no text, no routing: the history is recorded, not replayed.
    Events are written in time order across the batch, as if written live. Returns the
    tickets' ids, in order (set on the drafts too, which stay out of the session)."""
    if not drafts:
        return []
    connection = db.session.connection()
    columns = inspect(Ticket).column_attrs
    rows = []
    for ticket, _events in drafts:
        state = inspect(ticket)
        if state.key is not None or state.session_id is not None:
            raise ValueError(f"ticket {ticket.number} is not a draft (it is in a session)")
        rows.append({c.key: state.dict[c.key] for c in columns if c.key in state.dict and c.key != "id"})
    ids = insert_rows(connection, Ticket, rows)
    events = []
    for (ticket, trail), ticket_id in zip(drafts, ids, strict=True):
        ticket.id = ticket_id
        events += [{**event, "ticket_id": ticket_id} for event in trail]
    events.sort(key=lambda row: row["at"])
    insert_rows(connection, TicketEvent, events)
    # Their documents (the words of their events too, and their scopes) and report days, in
    # slices as every other writer's: the demo city and an import write thousands at once.
    derived.tickets_changed(ticket for ticket, _events in drafts)
    return ids


def _opening_values(channel: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The ticket's columns from what its opener gives, on a channel of the list."""
    try:
        code = Channel(channel).value
    except ValueError:
        raise InvalidInput(_("Unknown channel “%(channel)s”.", channel=channel), field="channel") from None
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"not an opener's to give: {', '.join(sorted(unknown))}")
    missing = REQUIRED - set(fields)
    if missing:
        raise ValueError(f"a ticket needs {', '.join(sorted(missing))}")
    values = {"address": "", "caller_phone": "", **fields, "channel": code}
    if "lat" in fields or "long" in fields:  # geo: the point's grid cell, for tickets near a point
        values |= geo.point_values(fields.get("lat"), fields.get("long"))
    return values


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds (the actor, above all): intake wrote
    nothing through it, and reloading the actor to build the answer cost a query."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _validated_intake(intake: Intake) -> dict[str, Any]:
    """The ticket's columns from the intake. Every field is checked, so that the operator sees all
    that is wrong at once (InvalidInputs, which reads as the first error where one is shown)."""
    errors: list[InvalidInput] = []

    def checked(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except InvalidInput as error:
            errors.append(error)
            return None

    if intake.type not in TICKET_TYPES:
        errors.append(InvalidInput(_("Unknown ticket type “%(type)s”.", type=intake.type), field="type"))
    if intake.urgency not in URGENCIES:
        errors.append(InvalidInput(_("Urgency must be normal or urgent."), field="urgency"))
    if intake.channel not in CHANNELS:
        errors.append(InvalidInput(_("Unknown channel “%(channel)s”.", channel=intake.channel), field="channel"))
    description = (intake.description or "").strip()
    if not description:
        errors.append(InvalidInput(_("Describe what the caller reports."), field="description"))
    elif len(description) > DESCRIPTION_MAX:
        errors.append(
            InvalidInput(_("The description is longer than %(n)d characters.", n=DESCRIPTION_MAX), field="description")
        )
    if (intake.direct_answer or "").strip() and intake.type != "consultation":
        errors.append(
            InvalidInput(_("Only a consultation can be closed at once as a direct answer."), field="direct_answer")
        )
    point = checked(lambda: geo.checked_point(intake.lat, intake.long))
    district_id = checked(lambda: id_by_code(District, intake.district, "district"))
    if point is not None:  # geo: a point outside the city is refused; inside, it names the district
        located = checked(lambda: geo.locate(*point))
        district_id = district_id or located
    values = {
        "caller_phone": checked(lambda: normalise_phone(intake.caller_phone)),
        "caller_name": (intake.caller_name or "").strip()[:120],
        "type": intake.type,
        "category_id": checked(lambda: id_by_code(Category, intake.category, "category", required=True)),
        "district_id": district_id,
        "address": (intake.address or "").strip()[:300],
        "description": description,
        "urgency": intake.urgency,
        "confidential": bool(intake.confidential),
    }
    if point is not None:
        values["lat"], values["long"] = point
    if errors:
        raise InvalidInputs.of(errors)
    return values


def _event(
    connection: Connection,
    ticket: Ticket,
    actor: User | None,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    data: dict[str, Any],
) -> TicketEvent:
    values = {
        "ticket_id": ticket.id,
        "kind": kind,
        "actor_id": actor.id if actor else None,
        "from_status": from_status,
        "to_status": to_status,
        "data": data,
        "at": ticket.created_at,
    }
    event = insert_row(connection, TicketEvent, values)
    event.actor = actor
    return event


def _created_text(connection: Connection, ticket: Ticket, caller: Row | None) -> list[OutboundMessage]:
    """The text with the ticket's number, if one is due (see `citizen_sms.created_text`). A
    text that cannot be made (a template broken, say) is logged and the ticket kept without it."""
    try:
        body = citizen_sms.created_text(ticket, caller)
    except Exception:  # noqa: BLE001 (intake must not fail for a text)
        log.exception("could not make the text for ticket %s", ticket.number)
        return []
    if body is None:
        return []
    key = citizen_sms.created_key(ticket.number)
    return [
        outbox.write_for_new_ticket(
            connection, "created", ticket.caller_phone, body, ticket_id=ticket.id, dedupe_key=key
        )
    ]
