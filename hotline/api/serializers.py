"""Tickets and their events as the API shows them: codes, not ids; UTC times; masked callers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hotline.models import Category, Department, District, Ticket, TicketEvent, User
from hotline.services import access
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
        "version": ticket.version,
    }
    if events:
        data["events"] = [event_json(event) for event in ticket.events]
    return data


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
