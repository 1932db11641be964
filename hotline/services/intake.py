"""Logging a call (intake): the ticket and what goes with it, in one short transaction.

Operators wait on nothing else, so intake writes with plain INSERTs rather than through the
ORM's unit of work, which cost most of a request (benchmarks/intake.py --cpu --profile): the
ticket, its "created" event (and "direct_answer" for a call answered at once), the text that
tells the caller the number and the ticket's search document, then one commit. The ORM's
after-flush hooks that keep the search index and the report days in step see no Core INSERT,
so intake writes the document itself (`search_index.write`) and marks the report day of a call
answered at once (`report_figures.mark_tickets_changed`); a new ticket's day is marked by its
routing. After the commit the ticket is handed to the workers with one
push to Redis (`queueing.enqueue_intake`): routing and sending happen there, in batches; when
Redis is down the ticket is kept all the same and the sweep hands it over later.

The answer is built from what was written: `IntakeResult.written` is the ticket as inserted,
not attached to the session (with its category and district as codes the caller gave), and
`IntakeResult.ticket` loads the stored one for callers that go on with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Connection, Row

from hotline.extensions import db
from hotline.models import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Category,
    District,
    OutboundMessage,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services import (
    access,
    citizen_sms,
    knowledge,
    outbox,
    queueing,
    report_figures,
    search_index,
    ticket_search,
    write_turns,
)
from hotline.services.directory import id_by_code
from hotline.services.errors import InvalidInput, InvalidInputs
from hotline.services.numbering import next_ticket_number
from hotline.services.phones import normalise_phone
from hotline.services.row_inserts import insert_row

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 5000


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


@dataclass
class IntakeResult:
    written: Ticket  # the ticket as inserted, not attached to the session
    routing_queued: bool  # handed over to the workers (False: Redis down; the sweep does it later)
    events: list[TicketEvent] = field(default_factory=list)  # as written, likewise
    messages: list[OutboundMessage] = field(default_factory=list)

    @property
    def ticket(self) -> Ticket:
        """The stored ticket, loaded (once per session) for callers that go on with it."""
        ticket = db.session.get(Ticket, self.written.id)
        assert ticket is not None  # committed by create_ticket
        return ticket


def create_ticket(actor: User, intake: Intake) -> IntakeResult:
    """Log a call: validate, write the ticket and what goes with it in one transaction, commit,
    then hand it to the workers. Raises InvalidInput (with the field) for bad input."""
    access.require_role(actor, *access.INTAKE_ROLES)
    citation = knowledge.citation_for(intake.article_id, intake.type)
    if citation is not None and not (intake.direct_answer or "").strip():
        intake = replace(intake, direct_answer=citation.version.answer)
    values = _validated_intake(intake)
    now = utcnow()
    values |= {"status": Status.NEW, "created_at": now, "created_by_id": actor.id}
    answer = (intake.direct_answer or "").strip()
    if answer:  # answered on the phone: closed at once
        values |= {"status": Status.CLOSED, "resolution": answer, "resolved_at": now, "closed_at": now}
    # What can be worked out before the first write is: SQLite lets one writer at a time, and a
    # writer waiting for the lock sleeps in steps of milliseconds, so the writes come last and
    # close together. A new ticket's words are its fields (its events at intake add none: a
    # direct answer's answer is its resolution), as `ticket_search.documents_for` would read them.
    document = search_index.prepare(values["description"], values["address"], values.get("resolution"))
    caller = citizen_sms.caller_settings(values["caller_phone"])

    with write_turns.write_turn():  # SQLite: intakes queue for the file's lock (see write_turns)
        connection = db.session.connection()
        values["number"] = next_ticket_number(now, current_app.config["HOTLINE_TIMEZONE"])
        ticket = insert_row(connection, Ticket, values)
        ticket.category = Category(id=ticket.category_id, code=intake.category)
        ticket.district = District(id=ticket.district_id, code=intake.district) if ticket.district_id else None
        events = [_event(connection, ticket, actor, "created", None, Status.NEW, {"channel": ticket.channel})]
        if answer:
            data: dict[str, Any] = {"answer": answer}
            if citation is not None:  # the article, counted in the same transaction
                data["article"] = citation.event_data()
                knowledge.record_use(citation, ticket.id, actor, now)
            events.append(_event(connection, ticket, actor, "direct_answer", Status.NEW, Status.CLOSED, data))
        messages = _created_text(connection, ticket, caller)
        search_index.write(connection, ticket_search.TICKETS, {ticket.id: document})
        if ticket.status != Status.NEW:
            # A new ticket's day is marked for the reports by its routing, in the routing's own
            # transaction, seconds from now. Marking it here too made every intake wait for the
            # day's row while a worker's routing transaction held it (PostgreSQL: intake fell
            # from 317 to 121 tickets/s with a worker routing beside it, benchmarks/intake.py).
            report_figures.mark_tickets_changed([ticket])
        _commit_keeping_loaded()
    # A call answered at once has nothing left to route and no text to send.
    handed_over = ticket.status == Status.NEW and queueing.enqueue_intake(ticket.id)
    return IntakeResult(written=ticket, routing_queued=handed_over, events=events, messages=messages)


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
    values = {
        "caller_phone": checked(lambda: normalise_phone(intake.caller_phone)),
        "caller_name": (intake.caller_name or "").strip()[:120],
        "type": intake.type,
        "category_id": checked(lambda: id_by_code(Category, intake.category, "category", required=True)),
        "district_id": checked(lambda: id_by_code(District, intake.district, "district")),
        "address": (intake.address or "").strip()[:300],
        "description": description,
        "urgency": intake.urgency,
        "channel": intake.channel,
        "confidential": bool(intake.confidential),
    }
    if errors:
        raise InvalidInputs.of(errors)
    return values


def _event(
    connection: Connection,
    ticket: Ticket,
    actor: User,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    data: dict[str, Any],
) -> TicketEvent:
    values = {
        "ticket_id": ticket.id,
        "kind": kind,
        "actor_id": actor.id,
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
