"""Logging a call (受理): the operator's form and the caller's earlier tickets beside it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline import labels
from hotline.bounds import id_number
from hotline.extensions import db
from hotline.models import Category, Status, Ticket
from hotline.services.accounts import access
from hotline.services.citizens import calls
from hotline.services.citizens.phones import normalise_phone
from hotline.services.city import category_picker, geo
from hotline.services.errors import InvalidInput, ServiceError
from hotline.services.ticketing import attachment_uploads, merging, tickets
from hotline.services.ticketing.tickets import Intake
from hotline.web import attachment_forms, intake_geo
from hotline.web.formatting import local_time, status_colour
from hotline.web.forms import IntakeForm, no_nul, show_service_error
from hotline.web.guards import roles_required

bp = Blueprint("intake", __name__)

DUPLICATES_SHOWN = 5
EXCERPT = 80


@bp.route("/tickets/new", methods=["GET", "POST"])
@roles_required(*access.INTAKE_ROLES)
def new_ticket():
    if request.method == "POST" and (message := attachment_forms.too_large_body(_max_files())):
        # Refused unread (the body is larger than the files allowed): the form cannot come back filled.
        flash(message, "danger")
        return _form_again(IntakeForm(formdata=None)), 413
    form = IntakeForm()
    if request.method == "GET":
        # A CTI system opens the form with the incoming number: /tickets/new?phone=...
        form.caller_phone.data = request.args.get("phone", "")
        history = caller_history_for(form.caller_phone.data)
        form.caller_name.data = known_name(history)  # a known caller: the name they gave last
        return _form_again(form, history)
    if not form.validate_on_submit():  # only the CSRF token can fail here
        flash(_("The form has expired; please submit it again."), "danger")
        return _form_again(form), 400
    # issue 18: the files are checked as the ticket page's upload checks them, before the
    # ticket opens: a bad one refuses the form, which comes back as typed (files chosen again).
    try:
        uploads = attachment_uploads.check_all(attachment_forms.sent_files("files"), most=_max_files(), field="files")
    except ServiceError as error:
        form.files.errors = [error.message]
        return _form_again(form), error.status_code
    try:
        # A store that is down opens nothing; a ticket that does not open keeps no file.
        with attachment_uploads.stored(uploads, "intake") as uploads:
            result = tickets.create_ticket(current_user, _intake_from(form))
    except InvalidInput as error:
        show_service_error(form, error)
        if not form.category.data:  # the empty "choose" option: say so rather than "category is required"
            form.category.errors = [_("Choose a category.")]
        return _form_again(form)
    except ServiceError as error:
        flash(error.message, "danger")
        return _form_again(form), error.status_code
    ticket = result.ticket
    attachment_uploads.attach_all(current_user, ticket, uploads)  # after the one way in, in this request
    calls.link_ticket_from_intake(request.form.get("call"), ticket, current_user)  # opened from the console
    if ticket.status == Status.CLOSED:
        flash(_("Ticket %(number)s was answered directly and closed.", number=ticket.number), "success")
    else:
        flash(_("Ticket %(number)s logged.", number=ticket.number), "success")
    if ticket.status == Status.NEW and not result.routing_queued:
        flash(
            _(
                "Routing is delayed: the job queue is not reachable. The ticket is saved and will be "
                "routed automatically when the queue is back."
            ),
            "warning",
        )
    return redirect(url_for("tickets.show", number=ticket.number))


@bp.get("/tickets/caller-history")
@roles_required(*access.INTAKE_ROLES)
def caller_history():
    """An HTML fragment for the intake page; empty for a number that is not (yet) valid."""
    history = caller_history_for(request.args.get("phone", ""))
    return render_template("intake/_history.html", history=history, known_name=known_name(history))


@bp.post("/tickets/likely-duplicates")
@roles_required(*access.INTAKE_ROLES)
def likely_duplicates():
    """Open tickets that may be the same request as the call being logged, as JSON for the
    intake page's script. It posts the form as typed (a description is too long for a URL);
    a number that is not (yet) valid or a category not chosen simply narrows the search."""
    form = {name: no_nul(request.form.get(name, "")) for name in ("caller_phone", "category", "address", "description")}
    point = _point_or_none()
    try:
        phone = normalise_phone(form["caller_phone"]) if form["caller_phone"].strip() else None
    except InvalidInput:
        phone = None
    code = form["category"]
    category = db.session.scalar(select(Category).where(Category.code == code)) if code else None
    found = merging.find_duplicates(
        current_user,
        phone,
        category,
        form["address"][:300],
        form["description"][: tickets.DESCRIPTION_MAX],
        limit=DUPLICATES_SHOWN,
    )
    # geo (issue 18): open tickets near the point, beside the word-based ones (intake_geo.py)
    found = intake_geo.with_nearby(current_user, found, point, category, limit=DUPLICATES_SHOWN)
    return jsonify(
        {
            "searched": phone is not None or category is not None or point is not None,
            "duplicates": [_duplicate_json(likely) for likely in found],
        }
    )


@bp.get("/tickets/places.json")
@roles_required(*access.INTAKE_ROLES)
def places():
    """geo (issue 18): gazetteer entries matching the address typed (search as you type)."""
    query = no_nul(request.args.get("q", ""))[:100]
    return jsonify({"places": [geo.place_json(place) for place in geo.search_places(query)]})


def _duplicate_json(likely: merging.Likely) -> dict:
    ticket = likely.ticket
    description = ticket.description or ""
    return {
        "number": ticket.number,
        "url": url_for("tickets.show", number=ticket.number),
        "status": ticket.status,
        "status_label": str(labels.STATUS_LABELS.get(ticket.status, ticket.status)),
        "status_colour": status_colour(ticket.status),
        "created_at": local_time(ticket.created_at),
        "category": ticket.category.name,
        "department": ticket.department.name if ticket.department else None,
        "description": description if len(description) <= EXCERPT else description[:EXCERPT] + "…",
        "reasons": [intake_geo.reason_label(reason) for reason in likely.reasons],
        "similarity": round(likely.similarity, 2),
    }


def caller_history_for(raw: str | None) -> list[Ticket] | None:
    """The caller's earlier tickets, or None while the number is not a valid one."""
    if not (raw or "").strip():
        return None
    try:
        phone = normalise_phone(raw or "")
    except InvalidInput:
        return None
    return tickets.earlier_tickets(current_user, phone)  # only those the user may see


