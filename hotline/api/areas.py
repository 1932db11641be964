"""Hotspot areas (issue 18 item 4), the API's part: the areas supervisors draw on their map.

- `GET /areas`: the saved areas; `POST /areas` `{"name", "points": [[lat, long], ...]}` saves one
  (400 in words for fewer than 3 points, crossing edges or a polygon outside the city);
- `GET /areas/<id>/tickets?department=&category=&district=&scope=open|all`: the tickets inside,
  counted, the newest listed, with the map's filters;
- `DELETE /areas/<id>`.
The rules are in `services/city/areas.py`; the page is /maps/city (web/map_areas.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError, fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Output, Text, Time, load
from hotline.models import Category, Department, District
from hotline.services.accounts import access
from hotline.services.city import areas, geo_maps
from hotline.services.city.directory import by_code


class Points(fields.List):
    """The polygon's corners, [lat, long] pairs (WGS84); the service checks them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.List(fields.Float()), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValidationError(_("Draw the area: a list of points, each a latitude and a longitude."))
        return value


class AreaBody(Body):
    name = Text(required=True, metadata={"description": "Not blank, at most 120 characters."})
    points = Points(
        required=True,
        metadata={
            "description": "At least 3 corners, [lat, long] each, in order; edges must not cross; inside the city."
        },
    )


class AreaSchema(Output):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    geometry = fields.Dict(required=True, metadata={"description": "A GeoJSON Polygon ([long, lat] pairs)."})
    created_at = Time(required=True)


class AreaTicketSchema(Output):
    number = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True)
    lat = fields.Float(required=True)
    long = fields.Float(required=True)


class AreaTicketsSchema(Output):
    area = fields.Nested(AreaSchema, required=True)
    count = fields.Integer(required=True, metadata={"description": "The tickets inside, under the filters."})
    at_least = fields.Boolean(required=True, metadata={"description": "True: more were in the box than read."})
    tickets = fields.List(fields.Nested(AreaTicketSchema), required=True, metadata={"description": "The newest 100."})


class AreaListSchema(Output):
    areas = fields.List(fields.Nested(AreaSchema), required=True)


AREA_BODY = AreaBody()
AREA = AreaSchema()
AREA_LIST = AreaListSchema()
AREA_TICKETS = AreaTicketsSchema()


@bp.get("/areas")
@api_roles(*access.SUPERVISE_ROLES)
def list_areas() -> Response:
    return json_response(AREA_LIST.dump({"areas": areas.list_areas()}))


@bp.post("/areas")
@api_roles(*access.SUPERVISE_ROLES)
def create_area() -> Response:
    body = load(AREA_BODY)
    area = areas.save_area(api_user(), body["name"], body["points"])
    return json_response(AREA.dump(area), 201, {"Location": url_for("api.area_tickets", area_id=area.id)})


@bp.get("/areas/<int:area_id>/tickets")
@api_roles(*access.SUPERVISE_ROLES)
def area_tickets(area_id: int) -> Response:
    """The tickets inside the area that the caller may see, with the map's filters."""
    area = areas.get_area(area_id)
    found = areas.tickets_in(api_user(), area, _filters())
    return json_response(
        AREA_TICKETS.dump(
            {
                "area": area,
                "count": found.count,
                "at_least": found.at_least,
                "tickets": [
                    {
                        "number": t.number,
                        "status": t.status,
                        "category": t.category.code,
                        "lat": t.lat,
                        "long": t.long,
                    }
                    for t in found.tickets
                ],
            }
        )
    )


@bp.delete("/areas/<int:area_id>")
@api_roles(*access.SUPERVISE_ROLES)
def delete_area(area_id: int) -> Response:
    areas.delete_area(api_user(), areas.get_area(area_id))
    return Response(status=204)


def _filters() -> geo_maps.MapFilters:
    """The map's filters from the query: codes (an unknown one is a 400), and the scope."""
    scope = request.args.get("scope", "open")
    if scope not in ("open", "all"):
        raise ApiError(400, "invalid_input", _("“scope” must be open or all."), field="scope")
    filters = geo_maps.MapFilters(open_only=scope == "open")
    for name, model in (("department", Department), ("category", Category), ("district", District)):
        row = by_code(model, (request.args.get(name) or "").strip()[:64] or None, name)
        setattr(filters, f"{name}_id", row.id if row is not None else None)
    return filters
