"""The supervisor's desk (督办): open tickets running late, most overdue first, with the urge
button; and the extension requests and late returns that wait for a decision."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import ExtensionRequest, ReturnRequest, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.accounts import access, audit
from hotline.services.clocks import overdue as overdue_rule
from hotline.services.ticketing import returns
from hotline.web.formatting import next_clock
from hotline.web.guards import roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

LIST_LIMIT = 500


@bp.get("/overdue")
@roles_required(*access.SUPERVISE_ROLES)
def overdue():
    now = utcnow()
    imported = request.args.get("imported", "").strip() or "all"
    error = None
    if imported not in overdue_rule.IMPORTED_FILTERS:
        allowed = ", ".join(overdue_rule.IMPORTED_FILTERS)
        error = _("“%(value)s” is not one of: %(allowed)s.", value=imported, allowed=allowed)
        imported = "all"
    late = _late_tickets(now, imported)
    return render_template(
        "supervision/overdue.html",
        late=late,
        counts=overdue_rule.overdue_now(now),
        imported=imported,
        shown_overdue=sum(1 for row in late if row[1] == "overdue"),
        truncated=len(late) >= LIST_LIMIT,
        extensions=_pending(ExtensionRequest),
        return_requests=_pending(ReturnRequest),
        return_reasons={r.code: r.name for r in returns.reasons()},
        here=url_for("supervision.overdue", imported=imported if imported != "all" else None),
        now=now,
        error=error,
    ), (400 if error else 200)


# The list's order: overdue, then not accepted in time, then due soon.
_ORDER = {"overdue": 0, "accept_late": 1, "due_soon": 2}


def _late_tickets(now, imported: str = "all") -> list[tuple[Ticket, str, object]]:
    """(ticket, lateness, next clock) of the open tickets that are overdue (the one definition,
    services/clocks/overdue.py), not accepted in time or due soon, in that order, each by its
    deadline (the longest overdue first)."""
    candidates = db.session.scalars(
        access.visible_tickets(current_user)  # the one rule (supervisors see every ticket)
        .where(overdue_rule.late_candidates(now), overdue_rule.imported_condition(imported))
        .options(selectinload(Ticket.department), selectinload(Ticket.category))
        .order_by(Ticket.resolve_due_at, Ticket.id)
        .limit(LIST_LIMIT)
    )
    rows = []
    for ticket in candidates:
        level = overdue_rule.lateness(ticket, now)
        if level is None:
            continue
        clock = next_clock(ticket, now)
        rows.append((ticket, level, clock))
    rows.sort(key=lambda row: (_ORDER[row[1]], row[2].due if row[2] else now, row[0].id))
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
