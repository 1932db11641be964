"""Where it happened (issue 18): the open tickets near a point, and the gazetteer's search.

Described once: `NearbySchema` (its `NearbyTicket`s) and `PlacesSchema` (its `Place`s) write
the answers and are the document's components of those names."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Computed, Id, Output, Time
from hotline.models import Category, Status
from hotline.services.city import geo
from hotline.services.city.directory import id_by_code

LATITUDE = {"minimum": -90, "maximum": 90}
LONGITUDE = {"minimum": -180, "maximum": 180}


class NearbyTicketSchema(Output):
    """A ticket near the point (`geo.Near`)."""

    number = fields.String(required=True, attribute="ticket.number")
    status = fields.String(required=True, attribute="ticket.status", metadata={"enum": list(Status.ALL)})
    category = Code(required=True, attribute="ticket.category")
    district = Code(required=True, allow_none=True, attribute="ticket.district")
    address = fields.String(required=True, attribute="ticket.address")
    description = fields.String(required=True, attribute="ticket.description")
    lat = fields.Float(required=True, attribute="ticket.lat", metadata=LATITUDE)
    long = fields.Float(required=True, attribute="ticket.long", metadata=LONGITUDE)
    created_at = Time(required=True, attribute="ticket.created_at")
    distance_m = Computed(
        lambda near: round(near.distance_m, 1), required=True, metadata={"type": "number", "minimum": 0}
    )
    same_category = fields.Boolean(required=True)


class NearbySchema(Output):
    lat = fields.Float(required=True, metadata=LATITUDE)
    long = fields.Float(required=True, metadata=LONGITUDE)
    radius_m = fields.Integer(required=True, metadata={"minimum": 1})
    tickets = fields.List(fields.Nested(NearbyTicketSchema), required=True)


class PlaceSchema(Output):
    id = Id(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["road", "community", "landmark"]})
    lat = fields.Float(required=True, metadata=LATITUDE)
    long = fields.Float(required=True, metadata=LONGITUDE)
    district = Code(required=True, allow_none=True)
    district_name = Computed(
        lambda place: place.district.name if place.district else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    department = Code(required=True, allow_none=True)


class PlacesSchema(Output):
    places = fields.List(fields.Nested(PlaceSchema), required=True)


NEARBY = NearbySchema()
PLACES = PlacesSchema()


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
    return json_response(NEARBY.dump({"lat": point[0], "long": point[1], "radius_m": radius, "tickets": found}))


@bp.get("/places")
@api_roles()
def search_places() -> Response:
    """The gazetteer's entries whose name holds `q`, those starting with it first."""
    limit = query_int("limit", geo.PLACE_LIMIT, maximum=50)
    return json_response(PLACES.dump({"places": geo.search_places(request.args.get("q", ""), limit)}))


def _coordinate(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    return raw or None
