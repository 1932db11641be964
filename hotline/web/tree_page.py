"""Units in a tree (issue 17) on the ticket page: the chain it was sent down through, the reply
waiting for review, and the choices of the send-down and assign cards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, Role, Ticket, User
from hotline.services.ticketing import lifecycle, tree
from hotline.web.forms import VersionedForm


def context(ticket: Ticket, forms: dict[str, VersionedForm | None]) -> dict[str, Any]:
    unit = tree.holder(ticket)
    if forms.get("subdispatch") is not None and unit is not None:
        children = db.session.scalars(
            select(Department).where(Department.parent_id == unit.id).order_by(Department.code)
        )
        forms["subdispatch"].department.choices = [(d.code, d.name) for d in children]
    if forms.get("assign") is not None and unit is not None:
        members = db.session.scalars(
            select(User)
            .where(User.department_id == unit.id, User.role == Role.DEPARTMENT, User.active.is_(True))
            .order_by(User.username)
        )
        forms["assign"].handler.choices = [(u.username, u.label) for u in members]
        forms["assign"].handler.data = ticket.handler.username if ticket.handler else None
    links = tree.chain(ticket)
    return {
        "chain": links if len(links) > 1 else [],  # one unit is no chain: the department line says it
        "holder": unit,
        "pending": lifecycle.pending_reply(ticket) if ticket.holder_id is not None or links else None,
    }
