"""Geography (issue 18): loading district outlines and the gazetteer, a point's district, and the
open tickets near a point within the viewer's rights."""

from __future__ import annotations

import io
import json
import math

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import DistrictArea, Place, Ticket
from hotline.services.city import geo, geo_files
from hotline.services.errors import InvalidInput
from tests import factories, geo_city


def metres_east(lat: float, long: float, metres: float) -> tuple[float, float]:
    return lat, long + math.degrees(metres / (geo.EARTH_RADIUS_M * math.cos(math.radians(lat))))


def test_districts_and_places_load_and_a_point_names_its_district(city):
    geo_city.load()
    assert db.session.scalar(select(func.count()).select_from(DistrictArea)) == 2
    assert geo.district_at(*geo_city.EAST) == city.east.id
    assert geo.district_at(*geo_city.WEST) == city.west.id
    assert geo.district_at(*geo_city.OUTSIDE) is None
    road = db.session.scalars(select(Place).where(Place.name == "人民路")).one()
    assert (road.kind, road.district_id, road.department_id) == ("road", city.east.id, city.roads.id)


def test_loading_again_updates_rather_than_doubles(city):
    geo_city.load()
    moved = geo_city.PLACES.replace("39.9100,116.4100,east,roads", "39.9120,116.4120,east,water")
    result = geo_files.load_places(io.StringIO(moved))
    assert (result.created, result.updated, result.errors) == (0, 3, [])
    road = db.session.scalars(select(Place).where(Place.name == "人民路")).one()
    assert (road.lat, road.department_id) == (39.912, city.water.id)
    again = geo_files.load_districts(io.StringIO(json.dumps(geo_city.DISTRICTS)))
    assert (again.created, again.updated) == (0, 2)


def test_a_point_outside_the_city_is_refused_once_districts_are_loaded(city):
    assert geo.locate(*geo_city.OUTSIDE) is None  # no districts yet: nothing to hold it against
    geo_city.load()
    with force_locale("en"), pytest.raises(InvalidInput, match="outside the city"):
        geo.locate(*geo_city.OUTSIDE)


@pytest.mark.parametrize(
    ("lat", "long", "field"),
    [(91, 116, "lat"), (39.9, 181, "long"), ("abc", 116, "lat"), (None, 116.4, "lat"), (39.9, None, "long")],
)
def test_points_are_checked(lat, long, field):
    with pytest.raises(InvalidInput) as error:
        geo.checked_point(lat, long)
    assert error.value.field == field


