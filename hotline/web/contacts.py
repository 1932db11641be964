"""Contact with the citizen (先联系后办理) and callback (回访) on the pages (issue 17): the ticket
page's contact card and the operators' callback queue. The rules are in
`services/citizens/citizen_contact.py`; these views parse and render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.extensions import db
from hotline.services.accounts import access
from hotline.services.citizens import citizen_contact
from hotline.services.errors import InvalidInput, NotFound
from hotline.web.contact_forms import CallbackForm, CallCitizenForm, ContactForm, OwnPhoneForm, RevealPhoneForm
from hotline.web.guards import roles_required
from hotline.web.tickets import _act, _not_found

bp = Blueprint("contacts", __name__)
# Another department's ticket answers 404 here as on the ticket page: no probing.
bp.register_error_handler(NotFound, _not_found)


@bp.post("/tickets/<number>/contacts")
@roles_required()
def record_contact(number: str):
    return _act(
        number,
        ContactForm,
        lambda ticket, form, version: citizen_contact.record_contact(
            current_user,
            ticket,
            form.outcome.data or "",
            form.note.data or "",
            version,
            template=form.template.data or None,
        ),
        lambda ticket: _("The contact with the citizen of ticket %(number)s is recorded.", number=ticket.number),
    )


@bp.post("/tickets/<number>/call-citizen")
@roles_required()
def call_citizen(number: str):
    return _act(
        number,
        CallCitizenForm,
        lambda ticket, form, version: citizen_contact.call_citizen(current_user, ticket, version),
        lambda ticket: _("Your phone will ring: answer it and the hotline connects the citizen."),
    )


@bp.post("/tickets/<number>/reveal-phone")
@roles_required()
def reveal_phone(number: str):
    revealed: list[str] = []
    response = _act(
        number,
        RevealPhoneForm,
        lambda ticket, form, version: revealed.append(
            citizen_contact.reveal_phone(current_user, ticket, form.reason.data or "", version)
        ),
        lambda ticket: _("The citizen's number: %(phone)s (your reason is logged).", phone=revealed[0]),
    )
    return response


@bp.post("/tickets/<number>/callback-call")
@roles_required()
def callback_call(number: str):
    return _act(
        number,
        CallCitizenForm,
        lambda ticket, form, version: citizen_contact.callback_call(current_user, ticket, version),
        lambda ticket: _("Your phone will ring: answer it and the hotline connects the citizen."),
    )


@bp.post("/tickets/<number>/callback")
@roles_required()
def record_callback(number: str):
    return _act(
        number,
        CallbackForm,
        lambda ticket, form, version: citizen_contact.record_callback(
            current_user, ticket, form.rating.data or "", form.words.data or "", version
        ),
        lambda ticket: _("The callback of ticket %(number)s is recorded.", number=ticket.number),
        after=lambda ticket: url_for("contacts.queue"),
    )


@bp.route("/account/phone", methods=["GET", "POST"])
@roles_required()
def own_phone():
    """The staff member's own phone, which the hotline rings for a click-to-call."""
    form = OwnPhoneForm(data={"phone": current_user.phone or ""})
    if form.validate_on_submit():
        try:
            citizen_contact.set_phone(current_user, form.phone.data)
        except InvalidInput as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(_("Your phone is saved."), "success")
            return redirect(url_for("contacts.own_phone"))
    return render_template("contacts/phone.html", form=form)


@bp.get("/callbacks")
@roles_required(*access.CALLBACK_ROLES)
def queue():
    tickets = citizen_contact.callback_queue(current_user)
    return render_template("contacts/queue.html", tickets=tickets, form=CallbackForm(), call_form=CallCitizenForm())
