"""The ticket lifecycle: intake, dispatch, accept (签收), notes, resolve (办结), return (退单).

Every transition is one function here. Each checks the actor's right, the
ticket's current state and the version the actor saw, writes a `TicketEvent`
and commits; two people acting at once: one wins, the other gets a Conflict.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

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
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_sms
from hotline.services.city import duty
from hotline.services.city.directory import by_code
from hotline.services.clocks import sla
from hotline.services.dispatch import ping_pong, routing
from hotline.services.errors import InvalidInput
from hotline.services.ticketing import assists, derived, lifecycle, returns, tree

# Intake is the lifecycle's entry; it has a module of its own (it writes without the ORM).
from hotline.services.ticketing.intake import DESCRIPTION_MAX, Intake, IntakeResult, create_ticket  # noqa: F401


def answer_with(actor: User, intake: Intake, article_id: int) -> IntakeResult:
    """Log the call as a direct answer citing a knowledge article: its current answer, unless
    the operator's own wording is in `intake.direct_answer`. (Here, not in `knowledge`: opening
    a ticket is the lifecycle's, and the lifecycle cites articles through `knowledge`.)"""
    return create_ticket(actor, replace(intake, article_id=article_id))


def route(ticket_id: int, rules: list[routing.Rule] | None = None) -> Ticket | None:
    """Route a new ticket (see `routing`: rules, category default, suggestion, else the
    dispatcher's desk), writing exactly one `routed` event. Idempotent: a ticket that is
    no longer new is left alone, so a job delivered twice routes once. A batch passes
    the rules it loaded once."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.status != Status.NEW:
        return ticket
    changes = derived.Changes()
    _route_new(ticket, routing.active_rules() if rules is None else rules, changes)
    try:
        changes.keep_in_step()
        db.session.commit()
    except StaleDataError:
        # Someone (a dispatcher, another delivery of this job) moved it first.
        db.session.rollback()
    duty.kick_after_commit()  # duty rota (值班, issue 17 item 4): an urgent ticket out of hours
    return ticket


def _route_new(
    ticket: Ticket, rules: list[routing.Rule], changes: derived.Changes, policies: sla.Policies | None = None
) -> None:
    """Decide and apply the routing of one new ticket, without committing (the caller brings
    `changes` in step and commits)."""
    now = utcnow()
    with db.session.no_autoflush:
        decision = routing.decide(routing.Case.of_ticket(ticket), ticket.category, rules)
        name = "route_to_desk"
        if decision.department is not None:
            name = "route"
            # A new ticket was never dispatched, so it has no assisting departments to clear.
            _hand_to(ticket, decision.department, now, decision.assisting, had_assists=False)
            ticket.routed_by = decision.by
            ticket.routing_rule_id = decision.rule.id if decision.rule else None
    lifecycle.apply(None, ticket, name, data=decision.event_data(), at=now, policies=policies, changes=changes)


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
    changes = derived.Changes()
    for ticket_id in ticket_ids:
        ticket = found.get(ticket_id)
        if ticket is not None and ticket.status == Status.NEW:
            _route_new(ticket, rules, changes, policies)
        status = ticket.status if ticket else "missing"
        counts[status] = counts.get(status, 0) + 1
    changes.keep_in_step()
    db.session.commit()
    duty.kick_after_commit()  # duty rota (值班, issue 17 item 4): urgent tickets out of hours
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
    # A ticket a department holds is reassigned (改派); any other is dispatched.
    name = "reassign" if ticket.status in lifecycle.ACTIONS["reassign"].from_states else "dispatch"
    lifecycle.require(actor, ticket, name)
    lifecycle.check(ticket, name, expected_version)
    department = _department(department_code, "department")
    helpers = [_department(code, "assisting") for code in dict.fromkeys(assisting or [])]
    if department in helpers:
        raise InvalidInput(_("The lead department cannot also assist."), field="assisting")
    previous = ticket.department
    now = utcnow()
    if previous is not None and previous == department:
        raise InvalidInput(_("The ticket is already with %(name)s.", name=department.name), field="department")
    because = ping_pong.dispatch_data(ticket, department, reason)
    if previous is not None:
        routing.record_outcome(ticket, "reassigned", now)
    with db.session.no_autoflush:
        _hand_to(ticket, department, now, helpers)
    ticket.routed_by, ticket.routing_rule_id = "dispatcher", None
    data = {"department": department.code, "assisting": [d.code for d in helpers], **because}
    if previous is not None:
        data["from_department"] = previous.code
    lifecycle.apply(actor, ticket, name, expected_version=expected_version, data=data, at=now)
    return ticket


def accept(actor: User, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """签收: the department takes the ticket on (and the first of it to accept handles it: `tree`)."""
    lifecycle.require(actor, ticket, "accept")
    tree.take_on_accept(actor, ticket)  # units in a tree (issue 17)
    lifecycle.apply(actor, ticket, "accept", expected_version=expected_version)
    return ticket


def resolve(actor: User, ticket: Ticket, resolution: str, expected_version: int | None = None) -> Ticket:
    """办结: the department replies; the reply is what the citizen is told."""
    lifecycle.require(actor, ticket, "resolve")
    text = (resolution or "").strip()
    if not text:
        raise InvalidInput(_("Write the reply to the citizen."), field="resolution")
    if tree.resolve(actor, ticket, text, expected_version):  # units in a tree (issue 17): up for review
        return ticket
    lifecycle.check(ticket, "resolve", expected_version)
    ticket.resolution = text
    ticket.resolved_at = utcnow()
    lifecycle.apply(
        actor, ticket, "resolve", expected_version=expected_version, data={"resolution": text}, at=ticket.resolved_at
    )
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
    lifecycle.require(actor, ticket, "notes")
    body = (text or "").strip()
    if not body:
        raise InvalidInput(_("The note is empty."), field="text")
    lifecycle.apply(actor, ticket, "notes", expected_version=expected_version, data={"text": body[:DESCRIPTION_MAX]})
    return ticket


def earlier_tickets(actor: User, phone: str, limit: int = 10) -> list[Ticket]:
    """The caller's most recent tickets that the actor may see, for the operator who has them on
    the line. A withheld number (stored empty) is nobody in particular: no history."""
    if not phone:
        return []
    query = access.visible_tickets(actor).where(Ticket.caller_phone == phone)
    return list(db.session.scalars(query.order_by(Ticket.created_at.desc()).limit(limit)))


def _hand_to(
    ticket: Ticket,
    department: Department,
    now: datetime,
    assisting: list[Department] | None = None,
    had_assists: bool = True,
) -> None:
    """Hand the ticket to a department (and its helpers); the action that does (route, dispatch or
    reassign) starts the clocks. Callers hold `no_autoflush`, so that a transition is one UPDATE
    and one version."""
    ticket.department = department
    ticket.dispatched_at = now
    ticket.accepted_at = None
    if had_assists or assisting:
        assists.replace(ticket, assisting or [], clear=had_assists)


def _department(code: str | None, field: str) -> Department:
    department = by_code(Department, code, field)
    if department is None:  # no code at all: "unknown" reads better here than "required"
        raise InvalidInput(_("Unknown department “%(code)s”.", code=""), field=field)
    return department
