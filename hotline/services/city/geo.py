"""Where it happened (issue 18): a ticket's point, the district it lies in, the gazetteer, and
the open tickets near a point. Offline: district outlines and the gazetteer are loaded by an
administrator (services/city/geo_files.py); nothing calls an online geocoder.

Tickets near a point are found through a grid: each ticket with a point stores its cell
(`cell_of`: 0.001° of latitude by 0.001° of longitude, about 111 m by 90 m here), indexed with
the status, so that a radius of 100 m reads a few index ranges (one per row of cells) whatever
the number of tickets; the exact distance (haversine) is then measured in Python. One statement
reads every row's range, keeps the circle's box and applies the viewer's rule (`nearby`): a
round trip to the database costs more than the few candidates outside the circle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from shapely.geometry import Point, shape
from sqlalchemy import Select, case, func, literal, or_, select
from sqlalchemy.orm import joinedload

from hotline.extensions import db
from hotline.models import DistrictArea, Place, Status, Ticket, User
from hotline.services.accounts import access
from hotline.services.errors import InvalidInput

CELL_DEGREES = 0.001
_COLUMNS = 360_000  # cells in a row of latitude: 360° / 0.001°
EARTH_RADIUS_M = 6_371_008.8
DEFAULT_RADIUS_M = 100
MAX_RADIUS_M = 2_000  # up to ~37 rows of cells: still a few index ranges
NEARBY_LIMIT = 50
CANDIDATES = 5_000  # open tickets read around a point at most (a radius of 2 km in a busy centre)
PLACE_LIMIT = 10
WHOLE_ROWS_RADIUS_M = 250  # up to here, the candidates are read whole in one statement (few of them)
BOX_MARGIN = 1e-7  # degrees (~1 cm) around the circle's box: a point on its edge is not lost to rounding


def cell_of(lat: float, long: float) -> int:
    """The point's grid cell: a row of latitude times the columns, plus its column."""
    row = math.floor((lat + 90) / CELL_DEGREES)
    column = math.floor((long + 180) / CELL_DEGREES)
    return row * _COLUMNS + column


def point_values(lat: float | None, long: float | None) -> dict[str, Any]:
    """A ticket's columns for its point (none given: all null)."""
    if lat is None or long is None:
        return {"lat": None, "long": None, "geo_cell": None}
    return {"lat": lat, "long": long, "geo_cell": cell_of(lat, long)}


def checked_point(lat: Any, long: Any) -> tuple[float, float] | None:
    """Latitude and longitude as numbers in range (WGS84), both or neither. Raises InvalidInput."""
    if lat is None and long is None:
        return None
    if lat is None or long is None:
        raise InvalidInput(_("lat and long go together: give both or neither."), field="lat" if lat is None else "long")
    try:
        if isinstance(lat, bool) or isinstance(long, bool):
            raise TypeError
        latitude, longitude = float(lat), float(long)
    except (TypeError, ValueError):
        latitude = longitude = math.nan
    if not (-90 <= latitude <= 90):
        raise InvalidInput(_("lat must be a number from -90 to 90."), field="lat")
    if not (-180 <= longitude <= 180):
        raise InvalidInput(_("long must be a number from -180 to 180."), field="long")
    return latitude, longitude


def districts_loaded() -> bool:
    return db.session.scalar(select(DistrictArea.id).limit(1)) is not None


def district_at(lat: float, long: float) -> int | None:
    """The id of the district whose outline holds the point, if any (its edge counts as inside)."""
    boxes = db.session.execute(
        select(DistrictArea.district_id, DistrictArea.geometry).where(
            DistrictArea.min_lat <= lat,
            DistrictArea.max_lat >= lat,
            DistrictArea.min_long <= long,
            DistrictArea.max_long >= long,
        )
    ).all()
    point = Point(long, lat)
    for district_id, geometry in boxes:
        if shape(geometry).covers(point):
            return district_id
    return None


def locate(lat: float, long: float) -> int | None:
    """The point's district; a point outside every district is refused once districts are
    loaded (a typo in a coordinate would send the ticket nowhere). Raises InvalidInput."""
    district_id = district_at(lat, long)
    if district_id is None and districts_loaded():
        raise InvalidInput(
            _("The point (%(lat).6f, %(long).6f) is outside the city's districts.", lat=lat, long=long), field="lat"
        )
    return district_id


