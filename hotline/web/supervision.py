"""The supervisor's desk (督办): open tickets running late, most overdue first, with the urge
button; and the extension requests and late returns that wait for a decision."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import ExtensionRequest, ReturnRequest, Status, Ticket
from hotline.models.types import utcnow
from hotline.services import access, audit, returns
from hotline.web.formatting import next_clock, sla_state
from hotline.web.guards import roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

LIST_LIMIT = 500


@bp.get("/overdue")
@roles_required(*access.SUPERVISE_ROLES)
def overdue():
    now = utcnow()
    late = _late_tickets(now)
    return render_template(
        "supervision/overdue.html",
        late=late,
        truncated=len(late) >= LIST_LIMIT,
        extensions=_pending(ExtensionRequest),
        return_requests=_pending(ReturnRequest),
        return_reasons={r.code: r.name for r in returns.reasons()},
        here=url_for("supervision.overdue"),
        now=now,
    )


def _late_tickets(now) -> list[tuple[Ticket, str, object]]:
    """(ticket, level, next clock) of the open tickets that are red or amber: red first, then
    amber, each by its deadline (the longest overdue first)."""
    candidates = db.session.scalars(
        access.visible_tickets(current_user)  # the one rule (supervisors see every ticket)
        .where(
            Ticket.status.in_(Status.WITH_DEPARTMENT),
            or_(
                Ticket.sla_level.in_(("amber", "red")),
                Ticket.resolve_amber_at <= now,
                Ticket.resolve_due_at <= now,
                and_(Ticket.accepted_at.is_(None), or_(Ticket.accept_amber_at <= now, Ticket.accept_due_at <= now)),
            ),
        )
        .options(selectinload(Ticket.department), selectinload(Ticket.category))
        .order_by(Ticket.resolve_due_at, Ticket.id)
        .limit(LIST_LIMIT)
    )
    rows = []
    for ticket in candidates:
        level = sla_state(ticket, now)
        if level not in ("amber", "red"):
            continue
        clock = next_clock(ticket, now)
        rows.append((ticket, level, clock))
    rows.sort(key=lambda row: (row[1] != "red", row[2].due if row[2] else now, row[0].id))
    return rows


def _pending(model) -> list[tuple]:
    """(request, ticket) of the pending requests of tickets still with a department (the only
    ones that can be decided), oldest first."""
    return [
        (row[0], row[1])
        for row in db.session.execute(
            select(model, Ticket)
            .join(Ticket, Ticket.id == model.ticket_id)
            .where(model.status == model.PENDING, Ticket.status.in_(Status.WITH_DEPARTMENT))
            .order_by(model.created_at, model.id)
            .limit(LIST_LIMIT)
        )
    ]


@bp.get("/failed-logins")
@roles_required(*access.SUPERVISE_ROLES)
def failed_logins():
    """Who was tried, from where and how often (login_throttle): a name tried from many
    addresses, or many names from one, is someone guessing."""
    return render_template(
        "supervision/failed_logins.html",
        rows=audit.failed_logins(),
        days=audit.FAILED_LOGIN_SHOWN_DAYS,
        limit=audit.FAILED_LOGIN_ROWS,
    )
