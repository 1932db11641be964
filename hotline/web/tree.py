"""Units in a tree (issue 17) on the workbench: what the unit sent down (下派), the handler's own
tickets (承办人), and the unit lead's view of each person's load."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from hotline.models import Role
from hotline.models.types import utcnow
from hotline.services.ticketing import tree
from hotline.web.guards import roles_required

bp = Blueprint("tree", __name__)


@bp.get("/tickets/sent-down")
@roles_required(Role.DEPARTMENT)
def sent_down():
    now = utcnow()
    return render_template("tree/sent_down.html", rows=tree.sent_down(current_user, now), now=now)


@bp.get("/tickets/mine")
@roles_required(Role.DEPARTMENT)
def mine():
    return render_template("tree/mine.html", tickets=tree.my_tickets(current_user), now=utcnow())


@bp.get("/units/load")
@roles_required(Role.DEPARTMENT)
def load():
    if not current_user.is_unit_lead:
        abort(403)
    return render_template("tree/load.html", loads=tree.loads(current_user))
