"""Attachments (issue 18 item 5): POST /tickets/<number>/attachments (multipart: `file`, optional
`public` and `kind`) and GET of each one's `url` (and its thumbnail), for whoever may see the
ticket (access.ticket_for: 404 as for a hidden ticket otherwise)."""

from __future__ import annotations

from flask import Response, request, url_for
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.responses import json_response
from hotline.api.ticket_schemas import attachment_json
from hotline.services.accounts import access
from hotline.services.ticketing import attachments

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def form_flag(name: str) -> bool:
    raw = request.form.get(name, "").strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise ApiError(400, "invalid_input", _("“%(field)s” must be true or false.", field=name), field=name)


@bp.post("/tickets/<number>/attachments")
@api_roles()
def add_attachment(number: str) -> Response:
    user = api_user()
    ticket = access.ticket_for(user, number)  # 404 before anything is read
    if (request.content_length or 0) > attachments.request_limit():
        raise attachments.too_large()
    request.max_content_length = attachments.request_limit()  # a body without a length: cut there
    if not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", _("Send the file as multipart/form-data in the field “file”."), field="file"
        )
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "invalid_input", _("Send the file in the field “file”."), field="file")
    data = attachments.read_limited(upload.stream)
    attachment = attachments.add(
        user,
        ticket,
        data,
        filename=upload.filename or "",
        kind=request.form.get("kind", "").strip() or None,
        public=form_flag("public"),
    )
    location = url_for("api.get_attachment", number=ticket.number, attachment_id=attachment.id)
    return json_response(attachment_json(attachment), 201, {"Location": location})


@bp.get("/tickets/<number>/attachments/<int:attachment_id>")
@api_roles()
def get_attachment(number: str, attachment_id: int) -> Response:
    return _stream(number, attachment_id, thumbnail=False)


@bp.get("/tickets/<number>/attachments/<int:attachment_id>/thumbnail")
@api_roles()
def get_attachment_thumbnail(number: str, attachment_id: int) -> Response:
    return _stream(number, attachment_id, thumbnail=True)


def _stream(number: str, attachment_id: int, *, thumbnail: bool) -> Response:
    ticket = access.ticket_for(api_user(), number)
    attachment = attachments.find(ticket, attachment_id)
    if attachment is None:
        raise ApiError(404, "not_found", _("No attachment %(id)s on this ticket.", id=attachment_id))
    return attachments.file_response(attachment, thumbnail=thumbnail)
