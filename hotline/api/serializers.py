"""Tickets and their events as the API shows them: codes, not ids; UTC times; masked callers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hotline.models import (
    CalendarDay,
    Category,
    Department,
    District,
    ExtensionRequest,
    Notice,
    SlaPolicy,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services import access, deadlines, sla
from hotline.services.phones import mask_phone


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset, to the second: "2026-11-25T06:00:00+00:00"."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def ticket_json(ticket: Ticket, viewer: User, *, events: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": ticket.number,
        "status": ticket.status,
        "type": ticket.type,
        "category": ticket.category.code,
        "district": ticket.district.code if ticket.district else None,
        "address": ticket.address,
        "description": ticket.description,
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "confidential": ticket.confidential,
        # Department staff see 138****8000, as on the pages.
        "caller_phone": mask_phone(ticket.caller_phone) if access.masks_caller(viewer) else ticket.caller_phone,
        "caller_name": ticket.caller_name,
        "department": ticket.department.code if ticket.department else None,
        "resolution": ticket.resolution,
        "created_at": iso(ticket.created_at),
        "dispatched_at": iso(ticket.dispatched_at),
        "accepted_at": iso(ticket.accepted_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "accept_due_at": iso(ticket.accept_due_at),
        "resolve_due_at": iso(ticket.resolve_due_at),
        "sla_level": ticket.sla_level or None,  # null (on time), "amber" or "red"
        "paused_at": iso(ticket.paused_at),
        "extended_days": ticket.extended_days,
        "urge_count": ticket.urge_count,
        "sla": sla_json(ticket),
        # Only a ticket with a department can have a request waiting: skip the query otherwise.
        "extension": extension_json(deadlines.pending_extension(ticket))
        if ticket.status in Status.WITH_DEPARTMENT
        else None,
        "version": ticket.version,
    }
    if events:
        data["events"] = [event_json(event) for event in ticket.events]
    return data


def sla_json(ticket: Ticket) -> dict[str, Any] | None:
    """The terms the ticket copied at dispatch and how much of its resolve time is used; null before dispatch."""
    terms = ticket.sla_terms
    if not terms:
        return None
    return {
        "policy": terms.get("source", "default"),
        "accept": {"amount": terms["accept_amount"], "unit": terms["accept_unit"]},
        "resolve": {"amount": terms["resolve_amount"], "unit": terms["resolve_unit"]},
        "time_used": sla.time_used(ticket, utcnow()),
    }


def extension_json(request: ExtensionRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "days": request.days,
        "reason": request.reason,
        "requested_by": request.requested_by.username,
        "created_at": iso(request.created_at),
    }


def notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "body": notice.body,
        "ticket": notice.ticket.number if notice.ticket else None,
        "created_at": iso(notice.created_at),
        "show_from": iso(notice.show_from),
    }


def calendar_day_json(day: CalendarDay) -> dict[str, Any]:
    return {"date": day.day.isoformat(), "off": day.off, "name": day.name, "source": day.source}


def policy_json(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "category": policy.category.code if policy.category else None,
        "urgency": policy.urgency,
        "accept_amount": policy.accept_amount,
        "accept_unit": policy.accept_unit,
        "resolve_amount": policy.resolve_amount,
        "resolve_unit": policy.resolve_unit,
        "return_window_days": policy.return_window_days,
        "max_extension_days": policy.max_extension_days,
    }


def event_json(event: TicketEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": iso(event.at),
        "actor": event.actor.username if event.actor else None,  # null: the system (routing, jobs)
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": event.data or {},
    }


def department_json(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "parent": department.parent.code if department.parent else None,
    }


def district_json(district: District) -> dict[str, Any]:
    return {"code": district.code, "name": district.name}


def category_json(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "parent": category.parent.code if category.parent else None,
        "default_department": category.default_department.code if category.default_department else None,
    }
