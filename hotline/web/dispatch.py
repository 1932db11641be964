"""The dispatcher's desk (派单): what routing could not place, oldest first."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, url_for
from sqlalchemy import and_, or_, select

from hotline.extensions import db
from hotline.models import Status, Ticket, TicketEvent
from hotline.models.types import utcnow
from hotline.services import access
from hotline.web.forms import DispatchForm
from hotline.web.guards import roles_required

bp = Blueprint("dispatch", __name__)

# A ticket still "new" after this long missed its routing job (queue down): show it here too.
ROUTING_DELAY = timedelta(minutes=5)
QUEUE_LIMIT = 200


@bp.get("/dispatch")
@roles_required(*access.DISPATCH_ROLES)
def queue():
    now = utcnow()
    waiting = list(
        db.session.scalars(
            select(Ticket)
            .where(
                or_(
                    Ticket.status == Status.PENDING_DISPATCH,
                    and_(Ticket.status == Status.NEW, Ticket.created_at <= now - ROUTING_DELAY),
                )
            )
            .order_by(Ticket.created_at, Ticket.id)
            .limit(QUEUE_LIMIT)
        )
    )
    forms = {}
    for ticket in waiting:
        form = DispatchForm(data={"version": ticket.version, "next": url_for("dispatch.queue")})
        suggested = ticket.category.routing_department
        if suggested is not None:
            form.department.data = suggested.code
        forms[ticket.id] = form
    return render_template("dispatch/queue.html", tickets=waiting, forms=forms, returns=_last_returns(waiting), now=now)


def _last_returns(waiting: list[Ticket]) -> dict[int, TicketEvent]:
    """The latest return (退单) of each ticket: the dispatcher needs its reason."""
    ids = [t.id for t in waiting if t.status == Status.PENDING_DISPATCH]
    if not ids:
        return {}
    events = db.session.scalars(
        select(TicketEvent)
        .where(TicketEvent.kind == "returned", TicketEvent.ticket_id.in_(ids))
        .order_by(TicketEvent.id)
    )
    return {event.ticket_id: event for event in events}  # later events overwrite earlier ones
