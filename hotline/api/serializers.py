"""Tickets and their events as the API shows them: codes, not ids; UTC times; masked callers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for

from hotline import labels
from hotline.models import (
    Attachment,
    ExtensionRequest,
    OutboundMessage,
    ReturnRequest,
    Status,
    Ticket,
    TicketAssist,
    TicketContact,
    TicketEvent,
    User,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import citizen_contact, outbox
from hotline.services.citizens.phones import mask_phone
from hotline.services.clocks import sla
from hotline.services.ticketing import assists, attachments, deadlines, lifecycle, merging, returns, tree


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset, to the second: "2026-11-25T06:00:00+00:00"."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """An attachment as the ticket's JSON lists it; `url` streams it to whoever may see the ticket."""
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "created_at": iso(attachment.created_at),
        "url": url_for("api.get_attachment", number=attachment.ticket.number, attachment_id=attachment.id),
    }


def ticket_json(
    ticket: Ticket, viewer: User, *, events: bool = True, assisting: list[TicketAssist] | None = None
) -> dict[str, Any]:
    """The ticket as `viewer` may see it. `events=False` (the list) leaves out the events and
    the children, which cost a query each; a list passes the assisting departments it loaded
    for the whole page at once."""
    masked = access.masks_caller(viewer)
    with_department = ticket.status in Status.WITH_DEPARTMENT
    # Only a ticket with a department can have a request waiting: skip the queries otherwise.
    extension = deadlines.pending_extension(ticket) if with_department else None
    return_request = returns.pending_request(ticket) if with_department else None
    helpers = assists.of_ticket(ticket) if assisting is None else assisting
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
        "caller_phone": mask_phone(ticket.caller_phone) if masked else ticket.caller_phone,
        # A confidential caller's name is not for the departments at all, as on the pages.
        "caller_name": None if masked and ticket.confidential else ticket.caller_name,
        "department": ticket.department.code if ticket.department else None,
        "routed_by": ticket.routed_by,  # rule | category_default | suggestion | dispatcher, null before
        "routing_rule": ticket.routing_rule_id,
        "parent": parent_number(ticket, viewer),
        # Imported history: the old system's name and its id for the ticket; null for our own.
        "source": ticket.source or None,
        "external_id": ticket.external_id,
        # geo (issue 18): where it happened, WGS84; null when unknown
        "lat": ticket.lat,
        "long": ticket.long,
        "assisting": [assist_json(a) for a in sorted(helpers, key=lambda a: a.department.code)],
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
        "extension": extension_json(extension),
        # A late return waiting for a supervisor.
        "return_request": return_request_json(return_request),
        # Contact with the citizen (issue 17): the first-contact clock; `contacts` with the events.
        "contact_due_at": iso(ticket.contact_due_at),
        "first_contacted_at": iso(ticket.first_contacted_at),
        "version": ticket.version,
        # What the viewer may do with it now, from the lifecycle table (`services/ticketing/lifecycle.py`).
        "actions": lifecycle.allowed(
            viewer,
            ticket,
            lifecycle.known_facts(
                viewer,
                pending_extension=extension is not None,
                pending_return=return_request is not None,
                assists=helpers,
            ),
        ),
    }
    data |= tree_json(ticket)  # units in a tree (issue 17)
    if events:
        data["children"] = [child.number for child in merging.children(viewer, ticket)]
        named = merging.numbers_in_events(ticket)
        hidden = named - access.visible_numbers(viewer, named)
        data["events"] = [event_json(event, hidden) for event in ticket.events]
        # The texts sent (or waiting) to the caller, from the outbox; numbers masked as above.
        data["notifications"] = [notification_json(m, masked) for m in outbox.for_ticket(ticket)]
        data["contacts"] = [contact_json(c) for c in citizen_contact.contacts_of(ticket)]  # issue 17
        data["attachments"] = [attachment_json(a) for a in attachments.of_ticket(ticket)]  # issue 18 item 5
    return data


def contact_json(contact: TicketContact) -> dict[str, Any]:
    """One attempt to reach the citizen, or a callback (issue 17)."""
    data: dict[str, Any] = {
        "outcome": contact.outcome,  # reached | no_answer | wrong_number | text | calling (a call under way)
        "note": contact.note,
        "by": contact.by.username if contact.by else None,
        "at": iso(contact.at),
        "purpose": contact.purpose,  # contact | callback
    }
    if contact.call_sid is not None:
        data["duration_seconds"] = contact.duration_seconds
    if contact.rating is not None:
        data["rating"] = contact.rating
    return data


def notification_json(message: OutboundMessage, masked: bool) -> dict[str, Any]:
    return {
        "channel": message.channel,
        "to": mask_phone(message.to) if masked else message.to,
        "status": message.status,  # queued | sending | sent | delivered | failed | held
        "body": message.body,
        "created_at": iso(message.created_at),
        "sent_at": iso(message.sent_at),
    }


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


def return_request_json(request: ReturnRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "reason_code": request.reason_code,
        "reason": request.reason,
        "requested_by": request.requested_by.username,
        "created_at": iso(request.created_at),
    }


def assist_json(assist: TicketAssist) -> dict[str, Any]:
    return {
        "department": assist.department.code,
        "status": assist.status,  # open | done
        "reply": assist.reply or "",
        "done_at": iso(assist.done_at),
    }


def event_json(event: TicketEvent, hidden: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """`hidden`: ticket numbers the viewer may not see; a merge event naming one names none."""
    data = dict(event.data or {})
    name = merging.MERGE_EVENT_FIELDS.get(event.kind)
    if name and data.get(name) in hidden:
        data[name] = None
    if event.kind == "routed":
        # `reason` in the caller's language, from the code `by` (stored events hold codes only).
        data["reason"] = labels.routing_reason(data)
    return {
        "kind": event.kind,
        "at": iso(event.at),
        "actor": event.actor.username if event.actor else None,  # null: the system (routing, jobs)
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": data,
    }


def parent_number(ticket: Ticket, viewer: User) -> str | None:
    """The number of the ticket it was merged into; null, as if it had none, when the viewer may
    not see that one."""
    if ticket.parent_id is None:
        return None
    parent = access.shown(viewer, ticket.parent)
    return parent.number if parent is not None else None


# --- Units in a tree (issue 17) ------------------------------------------------------------------


def tree_json(ticket: Ticket) -> dict[str, Any]:
    """Who handles the ticket (承办人), the unit holding it now and its chain from the unit the
    city dispatched it to down to that one (下派), each with since when and its deadline."""
    unit = tree.holder(ticket)
    return {
        "handler": ticket.handler.username if ticket.handler else None,
        "holder": unit.code if unit else None,
        "holders": [
            {"department": link.department.code, "since": iso(link.since), "due": iso(link.due)}
            for link in tree.chain(ticket)
        ],
    }
