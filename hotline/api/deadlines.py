"""The notices that deadline actions (延期, 催办: rows of api/actions.py) and the amber/red sweep
leave for staff."""

from __future__ import annotations

from flask import Response

from hotline.api import bp
from hotline.api.auth import api_roles, api_user
from hotline.api.responses import json_response
from hotline.api.serializers import notice_json
from hotline.models.types import utcnow
from hotline.services import notices


@bp.get("/notices")
@api_roles()
def list_notices() -> Response:
    return json_response([notice_json(notice) for notice in notices.notices_for(api_user(), utcnow())])
