"""The notices that deadline actions (延期, 催办: rows of api/actions.py) and the amber/red sweep
leave for staff; the schema writes them and describes them ("Notice")."""

from __future__ import annotations

from flask import Response
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Output, Time
from hotline.bounds import MAX_ID
from hotline.models.types import utcnow
from hotline.services.ticketing import notices


class NoticeSchema(Output):
    id = fields.Integer(required=True, metadata={"minimum": 1, "maximum": MAX_ID})
    kind = fields.String(required=True, metadata={"examples": ["urged", "extension_requested", "sla_red"]})
    body = fields.String(required=True)
    ticket = Code(key="number", required=True, allow_none=True)
    created_at = Time(required=True)
    show_from = Time(required=True, allow_none=True)


NOTICES = NoticeSchema(many=True)


@bp.get("/notices")
@api_roles()
def list_notices() -> Response:
    return json_response(NOTICES.dump(notices.notices_for(api_user(), utcnow())))
