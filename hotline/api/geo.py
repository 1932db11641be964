"""Where it happened (issue 18): the open tickets near a point, and the gazetteer's search."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.serializers import iso
from hotline.models import Category
from hotline.services.city import geo
from hotline.services.city.directory import id_by_code


@bp.get("/tickets/nearby")
@api_roles()
def nearby_tickets() -> Response:
    """Open tickets within `radius_m` (default 100, at most 2,000) of `lat`/`long` that the
    caller may see, those of `category` first, then the nearest."""
    point = geo.checked_point(_coordinate("lat"), _coordinate("long"))
    if point is None:
        raise ApiError(400, "invalid_input", _("lat and long are required."), field="lat")
    radius = query_int("radius_m", geo.DEFAULT_RADIUS_M, maximum=geo.MAX_RADIUS_M)
    category_id = id_by_code(Category, request.args.get("category", "").strip() or None, "category")
    found = geo.nearby(api_user(), *point, radius_m=radius, category_id=category_id)
    return json_response(
        {
            "lat": point[0],
            "long": point[1],
            "radius_m": radius,
            "tickets": [near_json(near) for near in found],
        }
    )


def near_json(near: geo.Near) -> dict[str, Any]:
    ticket = near.ticket
    return {
        "number": ticket.number,
        "status": ticket.status,
        "category": ticket.category.code,
        "district": ticket.district.code if ticket.district else None,
        "address": ticket.address,
        "description": ticket.description,
        "lat": ticket.lat,
        "long": ticket.long,
        "created_at": iso(ticket.created_at),
        "distance_m": round(near.distance_m, 1),
        "same_category": near.same_category,
    }


@bp.get("/places")
@api_roles()
def search_places() -> Response:
    """The gazetteer's entries whose name holds `q`, those starting with it first."""
    limit = query_int("limit", geo.PLACE_LIMIT, maximum=50)
    return json_response({"places": [geo.place_json(p) for p in geo.search_places(request.args.get("q", ""), limit)]})


def _coordinate(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    return raw or None
