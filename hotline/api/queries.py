"""Read-only queries the API needs that no service offers yet: the directory, a page of tickets
and the assisting departments of that page.

Visibility comes from `access.visible_tickets`, never from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import Category, Department, District, Ticket, TicketAssist, User
from hotline.services.accounts import access


def departments() -> Sequence[Department]:
    return db.session.scalars(
        select(Department).options(selectinload(Department.parent)).order_by(Department.code)
    ).all()


def department_by_code(code: str) -> Department | None:
    return db.session.scalar(select(Department).where(Department.code == code))


def districts() -> Sequence[District]:
    return db.session.scalars(select(District).order_by(District.code)).all()


def categories() -> Sequence[Category]:
    return db.session.scalars(
        select(Category)
        .options(selectinload(Category.parent), selectinload(Category.default_department))
        .order_by(Category.code)
    ).all()


@dataclass
class TicketPage:
    tickets: Sequence[Ticket]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)  # ceiling; 0 when there are none


def ticket_page(
    viewer: User,
    *,
    statuses: Sequence[str] = (),
    department: Department | None = None,
    caller_phone: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> TicketPage:
    """The viewer's visible tickets, newest first (id breaks ties so pages never overlap)."""
    query = access.visible_tickets(viewer)
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if department is not None:
        query = query.where(Ticket.department_id == department.id)
    if caller_phone is not None:
        query = query.where(Ticket.caller_phone == caller_phone)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(
        query.options(selectinload(Ticket.category), selectinload(Ticket.district), selectinload(Ticket.department))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return TicketPage(tickets=rows, page=page, per_page=per_page, total=total)


def assists_by_ticket(tickets: Sequence[Ticket]) -> dict[int, list[TicketAssist]]:
    """The assisting departments of a page of tickets in one query, rather than one per ticket."""
    found: dict[int, list[TicketAssist]] = {ticket.id: [] for ticket in tickets}
    if not found:
        return found
    rows = db.session.scalars(
        select(TicketAssist)
        .where(TicketAssist.ticket_id.in_(list(found)))
        .options(selectinload(TicketAssist.department))
    )
    for assist in rows:
        found[assist.ticket_id].append(assist)
    return found
