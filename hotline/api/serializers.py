"""What every answer of the API writes the same way: moments in UTC, a merged ticket's parent as
the viewer may see it. The ticket's JSON and what it nests are marshmallow schemas
(`ticket_schemas.py`), as every other resource's (docs/api.md, "Adding an API route")."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.models import Ticket, User
from hotline.services.accounts import access


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset, to the second: "2026-11-25T06:00:00+00:00"."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parent_number(ticket: Ticket, viewer: User) -> str | None:
    """The number of the ticket it was merged into; null, as if it had none, when the viewer may
    not see that one."""
    if ticket.parent_id is None:
        return None
    parent = access.shown(viewer, ticket.parent)
    return parent.number if parent is not None else None
