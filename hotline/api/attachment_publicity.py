"""Marking a ticket's photo public or not (issue 18 item 5):
PATCH /tickets/<number>/attachments/<id> with {"public": true|false}. The rules (who may, photos
only) are in services/ticketing/attachment_publicity.py; a ticket the caller may not see is a 404,
as everywhere (access.ticket_for)."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Flag, Output, Time, load
from hotline.models import Attachment, AttachmentKind
from hotline.services.accounts import access
from hotline.services.ticketing import attachment_publicity


class AttachmentPublicSchema(Body):
    public = Flag(
        required=True,
        metadata={"description": "Shown to the public (Open311 media_url, the public board); photos only."},
    )


class AttachmentUrl(fields.String):
    """Where the attachment's file streams (`GET` it with the same token)."""

    def _serialize(self, value: Any, attr: str | None, obj: Attachment, **kwargs: Any) -> str:
        return url_for("api.get_attachment", number=obj.ticket.number, attachment_id=obj.id)


class AttachmentStateSchema(Output):
    """An attachment as the ticket lists it, and whether it is public."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(AttachmentKind.ALL)})
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    created_at = Time(required=True)
    url = AttachmentUrl(required=True, attribute="id", dump_only=True)
    public = fields.Boolean(required=True)


PUBLIC_BODY = AttachmentPublicSchema()
ATTACHMENT_STATE = AttachmentStateSchema()


@bp.patch("/tickets/<number>/attachments/<int:attachment_id>")
@api_roles()
def set_attachment_public(number: str, attachment_id: int) -> Response:
    user = api_user()
    ticket = access.ticket_for(user, number)
    body: dict[str, Any] = load(PUBLIC_BODY)
    attachment = attachment_publicity.set_public(user, ticket, attachment_id, body["public"])
    return json_response(ATTACHMENT_STATE.dump(attachment))
