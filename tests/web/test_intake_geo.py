"""The intake page and geography (issue 18): the gazetteer's search, the point posted with the
form (its district filled), and open tickets near the point offered as likely duplicates."""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import Ticket
from tests import factories, geo_city
from tests.web.conftest import text_of, ticket_count
from tests.web.test_intake import FORM


def test_the_gazetteer_answers_as_the_address_is_typed(login, client, city):
    geo_city.load()
    answer = login(city.operator).get("/tickets/places.json?q=西单").get_json()
    assert [(p["name"], p["district"], p["lat"], p["long"]) for p in answer["places"]] == [
        ("西单广场", "west", *geo_city.WEST)
    ]
    assert login(city.roads_staff).get("/tickets/places.json?q=西单").status_code == 403
    assert client.get("/tickets/places.json?q=西单").status_code == 302


def test_the_form_posts_the_point_and_the_district_follows_it(login, city):
    geo_city.load()
    lat, long = geo_city.WEST
    response = login(city.operator).post("/tickets/new", data={**FORM, "district": "", "lat": lat, "long": long})
    assert response.status_code == 302, text_of(response)
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert (ticket.lat, ticket.long, ticket.district) == (lat, long, city.west)


def test_a_point_outside_the_city_is_shown_as_an_error_and_nothing_is_stored(login, city):
    geo_city.load()
    lat, long = geo_city.OUTSIDE
    response = login(city.operator).post("/tickets/new", data={**FORM, "lat": lat, "long": long})
    assert response.status_code == 200
    assert "outside the city" in text_of(response)
    assert f'name="lat" id="lat" value="{lat}"' in text_of(response)  # kept for the operator to correct
    broken = login(city.operator).post("/tickets/new", data={**FORM, "lat": "north", "long": "116.4"})
    assert "lat must be a number" in text_of(broken)
    assert ticket_count() == 0


def test_open_tickets_near_the_point_are_offered_as_duplicates(login, city):
    geo_city.load()
    lat, long = geo_city.EAST
    # The same pothole, worded otherwise by another caller, a few metres away.
    pothole = factories.make_routed_ticket(
        city.operator,
        caller_phone="13912345678",
        address="东湖社区门口",
        description="车开过去很颠",
        lat=lat,
        long=long,
    )
    elsewhere = factories.make_routed_ticket(
        city.operator,
        caller_phone="13912345679",
        description="车开过去很颠",
        lat=geo_city.WEST[0],
        long=geo_city.WEST[1],
    )
    client = login(city.operator)
    typed = {"caller_phone": "137 0000 0000", "category": "potholes", "address": "人民路", "description": "路上有坑"}
    without = client.post("/tickets/likely-duplicates", data=typed).get_json()
    assert pothole.number not in {d["number"] for d in without["duplicates"]}
    answer = client.post("/tickets/likely-duplicates", data={**typed, "lat": lat, "long": long + 0.0002}).get_json()
    numbers = {d["number"]: d for d in answer["duplicates"]}
    assert pothole.number in numbers and elsewhere.number not in numbers
    assert numbers[pothole.number]["reasons"] == ["17 m away"]
