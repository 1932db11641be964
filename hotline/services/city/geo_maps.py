"""What the maps show (issue 18): the city's background (district outlines and the gazetteer's
places, drawn as vectors so that a map works offline), a desk's tickets with points, and the
hotspots placed where their tickets are. The web pages (hotline/web/maps.py) hand this to
static/map.js as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from hotline.extensions import db
from hotline.models import DistrictArea, Hotspot, HotspotStatus, HotspotTicket, Place, Status, Ticket, User
from hotline.services.accounts import access

MAX_TICKETS = 3_000  # a map of more dots than this says nothing more; the newest are shown


def background() -> dict[str, Any]:
    """District outlines as a GeoJSON FeatureCollection, and the gazetteer's places."""
    areas = db.session.scalars(select(DistrictArea).options(selectinload(DistrictArea.district)))
    features = [
        {
            "type": "Feature",
            "properties": {"code": area.district.code, "name": area.district.name},
            "geometry": area.geometry,
        }
        for area in areas
    ]
    places = [
        {"name": place.name, "kind": place.kind, "lat": place.lat, "long": place.long}
        for place in db.session.scalars(select(Place).order_by(Place.name))
    ]
    return {"districts": {"type": "FeatureCollection", "features": features}, "places": places}


@dataclass
class MapFilters:
    department_id: int | None = None
    category_id: int | None = None
    district_id: int | None = None
    open_only: bool = True


def filtered(statement: Select, filters: MapFilters | None) -> Select:
    """`statement` (of tickets) narrowed by the map's filters, the dashboard's (open ones only by default)."""
    filters = filters or MapFilters()
    if filters.open_only:
        statement = statement.where(Ticket.status.in_(Status.OPEN))
    if filters.department_id is not None:
        statement = statement.where(Ticket.department_id == filters.department_id)
    if filters.category_id is not None:
        statement = statement.where(Ticket.category_id == filters.category_id)
    if filters.district_id is not None:
        statement = statement.where(Ticket.district_id == filters.district_id)
    return statement


def tickets_on_map(viewer: User, filters: MapFilters | None = None) -> tuple[list[Ticket], bool]:
    """The tickets with a point that `viewer` may see (access's rule), newest first, at most
    MAX_TICKETS; and whether there were more."""
    statement = filtered(access.visible_tickets(viewer).where(Ticket.lat.is_not(None)), filters)
    statement = statement.options(selectinload(Ticket.category)).order_by(Ticket.id.desc()).limit(MAX_TICKETS + 1)
    found = list(db.session.scalars(statement))
    return found[:MAX_TICKETS], len(found) > MAX_TICKETS


def hotspots_on_map() -> list[dict[str, Any]]:
    """The active hotspots not dismissed, each at the mean point of its tickets that have one."""
    rows = db.session.execute(
        select(
            Hotspot,
            func.avg(Ticket.lat),
            func.avg(Ticket.long),
            func.count(Ticket.id),
        )
        .join(HotspotTicket, HotspotTicket.hotspot_id == Hotspot.id)
        .join(Ticket, Ticket.id == HotspotTicket.ticket_id)
        .where(Hotspot.active.is_(True), Hotspot.status != HotspotStatus.DISMISSED, Ticket.lat.is_not(None))
        .group_by(Hotspot.id)
        .order_by(Hotspot.ticket_count.desc())
        .limit(200)
    ).all()
    return [
        {
            "id": hotspot.id,
            "title": hotspot.title,
            "tickets": hotspot.ticket_count,
            "placed": placed,
            "lat": float(lat),
            "long": float(long),
        }
        for hotspot, lat, long, placed in rows
    ]