def test_a_broken_geojson_feature_stores_nothing_and_names_each_fault(city):
    broken = {
        "type": "FeatureCollection",
        "features": [
            geo_city.feature("east", geo_city.square(116.40, 39.90, 116.42, 39.92)),
            geo_city.feature("nowhere", geo_city.square(116.38, 39.90, 116.40, 39.92)),
            {"type": "Feature", "properties": {"code": "west"}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
            {
                "type": "Feature",
                "properties": {"code": "west"},
                # a bow tie: its edges cross
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            },
        ],
    }
    result = geo_files.load_districts(io.StringIO(json.dumps(broken)))
    assert [error.split(":")[0] for error in result.errors] == ["feature 2", "feature 3", "feature 4"]
    assert "nowhere" in result.errors[0] and "Polygon" in result.errors[1] and "not valid" in result.errors[2]
    assert db.session.scalar(select(func.count()).select_from(DistrictArea)) == 0
    not_json = geo_files.load_districts(io.StringIO('{"type": "FeatureCollection",\n "features": [,]}'))
    assert not_json.errors and not_json.errors[0].startswith("line 2:")


def test_a_broken_csv_line_stores_nothing_and_names_each_line(city):
    text = (
        "name,kind,lat,long,district,unit\n"
        "人民路,road,39.91,116.41,east,roads\n"
        "坏点,river,39.91,116.41,east,\n"
        "北极,landmark,95,116.41,,\n"
        "某处,landmark,abc,116.41,,\n"
        "外区,community,39.91,116.41,nowhere,\n"
        "人民路,road,39.92,116.41,east,\n"
    )
    result = geo_files.load_places(io.StringIO(text))
    assert [error.split(":")[0] for error in result.errors] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert db.session.scalar(select(func.count()).select_from(Place)) == 0
    no_header = geo_files.load_places(io.StringIO("name,lat\nx,1\n"))
    assert no_header.errors == ["line 1: the header needs the columns name, kind, lat, long (missing: kind, long)"]


def test_gazetteer_search_prefers_names_that_start_with_the_words(city):
    geo_city.load(places="name,kind,lat,long,district,unit\n东人民路,road,39.91,116.41,,\n人民路,road,39.91,116.41,,\n")
    assert [place.name for place in geo.search_places("人民")] == ["人民路", "东人民路"]
    assert geo.search_places("%") == []  # a wildcard is a character, not everything
    assert geo.match_address("东城区人民路 12 号").name == "人民路"


def test_cell_ranges_cover_the_circle():
    lat, long = 39.9100, 116.4100
    ranges = geo.cell_ranges(lat, long, 100)
    assert 2 <= len(ranges) <= 3  # 100 m either side: a few rows of 111 m
    for metres in (0, 50, 99):
        cell = geo.cell_of(*metres_east(lat, long, metres))
        assert any(first <= cell <= last for first, last in ranges)


def test_nearby_finds_open_tickets_in_the_radius_same_category_first(city):
    geo_city.load()
    lat, long = geo_city.EAST
    near_other = factories.make_ticket(city.operator, category="water-supply", lat=lat, long=long)
    near_same = factories.make_ticket(
        city.operator, lat=metres_east(lat, long, 60)[0], long=metres_east(lat, long, 60)[1]
    )
    far = factories.make_ticket(city.operator, lat=metres_east(lat, long, 150)[0], long=metres_east(lat, long, 150)[1])
    closed = factories.make_ticket(city.operator, type="consultation", direct_answer="已答复。", lat=lat, long=long)
    no_point = factories.make_ticket(city.operator)
    found = geo.nearby(city.operator, lat, long, category_id=city.potholes.id)
    assert [near.ticket.id for near in found] == [near_same.id, near_other.id]
    assert round(found[0].distance_m) == 60 and found[0].same_category and not found[1].same_category
    wider = geo.nearby(city.operator, lat, long, radius_m=200)
    assert {near.ticket.id for near in wider} == {near_same.id, near_other.id, far.id}
    assert closed.id not in {near.ticket.id for near in wider} and no_point.id not in {n.ticket.id for n in wider}


def test_nearby_keeps_to_the_viewers_rights(city):
    geo_city.load()
    lat, long = geo_city.EAST
    secret = factories.make_ticket(city.operator, confidential=True, lat=lat, long=long)
    water = factories.make_routed_ticket(city.operator, category="water-supply", lat=lat, long=long)
    other_operator = factories.make_user("operator", username="operator2")
    assert {n.ticket.id for n in geo.nearby(city.operator, lat, long)} == {secret.id, water.id}
    assert {n.ticket.id for n in geo.nearby(other_operator, lat, long)} == {water.id}
    assert {n.ticket.id for n in geo.nearby(city.water_staff, lat, long)} == {water.id}
    assert geo.nearby(city.roads_staff, lat, long) == []


def test_a_ticket_logged_with_a_point_gets_its_district_and_cell(city):
    geo_city.load()
    ticket = factories.make_ticket(city.operator, district=None, lat=geo_city.WEST[0], long=geo_city.WEST[1])
    assert (ticket.district_id, ticket.lat, ticket.long) == (city.west.id, *geo_city.WEST)
    assert ticket.geo_cell == geo.cell_of(*geo_city.WEST)
    with force_locale("en"), pytest.raises(InvalidInput, match="outside the city"):
        factories.make_ticket(city.operator, lat=geo_city.OUTSIDE[0], long=geo_city.OUTSIDE[1])
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
