"""Ping-pong (来回派单): dispatching a ticket to a department that returned it.

A department that returned a ticket (退单, within its window or approved by a supervisor) said
that it is not theirs. Sending it back to them may still be right (the return was wrong, the
facts changed), but the dispatcher must say why: the reason goes on the dispatch event, and
the misrouting report counts each such dispatch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, RoutingOutcome, Ticket, TicketEvent
from hotline.services.errors import InvalidInput

REASON_MAX = 2000
# The events that hand a ticket to a department by a dispatcher's choice.
DISPATCH_KINDS = ("dispatched", "reassigned")


def returned_by(ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """The codes of the departments that returned each ticket, first return first, each once."""
    ids = [i for i in ticket_ids if i is not None]
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data)
        .where(TicketEvent.kind == "returned", TicketEvent.ticket_id.in_(ids))
        .order_by(TicketEvent.id)
    )
    for ticket_id, data in rows:
        code = (data or {}).get("department")
        codes = found.setdefault(ticket_id, [])
        if code and code not in codes:
            codes.append(code)
    return found


def dispatch_data(ticket: Ticket, department: Department, reason: str | None) -> dict[str, Any]:
    """What a dispatch to `department` adds to its event: the dispatcher's reason, if given, and
    `ping_pong` when the department returned the ticket before, which needs a reason."""
    text = (reason or "").strip()
    if len(text) > REASON_MAX:
        raise InvalidInput(_("The reason is too long: at most %(max)d characters.", max=REASON_MAX), field="reason")
    data: dict[str, Any] = {"reason": text} if text else {}
    if department.code in returned_by([ticket.id]).get(ticket.id, []):
        if not text:
            raise InvalidInput(
                _(
                    "%(department)s returned this ticket before: give a reason to dispatch it to them again.",
                    department=department.name,
                ),
                field="reason",
            )
        data["ping_pong"] = True
    return data


def count_by_category(low: datetime, high: datetime) -> Counter[int]:
    """Ping-pong dispatches of the tickets created in [low, high), per category id: each dispatch
    or reassignment to a department that had returned the ticket before it. Read from the events
    (not the `ping_pong` flag) so that dispatches made before the warning existed count too; only
    tickets with a return (a routing outcome) are read."""
    returned = (
        select(RoutingOutcome.ticket_id)
        .join(Ticket, Ticket.id == RoutingOutcome.ticket_id)
        .where(Ticket.created_at >= low, Ticket.created_at < high, RoutingOutcome.kind == "returned")
    )
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.data, Ticket.category_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind.in_(("returned", *DISPATCH_KINDS)), TicketEvent.ticket_id.in_(returned))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    )
    counts: Counter[int] = Counter()
    returners: dict[int, set[str]] = {}
    for ticket_id, kind, data, category_id in rows:
        code = (data or {}).get("department")
        seen = returners.setdefault(ticket_id, set())
        if kind == "returned":
            if code:
                seen.add(code)
        elif code in seen:
            counts[category_id] += 1
    return counts
