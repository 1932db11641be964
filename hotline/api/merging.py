"""Duplicates (重复件): the likely ones for a ticket (merging is an action of api/actions.py)."""

from __future__ import annotations

from flask import Response

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.serializers import iso
from hotline.models import Role
from hotline.services.accounts import access
from hotline.services.ticketing import merging

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
