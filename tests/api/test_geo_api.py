"""The API and geography (issue 18): a ticket's lat/long, GET /api/v1/tickets/nearby, GET /api/v1/places."""

from __future__ import annotations

import pytest

from tests import factories, geo_city
from tests.api.helpers import assert_error, ticket_count
from tests.api.test_create import call


def test_a_ticket_takes_lat_and_long_and_the_district_follows(api, city):
    geo_city.load()
    lat, long = geo_city.WEST
    response = api(city.operator).post("/api/v1/tickets", json=call(district=..., lat=lat, long=long))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["lat"], body["long"], body["district"]) == (lat, long, "west")
    again = api(city.operator).get(f"/api/v1/tickets/{body['number']}").get_json()
    assert (again["lat"], again["long"], again["district"]) == (lat, long, "west")


def test_a_ticket_without_a_point_says_null(api, city):
    body = api(city.operator).post("/api/v1/tickets", json=call()).get_json()
    assert (body["lat"], body["long"]) == (None, None)
    listed = api(city.operator).get("/api/v1/tickets").get_json()["tickets"][0]
    assert (listed["lat"], listed["long"]) == (None, None)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"lat": 39.9}, "long", "go together"),
        ({"long": 116.4}, "lat", "go together"),
        ({"lat": 91, "long": 116.4}, "lat", "from -90 to 90"),
        ({"lat": 39.9, "long": -181}, "long", "from -180 to 180"),
        ({"lat": "39.9", "long": 116.4}, "lat", "must be a number"),
        ({"lat": True, "long": 116.4}, "lat", "must be a number"),
        ({"lat": geo_city.OUTSIDE[0], "long": geo_city.OUTSIDE[1]}, "lat", "outside the city"),
    ],
)
def test_bad_points_are_400_and_store_nothing(api, city, changes, field, words):
    geo_city.load()
    response = api(city.operator).post("/api/v1/tickets", json=call(**changes), headers={"Accept-Language": "en"})
    assert_error(response, 400, "invalid_input", field=field)
    assert words in response.get_json()["detail"]
    assert ticket_count() == 0


def test_nearby_answers_within_the_callers_rights(api, city):
    geo_city.load()
    lat, long = geo_city.EAST
    secret = factories.make_ticket(city.operator, confidential=True, lat=lat, long=long)
    water = factories.make_routed_ticket(city.operator, category="water-supply", lat=lat, long=long + 0.0005)
    factories.make_ticket(city.operator, lat=geo_city.WEST[0], long=geo_city.WEST[1])  # far away
    query = {"lat": lat, "long": long, "category": "water-supply"}
    mine = api(city.operator).get("/api/v1/tickets/nearby", query_string=query)
    assert mine.status_code == 200, mine.get_data(as_text=True)
    body = mine.get_json()
    assert (body["radius_m"], [t["number"] for t in body["tickets"]]) == (100, [water.number, secret.number])
    assert body["tickets"][0]["same_category"] is True and 40 < body["tickets"][0]["distance_m"] < 45
    other = factories.make_user("operator", username="operator2")
    assert [
        t["number"] for t in api(other).get("/api/v1/tickets/nearby", query_string=query).get_json()["tickets"]
    ] == [water.number]
    roads = api(city.roads_staff).get("/api/v1/tickets/nearby", query_string=query).get_json()
    assert roads["tickets"] == []
    assert "caller_phone" not in body["tickets"][0] and "caller_name" not in body["tickets"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "lat"),
        ({"lat": 39.9}, "long"),
        ({"lat": "x", "long": 116.4}, "lat"),
        ({"lat": 39.9, "long": 116.4, "radius_m": 0}, "radius_m"),
        ({"lat": 39.9, "long": 116.4, "category": "nothing"}, "category"),
    ],
)
def test_nearby_refuses_bad_queries(api, city, query, field):
    assert_error(
        api(city.operator).get("/api/v1/tickets/nearby", query_string=query), 400, "invalid_input", field=field
    )


def test_places_search_the_gazetteer(api, city):
    geo_city.load()
    body = api(city.roads_staff).get("/api/v1/places", query_string={"q": "人民"}).get_json()
    assert [(p["name"], p["kind"], p["district"], p["department"]) for p in body["places"]] == [
        ("人民路", "road", "east", "roads")
    ]
    assert api(city.operator).get("/api/v1/places").get_json() == {"places": []}
