"""The front door: each role goes to its own desk."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from hotline.models import Role
from hotline.models.types import utcnow
from hotline.services.ticketing.notices import notices_for
from hotline.web.guards import roles_required

bp = Blueprint("home", __name__)

NOTICE_LIMIT = 100

DESKS = {
    Role.OPERATOR: "intake.new_ticket",
    Role.DISPATCHER: "dispatch.queue",
    Role.DEPARTMENT: "tickets.index",
    Role.SUPERVISOR: "reports.response_times",
    Role.ADMIN: "reports.response_times",
}


@bp.route("/")
@roles_required()
def index():
    return redirect(url_for(DESKS.get(current_user.role, "tickets.index")))


@bp.get("/notices")
@roles_required()
def notices():
    """What the SLA sweep, extensions and urging announced to this user's desk."""
    return render_template("notices.html", notices=notices_for(current_user, utcnow(), limit=NOTICE_LIMIT))
