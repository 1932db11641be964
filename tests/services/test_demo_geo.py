"""The demo city's geography (issue 18): its districts' outlines and gazetteer load with it, and
its tickets with an address carry a point inside their district, so every map has something."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.demo import demo
from hotline.extensions import db
from hotline.models import DistrictArea, Place, Ticket
from hotline.services.city import geo


def test_the_demo_city_ships_a_geography_and_its_tickets_have_points():
    demo.seed_demo(ticket_count=60)
    assert db.session.scalar(select(func.count()).select_from(DistrictArea)) == len(demo.DISTRICTS)
    assert db.session.scalar(select(func.count()).select_from(Place)) == 30
    placed = list(db.session.scalars(select(Ticket).where(Ticket.lat.is_not(None))))
    assert len(placed) > 30
    for ticket in placed:
        assert geo.district_at(ticket.lat, ticket.long) == ticket.district_id
        assert ticket.geo_cell == geo.cell_of(ticket.lat, ticket.long)
    for place in db.session.scalars(select(Place)):
        assert geo.district_at(place.lat, place.long) == place.district_id, place.name
