"""Hotspot areas (issue 18 item 4): a supervisor's polygon, checked (3 points or more, no crossing
edges, inside the city), kept, and the tickets inside it counted and listed with the map's filters:
the bounding box in SQL, then the exact test."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import HotspotArea
from hotline.services.city import areas, geo_maps
from hotline.services.errors import InvalidInput, NotFound, PermissionDenied
from tests import factories, geo_city

# A triangle in the east district: its corner at 人民路 (39.91, 116.41) is the right angle.
TRIANGLE = [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]


def area_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HotspotArea))


def ticket_at(city, lat, long, **fields):
    return factories.make_routed_ticket(city.operator, lat=lat, long=long, **fields)


def test_the_tickets_inside_are_counted_and_listed_with_the_filters(city):
    geo_city.load()
    area = areas.save_area(city.supervisor, " 人民路坑洼 ", TRIANGLE)
    assert (area.name, area.created_by_id) == ("人民路坑洼", city.supervisor.id)
    assert (area.min_lat, area.max_lat, area.min_long, area.max_long) == (39.905, 39.915, 116.405, 116.415)
    inside = [ticket_at(city, 39.906, 116.406), ticket_at(city, 39.908, 116.408, category="water-supply")]
    in_the_box_not_the_triangle = ticket_at(city, 39.914, 116.414)
    outside = ticket_at(city, 39.918, 116.418)
    closed = factories.make_ticket(
        city.operator, type="consultation", direct_answer="已解答", lat=39.907, long=116.407, category="other"
    )
    no_point = ticket_at(city, None, None)

    found = areas.tickets_in(city.supervisor, area)
    assert found.count == 2 and not found.at_least
    assert [t.number for t in found.tickets] == [inside[1].number, inside[0].number]  # the newest first
    for ticket in (in_the_box_not_the_triangle, outside, closed, no_point):
        assert ticket.number not in {t.number for t in found.tickets}

    everything = areas.tickets_in(city.supervisor, area, geo_maps.MapFilters(open_only=False))
    assert everything.count == 3 and closed.number in {t.number for t in everything.tickets}
    water = areas.tickets_in(city.supervisor, area, geo_maps.MapFilters(category_id=city.water_supply.id))
    assert [t.number for t in water.tickets] == [inside[1].number]
    roads = areas.tickets_in(city.supervisor, area, geo_maps.MapFilters(department_id=city.roads.id))
    assert [t.number for t in roads.tickets] == [inside[0].number]
    # Whoever looks sees only what they may: the water department its own ticket.
    assert [t.number for t in areas.tickets_in(city.water_staff, area).tickets] == [inside[1].number]

    assert [a.id for a in areas.list_areas()] == [area.id]
    areas.delete_area(city.supervisor, area)
    assert area_count() == 0
    with pytest.raises(NotFound):
        areas.get_area(area.id)


def test_a_vertex_on_the_edge_counts_and_the_ring_may_be_closed_by_hand(city):
    geo_city.load()
    # The whole east district, drawn along its outline and closed on the first point again.
    east = [[39.90, 116.40], [39.90, 116.42], [39.92, 116.42], [39.92, 116.40], [39.90, 116.40]]
    area = areas.save_area(city.supervisor, "东城区", east)
    assert len(area.geometry["coordinates"][0]) == 5  # four corners and the closing one
    on_the_edge = ticket_at(city, 39.90, 116.41)
    assert areas.tickets_in(city.supervisor, area).count == 1
    assert areas.tickets_in(city.supervisor, area).tickets[0].number == on_the_edge.number


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([[39.905, 116.405], [39.906, 116.406]], "at least 3"),
        ([[39.905, 116.405], [39.905, 116.405], [39.906, 116.406], [39.905, 116.405]], "at least 3"),
        # a bow tie: its edges cross
        ([[39.905, 116.405], [39.915, 116.415], [39.905, 116.415], [39.915, 116.405]], "cross"),
        ([[39.905, 116.405], [39.906, 116.406], [39.907, 116.407]], "no surface"),  # on one line
        ([[39.905, 116.405], [39.905, 116.43], [39.915, 116.405]], "outside the city"),  # past the east edge
        ([[31.20, 121.40], [31.20, 121.50], [31.30, 121.40]], "outside the city"),
        ([[39.905, "east"], [39.905, 116.415], [39.915, 116.405]], "must be a number"),
        ([[39.905, 116.405, 3], [39.905, 116.415], [39.915, 116.405]], "a list of points"),
        ("39.9,116.4", "a list of points"),
    ],
)
def test_a_bad_polygon_is_refused_in_words_and_nothing_is_kept(city, points, message):
    geo_city.load()
    with force_locale("en"), pytest.raises(InvalidInput) as error:
        areas.save_area(city.supervisor, "坏区域", points)
    assert message in error.value.message and error.value.field == "points"
    assert area_count() == 0


def test_a_name_is_needed_and_only_supervisors_draw(city):
    geo_city.load()
    for name in ("", "   ", "区" * 121, None):
        with pytest.raises(InvalidInput) as error:
            areas.save_area(city.supervisor, name, TRIANGLE)
        assert error.value.field == "name"
    for user in (city.operator, city.dispatcher, city.roads_staff):
        with pytest.raises(PermissionDenied):
            areas.save_area(user, "人民路", TRIANGLE)
    assert area_count() == 0


def test_without_districts_loaded_any_polygon_in_range_is_kept(city):
    area = areas.save_area(city.admin, "上海", [[31.20, 121.40], [31.20, 121.50], [31.30, 121.40]])
    assert areas.tickets_in(city.admin, area).count == 0
