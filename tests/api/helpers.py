"""Looking at the database behind the API's back, to check what a request did or did not change."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Ticket, TicketEvent


def snapshot(number: str) -> tuple[str, int, str | None, list[str]]:
    """(status, version, department code, event kinds) as the database has them now."""
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    department = ticket.department.code if ticket.department else None
    return ticket.status, ticket.version, department, [event.kind for event in ticket.events]


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TicketEvent))


def assert_error(response, status: int, error: str, field: str | None = None) -> dict:
    """The API's error shape: JSON {"error", "detail"} (and "field" when one is at fault)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert body.get("field") == field
    return body
