"""Hotspot areas (热点区域, issue 18 item 4): supervisors draw a polygon on their map, name it, and
see the open tickets inside it counted and listed, with the dashboard's filters.

The tickets inside are found in two steps: the area's bounding box in SQL (through the grid
cells of services/city/geo.py, indexed with the status, one index range per row of cells), then
the exact test with shapely on the few columns read, as the nearby tickets are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from shapely import prepared
from shapely.geometry import Point, Polygon, mapping, shape
from shapely.ops import unary_union
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import DistrictArea, HotspotArea, Ticket, User
from hotline.services.accounts import access
from hotline.services.city import geo, geo_maps
from hotline.services.errors import InvalidInput, NotFound

NAME_MAX = 120
MAX_POINTS = 500
LISTED = 100  # the newest tickets listed under the count
CANDIDATES = 50_000  # tickets read from the box at most: the count says "at least" beyond
MAX_CELL_ROWS = 200  # a box taller than this (~22 km) is read by latitude and longitude alone
# A vertex clicked on the city's edge may land a hair outside it: about 10 cm is let pass.
EDGE_TOLERANCE = 1e-6
MIN_AREA = 1e-10  # square degrees, about a square metre: three points on a line have none


@dataclass
class AreaTickets:
    count: int
    tickets: list[Ticket]  # the newest LISTED of them
    at_least: bool = False  # more than CANDIDATES in the box: the count is a lower bound


def checked_polygon(points: Any) -> Polygon:
    """The polygon of `points`, a list of [lat, long] pairs (WGS84): at least 3 distinct points,
    edges that do not cross, inside the city's districts once they are loaded. Raises InvalidInput."""
    if not isinstance(points, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in points):
        raise InvalidInput(_("Draw the area: a list of points, each a latitude and a longitude."), field="points")
    if len(points) > MAX_POINTS:
        raise InvalidInput(_("An area has at most %(n)d points.", n=MAX_POINTS), field="points")
    corners: list[tuple[float, float]] = []
    for number, (lat, long) in enumerate(points, 1):
        try:
            point = geo.checked_point(lat, long)
        except InvalidInput as error:
            raise InvalidInput(_("Point %(n)d: %(error)s", n=number, error=error.message), field="points") from None
        if point is None:
            raise InvalidInput(_("Point %(n)d has no latitude and longitude.", n=number), field="points")
        if not corners or corners[-1] != point:
            corners.append(point)
    if len(corners) > 1 and corners[0] == corners[-1]:
        corners.pop()  # the ring closed by hand
    if len(set(corners)) < 3:
        raise InvalidInput(_("An area needs at least 3 different points."), field="points")
    polygon = Polygon([(long, lat) for lat, long in corners])
    if not polygon.is_valid or polygon.area < MIN_AREA:
        raise InvalidInput(
            _("The area’s edges cross each other (or it has no surface): draw it again without crossing lines."),
            field="points",
        )
    outlines = [shape(geometry) for geometry in db.session.scalars(select(DistrictArea.geometry))]
    if outlines and not unary_union(outlines).buffer(EDGE_TOLERANCE).covers(polygon):
        raise InvalidInput(_("The area goes outside the city’s districts: draw it inside them."), field="points")
    return polygon


def save_area(actor: User, name: str, points: Any) -> HotspotArea:
    """Name and keep an area drawn by a supervisor. Raises InvalidInput, PermissionDenied."""
    access.require_role(actor, *access.SUPERVISE_ROLES)
    title = (name or "").strip() if isinstance(name, str) else ""
    if not title:
        raise InvalidInput(_("Name the area."), field="name")
    if len(title) > NAME_MAX:
        raise InvalidInput(_("The name is longer than %(n)d characters.", n=NAME_MAX), field="name")
    polygon = checked_polygon(points)
    min_long, min_lat, max_long, max_lat = polygon.bounds
    area = HotspotArea(
        name=title,
        geometry=mapping(polygon),
        min_lat=min_lat,
        min_long=min_long,
        max_lat=max_lat,
        max_long=max_long,
        created_by_id=actor.id,
    )
    db.session.add(area)
    db.session.commit()
    return area


def delete_area(actor: User, area: HotspotArea) -> None:
    access.require_role(actor, *access.SUPERVISE_ROLES)
    db.session.delete(area)
    db.session.commit()


def list_areas() -> list[HotspotArea]:
    return list(db.session.scalars(select(HotspotArea).order_by(HotspotArea.name, HotspotArea.id)))


def get_area(area_id: int) -> HotspotArea:
    area = db.session.get(HotspotArea, area_id)
    if area is None:
        raise NotFound(_("No area %(id)s.", id=area_id))
    return area


def area_json(area: HotspotArea) -> dict[str, Any]:
    return {"id": area.id, "name": area.name, "geometry": area.geometry}


def _in_box(area: HotspotArea):
    """The SQL condition of the area's bounding box: the grid cells' index ranges (one per row
    of cells) and the exact box, or the box alone for an area taller than MAX_CELL_ROWS rows."""
    box = and_(
        Ticket.lat.between(area.min_lat, area.max_lat),
        Ticket.long.between(area.min_long, area.max_long),
    )
    ranges = geo.box_ranges(area.min_lat, area.min_long, area.max_lat, area.max_long)
    if len(ranges) > MAX_CELL_ROWS:
        return box
    return and_(or_(*(Ticket.geo_cell.between(first, last) for first, last in ranges)), box)


def tickets_in(viewer: User, area: HotspotArea, filters: geo_maps.MapFilters | None = None) -> AreaTickets:
    """The tickets inside the area that `viewer` may see (access's rule), with the map's filters
    (open ones only by default): how many, and the newest LISTED of them."""
    statement = geo_maps.filtered(
        access.visible_tickets(viewer).with_only_columns(Ticket.id, Ticket.lat, Ticket.long), filters
    )
    statement = statement.where(_in_box(area)).limit(CANDIDATES + 1)
    rows = db.session.execute(statement).all()
    at_least = len(rows) > CANDIDATES
    polygon = prepared.prep(shape(area.geometry))
    inside = sorted(
        (ticket_id for ticket_id, lat, long in rows[:CANDIDATES] if polygon.covers(Point(long, lat))), reverse=True
    )
    listed = (
        list(
            db.session.scalars(
                select(Ticket)
                .where(Ticket.id.in_(inside[:LISTED]))
                .options(selectinload(Ticket.category), selectinload(Ticket.department))
                .order_by(Ticket.id.desc())
            )
        )
        if inside
        else []
    )
    return AreaTickets(len(inside), listed, at_least)
