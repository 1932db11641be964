"""Duplicates (重复件): the likely ones for a ticket (merging is an action of api/actions.py).

Described once: `DuplicateSchema` writes one (`merging.Likely`) and is the document's `Duplicate`."""

from __future__ import annotations

from flask import Response
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.schemas import Computed, Output, Time
from hotline.models import Role, Status
from hotline.services.accounts import access
from hotline.services.ticketing import merging

# Duplicates show other callers' tickets: only for the roles that see every ticket.
SEES_ALL_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
MAX_DUPLICATES = 50


class DuplicateSchema(Output):
    number = fields.String(required=True, attribute="ticket.number")
    status = fields.String(required=True, attribute="ticket.status", metadata={"enum": list(Status.ALL)})
    reasons = fields.List(fields.String(metadata={"enum": ["same_phone", "same_place", "similar_text"]}), required=True)
    similarity = Computed(
        lambda likely: round(likely.similarity, 3),
        required=True,
        metadata={"type": "number", "minimum": 0, "maximum": 1},
    )
    created_at = Time(required=True, attribute="ticket.created_at")


DUPLICATES = DuplicateSchema(many=True)


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
    return json_response(DUPLICATES.dump(found))
