"""Attachments on the pages (issue 18 item 5): the ticket page's upload and the files and
thumbnails it shows. The rules are in services/ticketing/attachments.py; the ticket is found
through access.ticket_for (404 for one the user may not see, as on the ticket page)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.services.accounts import access
from hotline.services.errors import NotFound, ServiceError
from hotline.services.platform.file_errors import FileMissing, StorageUnavailable
from hotline.services.ticketing import attachment_publicity, attachments
from hotline.web.attachment_forms import AttachmentForm, AttachmentPublicForm, too_large_body
from hotline.web.guards import expired, roles_required, safe_next
from hotline.web.tickets import _not_found

bp = Blueprint("attachments", __name__)
bp.register_error_handler(NotFound, _not_found)


@bp.errorhandler(StorageUnavailable)
@bp.errorhandler(FileMissing)
def _store_error(error: ServiceError):
    # A file that cannot be read now (S3 down) or is gone: a page that says so, not a 500.
    return render_template("errors/error.html", code=error.status_code, message=error.message), error.status_code


@bp.post("/tickets/<number>/attachments")
@roles_required()
def upload(number: str):
    ticket = access.ticket_for(current_user, number)
    back = url_for("tickets.show", number=ticket.number)
    # A body over the limit is refused before the form parser reads it.
    if message := too_large_body(1):
        flash(message, "danger")
        return redirect(back)
    form = AttachmentForm()
    back = safe_next(form.next.data) or back
    if refused := expired(form, back):
        return refused
    try:
        data = attachments.read_limited(form.file.data.stream if form.file.data else None)
        attachments.add(
            current_user,
            ticket,
            data,
            filename=form.file.data.filename if form.file.data else "",
            kind=form.kind.data or None,
            public=bool(form.public.data),
        )
    except ServiceError as error:
        flash(error.message, "danger")
        return redirect(back)
    flash(_("Attachment added."), "success")
    return redirect(back)


@bp.post("/tickets/<number>/attachments/<int:attachment_id>/public")
@roles_required()
def set_public(number: str, attachment_id: int):
    """The attachment list's button: a photo marked public, or no longer (attachment_publicity)."""
    ticket = access.ticket_for(current_user, number)
    form = AttachmentPublicForm()
    back = safe_next(form.next.data) or url_for("tickets.show", number=ticket.number)
    if refused := expired(form, back):
        return refused
    public = form.public.data == "1"
    try:
        attachment_publicity.set_public(current_user, ticket, attachment_id, public)
    except ServiceError as error:
        flash(error.message, "danger")
        return redirect(back)
    flash(_("The photo is now public.") if public else _("The photo is no longer public."), "success")
    return redirect(back)


@bp.get("/tickets/<number>/attachments/<int:attachment_id>")
@roles_required()
def file(number: str, attachment_id: int) -> Response:
    return _stream(number, attachment_id, thumbnail=False)


@bp.get("/tickets/<number>/attachments/<int:attachment_id>/thumbnail")
@roles_required()
def thumbnail(number: str, attachment_id: int) -> Response:
    return _stream(number, attachment_id, thumbnail=True)


def _stream(number: str, attachment_id: int, *, thumbnail: bool) -> Response:
    ticket = access.ticket_for(current_user, number)
    attachment = attachments.find(ticket, attachment_id)
    if attachment is None:
        abort(404)
    return attachments.file_response(attachment, thumbnail=thumbnail)