def search_places(query: str, limit: int = PLACE_LIMIT) -> list[Place]:
    """Gazetteer entries whose name holds `query`, those that start with it first, then the shortest."""
    words = (query or "").strip()
    if not words:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    starts = case((Place.name.like(words.replace("%", "") + "%"), 0), else_=1)
    statement = (
        select(Place)
        .where(Place.name.like(pattern, escape="\\"))
        .order_by(starts, func.length(Place.name), Place.name)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def match_address(address: str) -> Place | None:
    """The gazetteer entry an address names (Open311's address_string): the longest place
    name found in the address, else the first entry whose name holds the address."""
    text = (address or "").strip()
    if not text:
        return None
    named = db.session.scalars(
        select(Place).where(literal(text).contains(Place.name)).order_by(func.length(Place.name).desc()).limit(1)
    ).first()
    if named is not None:
        return named
    found = search_places(text, 1)
    return found[0] if found else None


def place_json(place: Place) -> dict[str, Any]:
    return {
        "id": place.id,
        "name": place.name,
        "kind": place.kind,
        "lat": place.lat,
        "long": place.long,
        "district": place.district.code if place.district else None,
        "district_name": place.district.name if place.district else None,
        "department": place.department.code if place.department else None,
    }


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """The great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(long2 - long1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, long: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_long, max_lat, max_long) of a box that holds the circle of `radius_m`."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(min(89.0, abs(lat) + d_lat))), 1e-6)
    d_long = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return max(-90.0, lat - d_lat), max(-180.0, long - d_long), min(90.0, lat + d_lat), min(180.0, long + d_long)


def cell_ranges(lat: float, long: float, radius_m: float) -> list[tuple[int, int]]:
    """The (first, last) cells of each row of the grid that a circle of `radius_m` can touch."""
    return box_ranges(*bounding_box(lat, long, radius_m))


def box_ranges(min_lat: float, min_long: float, max_lat: float, max_long: float) -> list[tuple[int, int]]:
    """The (first, last) cells of each row of the grid that a bounding box covers."""
    first_row = math.floor((min_lat + 90) / CELL_DEGREES)
    last_row = math.floor((max_lat + 90) / CELL_DEGREES)
    first_column = math.floor((min_long + 180) / CELL_DEGREES)
    last_column = math.floor((max_long + 180) / CELL_DEGREES)
    return [(row * _COLUMNS + first_column, row * _COLUMNS + last_column) for row in range(first_row, last_row + 1)]


@dataclass
class Near:
    ticket: Ticket
    distance_m: float
    same_category: bool


def nearby(
    actor: User,
    lat: float,
    long: float,
    *,
    radius_m: float = DEFAULT_RADIUS_M,
    category_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = NEARBY_LIMIT,
) -> list[Near]:
    """The open tickets within `radius_m` of the point that `actor` may see (access's rule:
    confidential tickets hidden as everywhere), those of `category_id` first, then the nearest."""
    statement = _visible_near(actor, lat, long, radius_m, exclude_id)
    if radius_m <= WHOLE_ROWS_RADIUS_M:
        # A small circle holds few candidates: read them whole, with their category and district,
        # in this one statement (a round trip costs more than the few rows outside the circle).
        whole = statement.options(joinedload(Ticket.category), joinedload(Ticket.district))
        candidates = [(ticket, ticket.lat, ticket.long, ticket.category_id) for ticket in db.session.scalars(whole)]
        kept = _nearest(lat, long, radius_m, category_id, limit, candidates)
        return [Near(ticket, metres, not other) for other, metres, _id, ticket in kept]
    # A wide one may hold thousands: the few columns measured first, then only the tickets kept
    # are loaded whole (building objects for every candidate would cost most).
    narrow = statement.with_only_columns(Ticket.id, Ticket.lat, Ticket.long, Ticket.category_id)
    kept = _nearest(lat, long, radius_m, category_id, limit, db.session.execute(narrow))
    if not kept:
        return []
    loaded = {
        ticket.id: ticket
        for ticket in db.session.scalars(
            select(Ticket)
            .where(Ticket.id.in_([ticket_id for _, _, ticket_id, _ in kept]))
            .options(joinedload(Ticket.category), joinedload(Ticket.district))
        )
    }
    return [Near(loaded[ticket_id], metres, not other) for other, metres, ticket_id, _ in kept]


def _visible_near(actor: User, lat: float, long: float, radius_m: float, exclude_id: int | None) -> Select:
    """The open tickets in the circle's box that `actor` may see, in one statement: every row of
    cells read at once (the index (geo_cell, status)), the box and the viewer's rule applied in
    the database (PostgreSQL: a BitmapOr of the rows' ranges, the rest a filter)."""
    min_lat, min_long, max_lat, max_long = bounding_box(lat, long, radius_m)
    in_cells = or_(
        *(Ticket.geo_cell.between(first, last) for first, last in box_ranges(min_lat, min_long, max_lat, max_long))
    )
    in_box = (
        in_cells,
        Ticket.status.in_(Status.OPEN),
        Ticket.lat.between(min_lat - BOX_MARGIN, max_lat + BOX_MARGIN),
        Ticket.long.between(min_long - BOX_MARGIN, max_long + BOX_MARGIN),
    )
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite's planner, given the rule beside the cells, may walk all of a department's open
        # tickets (ix_ticket_department_status: 39 ms instead of 3 at 1 M tickets, more at 2 km,
        # benchmarks/nearby.py): the box's tickets first, as a MATERIALIZED CTE, then the rule on
        # them. PostgreSQL plans the plain form well, and the CTE would cost it a lookup per row.
        box = select(Ticket.id).where(*in_box).limit(CANDIDATES).cte("near_point").prefix_with("MATERIALIZED")
        in_box = (Ticket.id.in_(select(box.c.id)),)
    statement = access.visible_tickets(actor).where(*in_box).limit(CANDIDATES)
    if exclude_id is not None:
        statement = statement.where(Ticket.id != exclude_id)
    return statement


def _nearest(
    lat: float, long: float, radius_m: float, category_id: int | None, limit: int, candidates: Iterable[Any]
) -> list[tuple[bool, float, int, Any]]:
    """The candidates (each: its ticket or id, lat, long, category) within the radius, those of
    `category_id` first, then the nearest: (other category, metres, id, ticket or id), `limit` of them."""
    measured = []
    for ticket, ticket_lat, ticket_long, ticket_category in candidates:
        metres = distance_m(lat, long, ticket_lat, ticket_long)
        if metres <= radius_m:
            same = category_id is not None and ticket_category == category_id
            measured.append((not same, metres, ticket if isinstance(ticket, int) else ticket.id, ticket))
    measured.sort(key=lambda entry: entry[:3])
    return measured[:limit]
