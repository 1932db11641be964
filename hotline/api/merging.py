"""Duplicates (重复件): the likely ones for a ticket, and merging a ticket into the one that answers for it."""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import expected_version, json_body, query_int, text
from hotline.api.responses import json_response
from hotline.api.serializers import iso, ticket_json
from hotline.models import Role
from hotline.services import access, merging
from hotline.services.errors import NotFound

# Duplicates show other callers' tickets: only for the roles that see every ticket.
SEES_ALL_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
MAX_DUPLICATES = 50


@bp.get("/tickets/<number>/duplicates")
@api_roles(*SEES_ALL_ROLES)
def duplicates(number: str) -> Response:
    limit = query_int("limit", 10, maximum=MAX_DUPLICATES)
    ticket = access.ticket_for(api_user(), number)
    found = merging.find_duplicates(
        api_user(),
        ticket.caller_phone,
        ticket.category,
        ticket.address,
        ticket.description,
        exclude_id=ticket.id,
        limit=limit,
    )
    return json_response(
        [
            {
                "number": likely.ticket.number,
                "status": likely.ticket.status,
                "reasons": likely.reasons,
                "similarity": round(likely.similarity, 3),
                "created_at": iso(likely.ticket.created_at),
            }
            for likely in found
        ]
    )


@bp.post("/tickets/<number>/merge")
@api_roles(*access.DISPATCH_ROLES)
def merge(number: str) -> Response:
    body = json_body(("into", "version"))
    into, version = text(body, "into", required=True), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    try:
        merging.merge_into(api_user(), ticket, into, expected_version=version)
    except NotFound:
        # The ticket in the address exists (it was loaded above): it is the one named in the body that does not.
        raise ApiError(
            400, "invalid_input", _("No ticket %(number)s to merge into.", number=into), field="into"
        ) from None
    return json_response(ticket_json(ticket, api_user()))
