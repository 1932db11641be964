"""Who may see and do what: the role checks every view and API route relies on."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from hotline.extensions import db
from hotline.models import Role, Ticket, User
from hotline.services.errors import NotFound, PermissionDenied

INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
DISPATCH_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REPORT_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def require_role(actor: User, *roles: str) -> None:
    if not actor.has_role(*roles):
        raise PermissionDenied(_("Your role may not do this."))


def visible_tickets(actor: User) -> Select[tuple[Ticket]]:
    """Department staff see only their own department's tickets; other roles see all."""
    query = select(Ticket)
    if actor.role == Role.DEPARTMENT:
        query = query.where(Ticket.department_id == actor.department_id)
    return query


def can_see(actor: User, ticket: Ticket) -> bool:
    if actor.role == Role.DEPARTMENT:
        return ticket.department_id is not None and ticket.department_id == actor.department_id
    return True


def masks_caller(actor: User) -> bool:
    return actor.role == Role.DEPARTMENT


def require_own_department(actor: User, ticket: Ticket) -> None:
    """Department actions are for the staff of the department that holds the ticket."""
    if actor.role != Role.DEPARTMENT or ticket.department_id != actor.department_id:
        raise PermissionDenied(_("Only the department that holds this ticket may do this."))


def ticket_for(actor: User, number: str) -> Ticket:
    """The ticket with this number, if the actor may see it; 404 either way otherwise,
    so that department staff cannot probe other departments' numbers."""
    ticket = db.session.scalars(visible_tickets(actor).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(_("No ticket %(number)s.", number=number))
    return ticket
