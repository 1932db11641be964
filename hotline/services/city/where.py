"""What a point says about where it happened (issue 18 item 2): its district (the outline that
holds it) and the gazetteer place at or nearest it, with the unit that handles that place (the
street office, 街道). The intake form shows them when the operator clicks the map, and routing
rules may send a ticket by the place's unit (services/dispatch/routing.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import Department, District, Place
from hotline.services.city import geo

# A click on the map, or a point given over the API, names the nearest place within this
# distance: about a block; a picked gazetteer place is at distance 0.
PLACE_NEAR_M = 200


@dataclass
class Where:
    district: District | None
    place: Place | None  # the nearest gazetteer place that has a handling unit, within PLACE_NEAR_M
    distance_m: float | None

    @property
    def unit(self) -> Department | None:
        return self.place.department if self.place is not None else None


def handling_place(lat: float, long: float, radius_m: float = PLACE_NEAR_M) -> tuple[Place, float] | None:
    """The nearest gazetteer place with a handling unit within `radius_m` of the point, read
    from the places in the point's bounding box (a gazetteer holds thousands, not millions)."""
    d_lat = math.degrees(radius_m / geo.EARTH_RADIUS_M)
    d_long = d_lat / max(math.cos(math.radians(min(89.0, abs(lat)))), 1e-6)
    candidates = db.session.scalars(
        select(Place)
        .where(
            Place.department_id.is_not(None),
            Place.lat.between(lat - d_lat, lat + d_lat),
            Place.long.between(long - d_long, long + d_long),
        )
        .options(selectinload(Place.department))
    )
    best: tuple[Place, float] | None = None
    for place in candidates:
        metres = geo.distance_m(lat, long, place.lat, place.long)
        if metres <= radius_m and (best is None or (metres, place.id) < (best[1], best[0].id)):
            best = (place, metres)
    return best


def handling_unit_id(lat: float | None, long: float | None) -> int | None:
    """The id of the unit handling the place where the point lies; None without a point or place."""
    if lat is None or long is None:
        return None
    found = handling_place(lat, long)
    return found[0].department_id if found is not None else None


def describe(lat: float, long: float) -> Where:
    """The point's district (None outside every outline) and its handling place."""
    district_id = geo.district_at(lat, long)
    district = db.session.get(District, district_id) if district_id is not None else None
    found = handling_place(lat, long)
    return Where(district, found[0] if found else None, found[1] if found else None)
