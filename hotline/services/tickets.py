"""The ticket lifecycle: intake, dispatch, accept (签收), notes, resolve (办结), return (退单).

Every transition is one function here. Each checks the actor's right, the
ticket's current state and the version the actor saw, writes a `TicketEvent`
and commits; two people acting at once: one wins, the other gets a Conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.extensions import db
from hotline.models import (
    CHANNELS,
    TICKET_TYPES,
    URGENCIES,
    Category,
    Department,
    District,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services import access, queueing, sla
from hotline.services.errors import InvalidInput, PermissionDenied
from hotline.services.numbering import next_ticket_number
from hotline.services.phones import normalise_phone
from hotline.services.transition import check_state, commit_transition, record_event

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


@dataclass
class IntakeResult:
    ticket: Ticket
    routing_queued: bool


def create_ticket(actor: User, intake: Intake) -> IntakeResult:
    """Log a call. The ticket is committed before routing is enqueued, so that it
    is kept even when Redis is down; the sweeper enqueues it later."""
    access.require_role(actor, *access.INTAKE_ROLES)
    fields = _validated_intake(intake)
    now = utcnow()
    ticket = Ticket(
        number=next_ticket_number(now, current_app.config["HOTLINE_TIMEZONE"]),
        status=Status.NEW,
        created_at=now,
        created_by=actor,
        **fields,
    )
    db.session.add(ticket)
    record_event(ticket, actor, "created", None, Status.NEW, {"channel": ticket.channel}, at=now)
    answer = (intake.direct_answer or "").strip()
    if answer:
        ticket.status = Status.CLOSED
        ticket.resolution = answer
        ticket.resolved_at = ticket.closed_at = now
        record_event(ticket, actor, "direct_answer", Status.NEW, Status.CLOSED, {"answer": answer}, at=now)
    db.session.commit()
    queued = False
    if ticket.status == Status.NEW:
        queued = queueing.enqueue_routing(ticket.id)
    return IntakeResult(ticket=ticket, routing_queued=queued)


def _validated_intake(intake: Intake) -> dict[str, Any]:
    if intake.type not in TICKET_TYPES:
        raise InvalidInput(_("Unknown ticket type “%(type)s”.", type=intake.type), field="type")
    if intake.urgency not in URGENCIES:
        raise InvalidInput(_("Urgency must be normal or urgent."), field="urgency")
    if intake.channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel “%(channel)s”.", channel=intake.channel), field="channel")
    description = (intake.description or "").strip()
    if not description:
        raise InvalidInput(_("Describe what the caller reports."), field="description")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            _("The description is longer than %(n)d characters.", n=DESCRIPTION_MAX),
            field="description",
        )
    if (intake.direct_answer or "").strip() and intake.type != "consultation":
        raise InvalidInput(_("Only a consultation can be closed at once as a direct answer."), field="direct_answer")
    category = db.session.scalar(select(Category).where(Category.code == intake.category))
    if category is None:
        raise InvalidInput(_("Unknown category “%(code)s”.", code=intake.category), field="category")
    district = None
    if intake.district:
        district = db.session.scalar(select(District).where(District.code == intake.district))
        if district is None:
            raise InvalidInput(_("Unknown district “%(code)s”.", code=intake.district), field="district")
    return {
        "caller_phone": normalise_phone(intake.caller_phone),
        "caller_name": (intake.caller_name or "").strip()[:120],
        "type": intake.type,
        "category": category,
        "district": district,
        "address": (intake.address or "").strip()[:300],
        "description": description,
        "urgency": intake.urgency,
        "channel": intake.channel,
        "confidential": bool(intake.confidential),
    }


def route(ticket_id: int) -> Ticket | None:
    """Route a new ticket to its category's default department (inherited down the
    tree), or to the dispatcher's desk when there is none. Idempotent: a ticket
    that is no longer new is left alone, so a job delivered twice routes once."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != Status.NEW:
        return ticket
    department = ticket.category.routing_department
    now = utcnow()
    if department is None:
        ticket.status = Status.PENDING_DISPATCH
        data = {"by": "category_default", "reason": "category has no default department"}
    else:
        clocks = _assign(ticket, department, now)
        data = {
            "by": "category_default",
            "department": department.code,
            "category": ticket.category.code,
            "sla": clocks,
        }
    record_event(ticket, None, "routed", Status.NEW, ticket.status, data, at=now)
    try:
        db.session.commit()
    except StaleDataError:
        # Someone (a dispatcher, another delivery of this job) moved it first.
        db.session.rollback()
    return ticket


