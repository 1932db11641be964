"""What every ticket transition does: check the version and state, record the event, commit.

Shared by the services that take the actions of the lifecycle table (`lifecycle`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from hotline.extensions import db
from hotline.labels import STATUS_LABELS
from hotline.models import Ticket, TicketEvent, User
from hotline.models.types import utcnow
from hotline.services.errors import Conflict


def check_state(ticket: Ticket, expected_version: int | None, *allowed: str) -> None:
    """Refuse when the actor saw an older version, or the ticket's state does not allow the action."""
    if expected_version is not None and expected_version != ticket.version:
        raise Conflict(_changed_meanwhile(ticket))
    if ticket.status not in allowed:
        raise Conflict(
            _(
                "Ticket %(number)s is %(status)s; this action is not possible now.",
                number=ticket.number,
                status=status_label(ticket.status),
            )
        )


def record_event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    data: dict[str, Any],
    at: datetime | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        data=data,
        at=at or utcnow(),
    )
    db.session.add(event)
    return event


def commit_transition(ticket: Ticket) -> Ticket:
    """Commit; if someone else changed the ticket since it was loaded, nothing is kept."""
    with conflict_if_stale(ticket):
        db.session.commit()
    return ticket


@contextmanager
def conflict_if_stale(ticket: Ticket) -> Iterator[None]:
    """A flush or commit within finds that someone else changed the ticket since it was loaded:
    Conflict, and nothing is kept."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_changed_meanwhile(ticket)) from None


def decide_request(request: Any, actor: User, status: str, note: str, now: datetime) -> None:
    """A supervisor's decision on a pending request (an extension, a late return)."""
    request.status = status
    request.decided_by_id = actor.id
    request.decided_at = now
    request.decision_note = (note or "").strip()[:2000]


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _changed_meanwhile(ticket: Ticket) -> str:
    return _("Ticket %(number)s was changed by someone else meanwhile; reload it and try again.", number=ticket.number)
