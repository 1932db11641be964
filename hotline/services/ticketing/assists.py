"""Assisting departments (协办): they see the ticket, add their part and mark it done;
the lead department (主办) resolves it."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from hotline.extensions import db
from hotline.models import Department, Ticket, TicketAssist, User
from hotline.models.types import utcnow
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.ticketing import lifecycle


def replace(ticket: Ticket, departments: list[Department], clear: bool = True) -> None:
    """Set the ticket's assisting departments (at each dispatch); `clear=False` when it has none yet."""
    if clear and ticket.id is not None:
        db.session.execute(delete(TicketAssist).where(TicketAssist.ticket_id == ticket.id))
    for department in departments:
        db.session.add(TicketAssist(ticket_id=ticket.id, department=department))


def of_ticket(ticket: Ticket) -> list[TicketAssist]:
    return list(db.session.scalars(select(TicketAssist).where(TicketAssist.ticket_id == ticket.id)))


def mark_done(actor: User, ticket: Ticket, reply: str) -> TicketAssist:
    """An assisting department adds its part; the ticket's state does not change."""
    lifecycle.require(actor, ticket, "assist_done")
    assist = db.session.scalars(
        select(TicketAssist).where(
            TicketAssist.ticket_id == ticket.id, TicketAssist.department_id == actor.department_id
        )
    ).one()
    if ticket.status not in lifecycle.ACTIONS["assist_done"].from_states:
        raise Conflict(_("Ticket %(number)s is no longer being worked on.", number=ticket.number))
    text = (reply or "").strip()
    if not text:
        raise InvalidInput(_("Write what your department did."), field="reply")
    if assist.status == TicketAssist.DONE:
        raise Conflict(_("Your department's part is already marked done."))
    assist.status, assist.reply, assist.done_at = TicketAssist.DONE, text[:5000], utcnow()
    data = {"department": actor.department.code, "reply": text[:5000]}
    lifecycle.apply(actor, ticket, "assist_done", data=data, at=assist.done_at)
    return assist