def dispatch(actor: User, ticket: Ticket, department_code: str, expected_version: int | None = None) -> Ticket:
    """A dispatcher sends a ticket that routing could not place to a department."""
    access.require_role(actor, *access.DISPATCH_ROLES)
    check_state(ticket, expected_version, Status.NEW, Status.PENDING_DISPATCH)
    department = db.session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise InvalidInput(_("Unknown department “%(code)s”.", code=department_code), field="department")
    before = ticket.status
    clocks = _assign(ticket, department, utcnow())
    record_event(ticket, actor, "dispatched", before, Status.DISPATCHED, {"department": department.code, "sla": clocks})
    return commit_transition(ticket)


def accept(actor: User, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """签收: the department takes the ticket on."""
    access.require_own_department(actor, ticket)
    check_state(ticket, expected_version, Status.DISPATCHED)
    ticket.status = Status.IN_PROGRESS
    ticket.accepted_at = utcnow()
    ticket.sla_level = sla.level_at(ticket, ticket.accepted_at)  # the accept clock no longer counts
    record_event(ticket, actor, "accepted", Status.DISPATCHED, Status.IN_PROGRESS, {})
    return commit_transition(ticket)


def resolve(actor: User, ticket: Ticket, resolution: str, expected_version: int | None = None) -> Ticket:
    """办结: the department replies; the reply is what the citizen is told."""
    access.require_own_department(actor, ticket)
    text = (resolution or "").strip()
    if not text:
        raise InvalidInput(_("Write the reply to the citizen."), field="resolution")
    check_state(ticket, expected_version, Status.IN_PROGRESS, Status.WAITING)
    before = ticket.status
    ticket.status = Status.RESOLVED
    ticket.resolution = text
    ticket.resolved_at = utcnow()
    ticket.paused_at = None
    record_event(ticket, actor, "resolved", before, Status.RESOLVED, {"resolution": text})
    return commit_transition(ticket)


def return_to_dispatch(actor: User, ticket: Ticket, reason: str, expected_version: int | None = None) -> Ticket:
    """退单: a department hands back a ticket that is not theirs, with the reason."""
    access.require_own_department(actor, ticket)
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(_("Say why the ticket is returned."), field="reason")
    check_state(ticket, expected_version, *Status.WITH_DEPARTMENT)
    before = ticket.status
    department = ticket.department
    ticket.status = Status.PENDING_DISPATCH
    ticket.department = None
    ticket.dispatched_at = ticket.accepted_at = None
    sla.stop_clocks(ticket)
    record_event(
        ticket,
        actor,
        "returned",
        before,
        Status.PENDING_DISPATCH,
        {"reason": text, "department": department.code if department else None},
    )
    return commit_transition(ticket)


def add_note(actor: User, ticket: Ticket, text: str, expected_version: int | None = None) -> Ticket:
    """An internal note on the timeline, in any state. It does not change the ticket, so its
    version stays; an actor who names the version they saw still hears if the ticket moved on."""
    if not access.can_see(actor, ticket):
        raise PermissionDenied(_("You may not see this ticket."))
    body = (text or "").strip()
    if not body:
        raise InvalidInput(_("The note is empty."), field="text")
    check_state(ticket, expected_version, *Status.ALL)
    db.session.add(TicketEvent(ticket=ticket, kind="note", actor=actor, data={"text": body[:DESCRIPTION_MAX]}))
    db.session.commit()
    return ticket


def earlier_tickets(phone: str, limit: int = 10) -> list[Ticket]:
    """The caller's most recent tickets, for the operator who has them on the line."""
    return list(
        db.session.scalars(
            select(Ticket).where(Ticket.caller_phone == phone).order_by(Ticket.created_at.desc()).limit(limit)
        )
    )


def _assign(ticket: Ticket, department: Department, now: datetime) -> dict[str, Any]:
    """Hand the ticket to a department and start its SLA clocks; returns the clocks' explanation."""
    ticket.department = department
    ticket.status = Status.DISPATCHED
    ticket.dispatched_at = now
    ticket.accepted_at = None
    # The policy and calendar look-ups must not flush the half-changed ticket: one UPDATE, one version.
    with db.session.no_autoflush:
        return sla.start_clocks(ticket, now)