def _intake_from(form: IntakeForm) -> Intake:
    return Intake(
        caller_phone=form.caller_phone.data or "",
        caller_name=form.caller_name.data or "",
        type=form.type.data or "",
        category=form.category.data or "",
        district=form.district.data or None,
        address=form.address.data or "",
        description=form.description.data or "",
        urgency=form.urgency.data or "normal",
        channel=form.channel.data or "phone",
        confidential=bool(form.confidential.data),
        direct_answer=form.direct_answer.data or None,
        article_id=_article_id(request.form.get("article_id")),
        # geo (issue 18): the point picked from the gazetteer or the map; checked by the service
        lat=intake_geo.coordinate(request.form.get("lat")),
        long=intake_geo.coordinate(request.form.get("long")),
    )


def _max_files() -> int:
    return int(current_app.config["HOTLINE_INTAKE_MAX_FILES"])


def _point_or_none() -> tuple[float, float] | None:
    """The point as the duplicates panel posts it: one not (yet) valid narrows nothing."""
    try:
        return geo.checked_point(
            intake_geo.coordinate(request.form.get("lat")), intake_geo.coordinate(request.form.get("long"))
        )
    except InvalidInput:
        return None


def _article_id(raw: str | None) -> int | None:
    """The knowledge-base article the answer cites (set by the suggestions panel's button)."""
    raw = no_nul(raw or "").strip()
    if not raw:
        return None
    article_id = id_number(raw)
    if article_id is None:
        raise InvalidInput(_("No approved article %(id)s in the knowledge base.", id=raw[:20]), field="article_id")
    return article_id


def known_name(history: list[Ticket] | None) -> str:
    """The name the caller gave on their latest ticket that has one ("" for a new caller)."""
    return next((ticket.caller_name for ticket in history or [] if ticket.caller_name), "")


def _form_again(form: IntakeForm, history: list[Ticket] | None = None) -> str:
    if history is None:
        history = caller_history_for(form.caller_phone.data)
    return render_template(
        "intake/new.html",
        form=form,
        history=history,
        known_name=known_name(history),
        categories=category_picker.searchable(),
        recent_categories=category_picker.recent_codes(current_user),
        description_max=tickets.DESCRIPTION_MAX,
    )
