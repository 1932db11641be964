"""The satisfaction survey (回访): the citizen rates the answer of a resolved ticket.

resolved ──satisfied / basically satisfied──▶ closed
resolved ──unsatisfied, first time──▶ in_progress with the same department, clocks restarted (重办)
resolved ──unsatisfied again──▶ closed, and the supervisors are told
resolved ──no rating within HOTLINE_SURVEY_DAYS──▶ closed (`close_unrated`, from the sweep)
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from hotline.extensions import db
from hotline.models import Role, Status, Ticket, User
from hotline.models.types import utcnow
from hotline.services.errors import InvalidInput
from hotline.services.ticketing import derived, lifecycle, notices

log = logging.getLogger(__name__)

SATISFIED, BASICALLY_SATISFIED, UNSATISFIED = "satisfied", "basically_satisfied", "unsatisfied"
RATINGS = (SATISFIED, BASICALLY_SATISFIED, UNSATISFIED)
MAX_REOPENS = 1  # 重办 once; a second "unsatisfied" goes to a supervisor instead
CLOSE_BATCH = 500  # per sweep, so that one sweep stays short after a long outage


def record_rating(
    ticket: Ticket,
    rating: str,
    *,
    actor: User | None = None,
    via: str = "sms",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Record the citizen's rating of a resolved ticket and move it on; `actor` None is the
    citizen themselves (by SMS). Commits; a ticket changed meanwhile raises Conflict."""
    if rating not in RATINGS:
        raise InvalidInput(_("A rating is satisfied, basically_satisfied or unsatisfied."), field="rating")
    now = now or utcnow()
    changes = derived.Changes()  # rated, then closed or reopened: one transaction
    data = {"rating": rating, "via": via}
    lifecycle.apply(actor, ticket, "rate", expected_version=expected_version, data=data, at=now, changes=changes)
    ticket.satisfaction = rating
    ticket.rated_at = now
    if rating != UNSATISFIED:
        _close(ticket, actor, now, {"rating": rating}, changes)
    elif ticket.reopen_count < MAX_REOPENS:
        _reopen(ticket, actor, now, changes)
    else:
        _close(ticket, actor, now, {"rating": rating, "escalated": True}, changes)
        notices.notify(
            "unsatisfied",
            _(
                "Ticket %(number)s: the citizen is still unsatisfied after it was handled again; it is closed and needs a supervisor's review.",
                number=ticket.number,
            ),
            now,
            ticket=ticket,
            role=Role.SUPERVISOR,
        )
    return lifecycle.commit(ticket, changes)


def _close(ticket: Ticket, actor: User | None, now: datetime, data: dict, changes: derived.Changes) -> None:
    ticket.closed_at = now
    lifecycle.apply(actor, ticket, "close", data=data, at=now, changes=changes)


def _reopen(ticket: Ticket, actor: User | None, now: datetime, changes: derived.Changes) -> None:
    """重办: back to the department that answered, with fresh deadlines from now."""
    ticket.reopen_count += 1
    ticket.resolved_at = None  # set again when the department replies anew
    data = {"rating": UNSATISFIED, "reopen_count": ticket.reopen_count}  # and the fresh clocks (`sla`)
    lifecycle.apply(actor, ticket, "reopen", data=data, at=now, changes=changes)
    notices.notify(
        "reopened",
        _(
            "Ticket %(number)s is back with you: the citizen is not satisfied with the answer (重办).",
            number=ticket.number,
        ),
        now,
        ticket=ticket,
        department_id=ticket.department_id,
    )


def close_unrated(now: datetime | None = None, limit: int = CLOSE_BATCH) -> int:
    """Close resolved tickets that got no rating within HOTLINE_SURVEY_DAYS; returns how many.
    Each ticket commits on its own; one changed meanwhile (rated just now) is left alone."""
    now = now or utcnow()
    days = current_app.config.get("HOTLINE_SURVEY_DAYS", 3)
    cutoff = now - timedelta(days=days)
    ids = db.session.scalars(
        select(Ticket.id)
        .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= cutoff)
        .order_by(Ticket.resolved_at)
        .limit(limit)
    ).all()
    closed = 0
    for ticket_id in ids:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or ticket.status != Status.RESOLVED:
            continue
        changes = derived.Changes()
        _close(ticket, None, now, {"unrated_days": days}, changes)
        try:
            changes.keep_in_step()
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            continue
        closed += 1
    if closed:
        log.info("closed %d resolved tickets that were not rated in time", closed)
    return closed
