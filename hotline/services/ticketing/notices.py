"""Notices to staff: a department's desk or everyone with a role, announced in office hours only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from hotline.extensions import db
from hotline.models import Notice, Role, Ticket, User
from hotline.services.clocks.calendar import work_calendar


def notify(
    kind: str, body: str, now: datetime, ticket: Ticket | None = None, department_id: int | None = None, role=None
) -> Notice:
    """Add a notice; outside office hours it is held until the office next opens (an urgent
    ticket's notice to supervisors is not: `_never_held`)."""
    notice = Notice(
        kind=kind,
        body=body,
        ticket=ticket,
        department_id=department_id,
        role=role,
        created_at=now,
        show_from=now if _never_held(ticket, role) else work_calendar().next_office_time(now),
    )
    db.session.add(notice)
    return notice


def _never_held(ticket: Ticket | None, role: str | None) -> bool:
    """Urgent notices to supervisors are shown at once, night or holiday (issue 17 item 4: an
    urgent burst pipe on Saturday night must not wait for Monday); the rest keep office hours."""
    return role == Role.SUPERVISOR and ticket is not None and ticket.urgency == "urgent"


def notices_for(user: User, now: datetime, limit: int = 50) -> list[Notice]:
    """What this user should see now: their department's notices, or their role's."""
    audience = [Notice.role == user.role]
    if user.role == Role.DEPARTMENT and user.department_id is not None:
        audience.append(Notice.department_id == user.department_id)
    return list(
        db.session.scalars(
            select(Notice)
            .where(or_(*audience), Notice.show_from <= now)
            .order_by(Notice.show_from.desc(), Notice.id.desc())
            .limit(limit)
        )
    )
