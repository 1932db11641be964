"""The ticket lifecycle: intake, dispatch, accept (签收), notes, resolve (办结), return (退单).

Every transition is one function here. Each checks the actor's right, the
ticket's current state and the version the actor saw, writes a `TicketEvent`
and commits; two people acting at once: one wins, the other gets a Conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from rq.timeouts import BaseTimeoutException
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.extensions import db
from hotline.models import (
    Category,
    Department,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services import access, assists, citizen_sms, lifecycle, ping_pong, returns, routing, sla
from hotline.services.directory import by_code
from hotline.services.errors import InvalidInput, PermissionDenied

# Intake is the lifecycle's entry; it has a module of its own (it writes without the ORM).
from hotline.services.intake import DESCRIPTION_MAX, Intake, IntakeResult, create_ticket  # noqa: F401
from hotline.services.transition import commit_transition, record_event


def route(ticket_id: int, rules: list[routing.Rule] | None = None) -> Ticket | None:
    """Route a new ticket (see `routing`: rules, category default, suggestion, else the
    dispatcher's desk), writing exactly one `routed` event. Idempotent: a ticket that is
    no longer new is left alone, so a job delivered twice routes once. A batch passes
    the rules it loaded once."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != Status.NEW:
        return ticket
    _route_new(ticket, routing.active_rules() if rules is None else rules)
    try:
        db.session.commit()
    except StaleDataError:
        # Someone (a dispatcher, another delivery of this job) moved it first.
        db.session.rollback()
    return ticket


def _route_new(ticket: Ticket, rules: list[routing.Rule], policies: sla.Policies | None = None) -> None:
    """Decide and apply the routing of one new ticket, without committing."""
    now = utcnow()
    with db.session.no_autoflush:
        decision = routing.decide(routing.Case.of_ticket(ticket), ticket.category, rules)
        data = decision.event_data()
        if decision.department is None:
            lifecycle.move(ticket, "route_to_desk")
        else:
            # A new ticket was never dispatched, so it has no assisting departments to clear.
            data["sla"] = _assign(
                ticket, "route", decision.department, now, decision.assisting, policies=policies, had_assists=False
            )
            ticket.routed_by = decision.by
            ticket.routing_rule_id = decision.rule.id if decision.rule else None
    record_event(ticket, None, "routed", Status.NEW, ticket.status, data, at=now)


class BatchRoutingFailed(Exception):
    """Some tickets of a batch could not be routed (the others were): the job fails, so that
    RQ retries it and it shows among failed jobs; the sweep also re-enqueues them."""

    def __init__(self, failed: dict[int, str]) -> None:
        super().__init__(f"{len(failed)} tickets not routed: {failed}")
        self.failed = failed


def route_batch(ticket_ids: list[int]) -> dict[str, int]:
    """Route many tickets (a backlog after an outage); returns the count per resulting status.

    The fast way is one transaction for the batch, with the rules, the category tree, the
    departments and the SLA policies loaded once: no query per ticket, one commit (one disk
    sync on SQLite) per batch. If any ticket conflicts (a dispatcher, or another delivery of
    this batch, moved it first) or fails, that transaction is rolled back and the batch is
    routed again ticket by ticket, each with its own commit, as `route` does; tickets that
    still fail are reported by `BatchRoutingFailed` once the others are routed.
    """
    rules = routing.active_rules()
    try:
        return _route_together(ticket_ids, rules)
    except BaseTimeoutException:
        raise  # the job's time is up: that is not one ticket's failure
    except Exception as error:
        db.session.rollback()
        current_app.logger.info("batch of %d not routed at once (%r): one by one", len(ticket_ids), error)
    counts: dict[str, int] = {}
    failed: dict[int, str] = {}
    for ticket_id in ticket_ids:
        try:
            ticket = route(ticket_id, rules)
        except BaseTimeoutException:
            raise
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("ticket %s not routed", ticket_id)
            failed[ticket_id] = repr(error)
            continue
        status = ticket.status if ticket else "missing"
        counts[status] = counts.get(status, 0) + 1
    if failed:
        raise BatchRoutingFailed(failed)
    return counts


def _route_together(ticket_ids: list[int], rules: list[routing.Rule]) -> dict[str, int]:
    # Held here, so that the session's (weak) identity map keeps them: category lineages, default
    # departments and rule departments are then found there without a query (nothing is
    # committed until the end, so nothing expires meanwhile).
    reference = [*db.session.scalars(select(Category)), *db.session.scalars(select(Department))]
    policies = sla.load_policies()
    found = {ticket.id: ticket for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    counts: dict[str, int] = {}
    for ticket_id in ticket_ids:
        ticket = found.get(ticket_id)
        if ticket is not None and ticket.status == Status.NEW:
            _route_new(ticket, rules, policies)
        status = ticket.status if ticket else "missing"
        counts[status] = counts.get(status, 0) + 1
    db.session.commit()
    del reference
    return counts


def dispatch(
    actor: User,
    ticket: Ticket,
    department_code: str,
    expected_version: int | None = None,
    assisting: list[str] | None = None,
    reason: str | None = None,
) -> Ticket:
    """A dispatcher sends a ticket to a department (主办) with optional assisting ones (协办):
    one that routing could not place, or one already with a department (a reassignment,
    counted against the routing that sent it there). Back to a department that returned it
    needs a `reason` (see `ping_pong`)."""
    access.require_role(actor, *access.DISPATCH_ROLES)
    # A ticket a department holds is reassigned (改派); any other is dispatched.
    name = "reassign" if ticket.status in lifecycle.ACTIONS["reassign"].from_states else "dispatch"
    lifecycle.check(ticket, name, expected_version)
    department = _department(department_code, "department")
    helpers = [_department(code, "assisting") for code in dict.fromkeys(assisting or [])]
    if department in helpers:
        raise InvalidInput(_("The lead department cannot also assist."), field="assisting")
    before, previous = ticket.status, ticket.department
    now = utcnow()
    if previous is not None and previous == department:
        raise InvalidInput(_("The ticket is already with %(name)s.", name=department.name), field="department")
    because = ping_pong.dispatch_data(ticket, department, reason)
    if previous is not None:
        routing.record_outcome(ticket, "reassigned", now)
    with db.session.no_autoflush:
        clocks = _assign(ticket, name, department, now, helpers)
    ticket.routed_by, ticket.routing_rule_id = "dispatcher", None
    data = {"department": department.code, "assisting": [d.code for d in helpers], "sla": clocks, **because}
    if previous is not None:
        data["from_department"] = previous.code
    record_event(ticket, actor, lifecycle.ACTIONS[name].event_kind, before, ticket.status, data, at=now)
    return commit_transition(ticket)


def accept(actor: User, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """签收: the department takes the ticket on."""
    access.require_own_department(actor, ticket)
    lifecycle.check(ticket, "accept", expected_version)
    lifecycle.move(ticket, "accept")
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
    lifecycle.check(ticket, "resolve", expected_version)
    before = lifecycle.move(ticket, "resolve")
    ticket.resolution = text
    ticket.resolved_at = utcnow()
    ticket.paused_at = None
    record_event(ticket, actor, "resolved", before, Status.RESOLVED, {"resolution": text})
    commit_transition(ticket)
    citizen_sms.ticket_resolved(ticket)  # the reply and the survey question by text; never raises
    return ticket


def return_to_dispatch(
    actor: User, ticket: Ticket, reason: str, expected_version: int | None = None, reason_code: str | None = None
) -> Ticket:
    """退单: a department hands back a ticket that is not theirs (rules in `returns`)."""
    return returns.return_to_dispatch(actor, ticket, reason, expected_version, reason_code)


def add_note(actor: User, ticket: Ticket, text: str, expected_version: int | None = None) -> Ticket:
    """An internal note on the timeline, in any state. It does not change the ticket, so its
    version stays; an actor who names the version they saw still hears if the ticket moved on."""
    if not access.can_see(actor, ticket):
        raise PermissionDenied(_("You may not see this ticket."))
    body = (text or "").strip()
    if not body:
        raise InvalidInput(_("The note is empty."), field="text")
    lifecycle.check(ticket, "notes", expected_version)
    db.session.add(TicketEvent(ticket=ticket, kind="note", actor=actor, data={"text": body[:DESCRIPTION_MAX]}))
    db.session.commit()
    return ticket


def earlier_tickets(actor: User, phone: str, limit: int = 10) -> list[Ticket]:
    """The caller's most recent tickets that the actor may see, for the operator who has them on
    the line. A withheld number (stored empty) is nobody in particular: no history."""
    if not phone:
        return []
    query = access.visible_tickets(actor).where(Ticket.caller_phone == phone)
    return list(db.session.scalars(query.order_by(Ticket.created_at.desc()).limit(limit)))


def _assign(
    ticket: Ticket,
    action: str,
    department: Department,
    now: datetime,
    assisting: list[Department] | None = None,
    policies: sla.Policies | None = None,
    had_assists: bool = True,
) -> dict[str, Any]:
    """Hand the ticket to a department (and its helpers) by `action` and start its SLA clocks; returns the
    clocks' explanation. Callers hold `no_autoflush`: the policy and calendar look-ups must not
    flush the half-changed ticket, so that a transition is one UPDATE and one version."""
    ticket.department = department
    lifecycle.move(ticket, action)  # route, dispatch or reassign
    ticket.dispatched_at = now
    ticket.accepted_at = None
    if had_assists or assisting:
        assists.replace(ticket, assisting or [], clear=had_assists)
    return sla.start_clocks(ticket, now, policies)


def _department(code: str | None, field: str) -> Department:
    department = by_code(Department, code, field)
    if department is None:  # no code at all: "unknown" reads better here than "required"
        raise InvalidInput(_("Unknown department “%(code)s”.", code=""), field=field)
    return department
