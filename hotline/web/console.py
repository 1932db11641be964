"""The operators' console (来电面板): calls ringing, waiting and on the line, live, each with the
caller's earlier tickets; one click answers a call and opens the intake form pre-filled (the
ticket is then linked to the call); missed calls listed for call-back.

The page polls `/console/calls.json` every few seconds (static/console.js). Each row comes with
its HTML, rendered by the same partial as the first page, and a key that changes only when
the row does, so the script replaces just the rows that changed.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hotline.models import Call
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.citizens import calls
from hotline.services.citizens.phones import display_phone
from hotline.services.errors import ServiceError
from hotline.web.formatting import local_time
from hotline.web.guards import roles_required
from hotline.web.intake import caller_history_for

bp = Blueprint("console", __name__, url_prefix="/console")

POLL_MS = 2500
CALL_STATUS_LABELS = {
    "ringing": _l("Ringing"),
    "queued": _l("Waiting in the queue"),
    "in-progress": _l("On the line"),
    "voicemail": _l("Leaving a message"),
    "completed": _l("Hung up"),
    "busy": _l("Busy"),
    "no-answer": _l("Not answered"),
    "failed": _l("Failed"),
    "canceled": _l("Hung up while ringing"),
}
CALL_STATUS_COLOURS = {"ringing": "danger", "queued": "warning", "in-progress": "success"}


@bp.get("/")
@roles_required(*access.INTAKE_ROLES)
def index():
    live, missed, missed_total = _rows()
    return render_template("console/index.html", live=live, missed=missed, missed_total=missed_total, poll_ms=POLL_MS)


@bp.get("/calls.json")
@roles_required(*access.INTAKE_ROLES)
def feed():
    live, missed, missed_total = _rows()
    now = utcnow()
    return jsonify(
        {
            "now": _epoch_ms(now),
            "now_label": local_time(now, "%H:%M:%S"),  # in the hotline's time zone, like the calls
            "live": [_public(row, "console/_live_call.html") for row in live],
            "missed": [_public(row, "console/_missed_call.html") for row in missed],
            "missed_total": missed_total,
        }
    )


@bp.post("/calls/<sid>/answer")
@roles_required(*access.INTAKE_ROLES)
def answer(sid: str):
    call = _call_or_404(sid)
    try:
        calls.answer_call(current_user, call)
    except ServiceError as error:
        flash(error.message, "warning")
        return redirect(url_for("console.index"))
    return redirect(_intake_url(call))


@bp.post("/calls/<sid>/called-back")
@roles_required(*access.INTAKE_ROLES)
def called_back(sid: str):
    call = _call_or_404(sid)
    try:
        calls.mark_called_back(current_user, call)
    except ServiceError as error:
        flash(error.message, "warning")
    else:
        flash(_("Call-back to %(phone)s recorded.", phone=display_phone(call.from_number)), "success")
    return redirect(url_for("console.index"))


def _call_or_404(sid: str) -> Call:
    call = calls.find_call(sid)
    if call is None:
        abort(404)
    return call


def _rows() -> tuple[list[dict], list[dict], int]:
    now = utcnow()
    live = [_live_row(call) for call in calls.live_calls(now)]
    missed = [_missed_row(call) for call in calls.missed_calls()]
    return live, missed, calls.missed_count()


def _base_row(call: Call) -> dict:
    phone = display_phone(call.from_number) if call.from_number else ""
    ticket = access.shown(current_user, call.ticket)  # another operator's confidential ticket: none
    return {
        "sid": call.call_sid,
        "status": call.status,
        "status_label": str(CALL_STATUS_LABELS.get(call.status, call.status)),
        "status_colour": CALL_STATUS_COLOURS.get(call.status, "secondary"),
        "phone": phone,
        "started_at": local_time(call.started_at, "%H:%M:%S"),
        "started_day": local_time(call.started_at, "%Y-%m-%d %H:%M"),
        "started_ms": _epoch_ms(call.started_at),
        "answered": call.answered_at is not None,
        "ticket": ticket.number if ticket else None,
        "ticket_url": url_for("tickets.show", number=ticket.number) if ticket else None,
        "intake_url": _intake_url(call),
    }


def _live_row(call: Call) -> dict:
    row = _base_row(call)
    history = caller_history_for(call.from_number) if call.from_number else None
    row["history"] = history
    row["answer_url"] = url_for("console.answer", sid=call.call_sid)
    row["key"] = _key(
        row["status"], row["answered"], row["ticket"], [(t.number, t.status) for t in history or []], row["phone"]
    )
    return row


def _missed_row(call: Call) -> dict:
    row = _base_row(call)
    row["recording_url"] = call.recording_url
    row["called_back_url"] = url_for("console.called_back", sid=call.call_sid)
    row["key"] = _key(row["status"], row["ticket"], row["recording_url"])
    return row


def _public(row: dict, template: str) -> dict:
    """What the script gets: the row's data (not the ORM objects) and its HTML."""
    data = {name: value for name, value in row.items() if name != "history"}
    data["html"] = render_template(template, call=row)
    return data


def _intake_url(call: Call) -> str:
    phone = display_phone(call.from_number) if call.from_number else None
    return url_for("intake.new_ticket", phone=phone, call=call.call_sid)


def _key(*parts) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def _epoch_ms(moment) -> int:
    return int(moment.timestamp() * 1000)
