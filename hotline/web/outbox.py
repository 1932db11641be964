"""The outbox for administrators: every text to citizens, its status and last error, and a
way to send a failed or held one again (once Twilio is configured)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.extensions import db
from hotline.models import Role
from hotline.services.citizens import outbox, senders
from hotline.services.errors import ServiceError
from hotline.web.guards import roles_required
from hotline.web.paging import page_number

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

PAGE_SIZE = 50
STATUS_LABELS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "held": _l("Held (not sent)"),
}
STATUS_COLOURS = {"queued": "info", "sending": "info", "sent": "primary", "delivered": "success", "failed": "danger"}
KIND_LABELS = {
    "created": _l("Ticket logged"),
    "resolved_survey": _l("Reply and survey"),
    "status_reply": _l("Status answer"),
    "status_merged": _l("Status answer"),  # of a duplicate whose parent its caller may not follow
    "rating_thanks": _l("Thanks for the rating"),
    "reopened": _l("Handled again"),
    "opted_out": _l("Opt-out confirmed"),
    "opted_in": _l("Opt-in confirmed"),
    "unknown_ticket": _l("No such ticket"),
    "message_logged": _l("Message added to ticket"),
    "no_survey": _l("No survey waiting"),
}


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    status = request.args.get("status", "")
    if status not in outbox.STATUSES:
        status = ""
    pagination = db.paginate(outbox.listing(status or None), page=page_number(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "outbox/index.html",
        pagination=pagination,
        status=status,
        statuses=outbox.STATUSES,
        counts=outbox.counts_by_status(),
        sender_configured=senders.configured(),
        webhooks_configured=bool(current_app.config.get("TWILIO_AUTH_TOKEN")),
        filters={"status": status} if status else {},
        status_labels=STATUS_LABELS,
        status_colours=STATUS_COLOURS,
        kind_labels=KIND_LABELS,
    )


@bp.post("/<int:message_id>/retry")
@roles_required(Role.ADMIN)
def retry(message_id: int):
    try:
        message = outbox.retry(message_id)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Message %(id)d to %(to)s is queued to be sent again.", id=message.id, to=message.to), "success")
    status = request.form.get("status", "")
    return redirect(url_for("outbox.index", status=status if status in outbox.STATUSES else None))
