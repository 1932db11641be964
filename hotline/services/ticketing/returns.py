"""Returns (退单): a department hands back a ticket that is not theirs.

Within the return window (default 2 working days from dispatch, per SLA policy)
the ticket goes straight back to the dispatcher's desk; after it, the return is
a request that a supervisor approves or refuses. Each return is counted against
the routing that caused it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import ReturnReason, ReturnRequest, Role, Ticket, User
from hotline.models.types import utcnow
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import work_calendar
from hotline.services.dispatch import routing
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.ticketing import assists, derived, lifecycle, notices
from hotline.services.ticketing.transition import decide_request

DEFAULT_REASON = "other"


def reasons() -> list[ReturnReason]:
    return list(db.session.scalars(select(ReturnReason).where(ReturnReason.active.is_(True)).order_by(ReturnReason.id)))


def window_closes_at(ticket: Ticket) -> datetime | None:
    if ticket.dispatched_at is None:
        return None
    days = (ticket.sla_terms or sla.DEFAULT_TERMS["normal"].as_dict())["return_window_days"]
    return work_calendar().add_working_days(ticket.dispatched_at, days)


def return_to_dispatch(
    actor: User, ticket: Ticket, reason: str, expected_version: int | None = None, reason_code: str | None = None
) -> Ticket:
    """退单 with a reason from the list and a text. After the window it becomes a request
    for a supervisor (the ticket stays with the department meanwhile)."""
    lifecycle.require(actor, ticket, "return")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(_("Say why the ticket is returned."), field="reason")
    code = _reason_code(reason_code)
    lifecycle.check(ticket, "return", expected_version)
    now = utcnow()
    closes = window_closes_at(ticket)
    if closes is not None and now > closes:
        if pending_request(ticket) is not None:
            raise Conflict(_("A return of this ticket is already waiting for a supervisor."))
        db.session.add(
            ReturnRequest(
                ticket_id=ticket.id,
                department_id=ticket.department_id,
                requested_by=actor,
                reason_code=code,
                reason=text[:2000],
                created_at=now,
            )
        )
        notices.notify(
            "return_requested",
            _("Ticket %(number)s: a return after the window waits for approval.", number=ticket.number),
            now,
            ticket=ticket,
            role=Role.SUPERVISOR,
        )
        data = {"reason_code": code, "reason": text}
        lifecycle.apply(actor, ticket, "request_return", expected_version=expected_version, data=data, at=now)
        return ticket
    _hand_back(ticket, actor, code, text, now, expected_version)
    return ticket


def approve_return(actor: User, ticket: Ticket, note: str = "", expected_version: int | None = None) -> Ticket:
    lifecycle.require(actor, ticket, "approve_return")
    request = _pending_or_conflict(ticket)
    lifecycle.check(ticket, "approve_return", expected_version)
    now = utcnow()
    decide_request(request, actor, ReturnRequest.APPROVED, note, now)
    _hand_back(ticket, actor, request.reason_code, request.reason, now, expected_version, approved=True)
    return ticket


def refuse_return(actor: User, ticket: Ticket, note: str, expected_version: int | None = None) -> Ticket:
    lifecycle.require(actor, ticket, "refuse_return")
    text = (note or "").strip()
    if not text:
        raise InvalidInput(_("Say why the return is refused."), field="reason")
    request = _pending_or_conflict(ticket)
    lifecycle.check(ticket, "refuse_return", expected_version)
    now = utcnow()
    decide_request(request, actor, ReturnRequest.REFUSED, text, now)
    notices.notify(
        "return_refused",
        _("Ticket %(number)s: return refused: %(reason)s", number=ticket.number, reason=text),
        now,
        ticket=ticket,
        department_id=ticket.department_id,
    )
    lifecycle.apply(actor, ticket, "refuse_return", expected_version=expected_version, data={"reason": text}, at=now)
    return ticket


def pending_request(ticket: Ticket) -> ReturnRequest | None:
    return db.session.scalar(
        select(ReturnRequest).where(ReturnRequest.ticket_id == ticket.id, ReturnRequest.status == ReturnRequest.PENDING)
    )


def _hand_back(
    ticket: Ticket,
    actor: User,
    code: str,
    text: str,
    now: datetime,
    expected_version: int | None,
    approved: bool = False,
) -> None:
    """The ticket goes back to the desk (the action stops its clocks); `actor` is the department's
    staff returning it, or the supervisor who approves their late return."""
    department = ticket.department
    routing.record_outcome(ticket, "returned", now)
    data = {"reason": text, "reason_code": code, "department": department.code if department else None}
    if approved:
        data["approved_by"] = actor.username
    changes = derived.Changes()
    # Taken while the department still holds it (its right to return it is checked on that).
    name = "approve_return" if approved else "return"
    lifecycle.apply(actor, ticket, name, expected_version=expected_version, data=data, at=now, changes=changes)
    ticket.department = None
    ticket.dispatched_at = ticket.accepted_at = None
    ticket.routed_by = ticket.routing_rule_id = None
    assists.replace(ticket, [])
    lifecycle.commit(ticket, changes)


def _reason_code(code: str | None) -> str:
    code = code or DEFAULT_REASON
    if (
        db.session.scalar(select(ReturnReason.id).where(ReturnReason.code == code, ReturnReason.active.is_(True)))
        is None
    ):
        raise InvalidInput(_("Unknown return reason “%(code)s”.", code=code), field="reason_code")
    return code


def _pending_or_conflict(ticket: Ticket) -> ReturnRequest:
    request = pending_request(ticket)
    if request is None:
        raise Conflict(_("Ticket %(number)s has no return waiting for approval.", number=ticket.number))
    return request
