"""Hotspot areas over the API (issue 18 item 4): list, save (refused in words when the drawing is
no polygon in the city), the tickets inside with the map's filters, delete."""

from __future__ import annotations

from tests import factories, geo_city
from tests.api.helpers import assert_error

TRIANGLE = [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]


def test_a_supervisor_saves_an_area_reads_its_tickets_and_deletes_it(api, city):
    geo_city.load()
    inside = factories.make_routed_ticket(city.operator, lat=39.906, long=116.406)
    water = factories.make_routed_ticket(city.operator, lat=39.907, long=116.407, category="water-supply")
    factories.make_routed_ticket(city.operator, lat=39.914, long=116.414)  # in the box, not the triangle
    client = api(city.supervisor)
    created = client.post("/api/v1/areas", json={"name": "人民路坑洼", "points": TRIANGLE})
    assert created.status_code == 201, created.get_data(as_text=True)
    area = created.get_json()
    assert area["name"] == "人民路坑洼" and area["geometry"]["type"] == "Polygon"
    assert created.headers["Location"].endswith(f"/api/v1/areas/{area['id']}/tickets")
    assert [a["id"] for a in client.get("/api/v1/areas").get_json()["areas"]] == [area["id"]]

    found = client.get(f"/api/v1/areas/{area['id']}/tickets").get_json()
    assert found["count"] == 2 and found["at_least"] is False
    assert [t["number"] for t in found["tickets"]] == [water.number, inside.number]
    assert found["tickets"][1] == {
        "number": inside.number,
        "status": inside.status,
        "category": "potholes",
        "lat": 39.906,
        "long": 116.406,
    }
    narrowed = client.get(f"/api/v1/areas/{area['id']}/tickets?category=water-supply").get_json()
    assert [t["number"] for t in narrowed["tickets"]] == [water.number]
    assert_error(client.get(f"/api/v1/areas/{area['id']}/tickets?category=nope"), 400, "invalid_input", "category")
    assert_error(client.get(f"/api/v1/areas/{area['id']}/tickets?scope=some"), 400, "invalid_input", "scope")

    assert client.delete(f"/api/v1/areas/{area['id']}").status_code == 204
    assert client.get("/api/v1/areas").get_json() == {"areas": []}
    assert_error(client.get(f"/api/v1/areas/{area['id']}/tickets"), 404, "not_found")


def test_a_bad_drawing_is_refused_in_words(api, city):
    geo_city.load()
    client = api(city.supervisor)
    cases = [
        ({"name": "两点", "points": TRIANGLE[:2]}, "points", "at least 3"),
        (
            {"name": "交叉", "points": [[39.905, 116.405], [39.915, 116.415], [39.905, 116.415], [39.915, 116.405]]},
            "points",
            "cross",
        ),
        ({"name": "城外", "points": [[31.2, 121.4], [31.2, 121.5], [31.3, 121.4]]}, "points", "outside the city"),
        ({"name": "文字", "points": "39.9,116.4"}, "points", "a list of points"),
        ({"name": " ", "points": TRIANGLE}, "name", "Name the area"),
        ({"points": TRIANGLE}, "name", "required"),
    ]
    for body, field, words in cases:
        body_error = assert_error(
            client.post("/api/v1/areas", json=body, headers={"Accept-Language": "en"}), 400, "invalid_input", field
        )
        assert words in body_error["detail"], (body, body_error)
    assert client.get("/api/v1/areas").get_json() == {"areas": []}


def test_only_supervisors_and_admins(api, city):
    for user in (city.operator, city.dispatcher, city.roads_staff):
        assert_error(api(user).get("/api/v1/areas"), 403, "forbidden")
        assert_error(api(user).post("/api/v1/areas", json={"name": "x", "points": TRIANGLE}), 403, "forbidden")
