"""Hotspot areas on the supervisors' map (issue 18 item 4): saving a drawn polygon (refused in
words when it is not one), the chosen area's tickets counted and listed with the map's filters,
and deleting it."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import HotspotArea
from hotline.services.city import areas
from tests import factories, geo_city
from tests.web.conftest import text_of

TRIANGLE = [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]
EN = {"Accept-Language": "en"}


def area_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HotspotArea))


def test_a_supervisor_saves_an_area_and_sees_its_tickets_with_the_filters(login, city):
    geo_city.load()
    inside = factories.make_routed_ticket(city.operator, lat=39.906, long=116.406, address="人民路 1 号")
    water = factories.make_routed_ticket(city.operator, lat=39.907, long=116.407, category="water-supply")
    outside = factories.make_routed_ticket(city.operator, lat=39.914, long=116.414)
    client = login(city.supervisor)
    saved = client.post("/maps/areas", data={"name": "人民路坑洼", "points": json.dumps(TRIANGLE)})
    assert saved.status_code == 201
    area = db.session.scalars(select(HotspotArea)).one()
    assert saved.get_json() == {"id": area.id, "url": f"/maps/city?area={area.id}"}

    page = client.get(f"/maps/city?area={area.id}", headers=EN)
    html = text_of(page)
    assert page.status_code == 200
    assert 'id="area-count" data-count="2"' in html and "2 tickets inside" in html
    for ticket in (inside, water):
        assert f'<tr data-number="{ticket.number}">' in html
    assert f'data-number="{outside.number}">' not in html.split('id="area-tickets"')[1].split("</table>")[0]
    data = json.loads(html.split("data-map='")[1].split("'")[0])
    assert data["area"] == area.id and [a["name"] for a in data["areas"]] == ["人民路坑洼"]
    assert data["areas"][0]["geometry"]["type"] == "Polygon"

    # The map's filters narrow the count, and the filter form keeps the area.
    filtered = text_of(client.get(f"/maps/city?area={area.id}&category=water-supply", headers=EN))
    assert 'data-count="1"' in filtered and f'<tr data-number="{water.number}">' in filtered
    assert f'<input type="hidden" name="area" value="{area.id}">' in filtered

    gone = client.post(f"/maps/areas/{area.id}/delete")
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/maps/city")
    assert area_count() == 0
    missing = text_of(client.get(f"/maps/city?area={area.id}", headers=EN))
    assert f"No area {area.id}." in missing and 'id="area-shown"' not in missing


def test_a_bad_drawing_is_refused_in_words_and_nothing_is_kept(login, city):
    geo_city.load()
    client = login(city.supervisor)
    cases = [
        ({"name": "两点", "points": json.dumps(TRIANGLE[:2])}, "at least 3"),
        (
            {
                "name": "交叉",
                "points": json.dumps([[39.905, 116.405], [39.915, 116.415], [39.905, 116.415], [39.915, 116.405]]),
            },
            "cross",
        ),
        (
            {"name": "城外", "points": json.dumps([[39.905, 116.405], [39.905, 116.43], [39.915, 116.405]])},
            "outside the city",
        ),
        ({"name": "乱码", "points": "[[39.9, 116.4"}, "a list of points"),
        ({"name": "", "points": json.dumps(TRIANGLE)}, "Name the area"),
        ({"name": "太多", "points": "[" + ",".join(["[39.905, 116.405]"] * 5000) + "]"}, "at most 500 points"),
    ]
    for data, message in cases:
        response = client.post("/maps/areas", data=data, headers=EN)
        assert response.status_code == 400, data
        assert message in response.get_json()["error"], (data, response.get_json())
    assert area_count() == 0


def test_only_supervisors_draw_or_delete(login, city):
    area = areas.save_area(city.supervisor, "人民路", TRIANGLE)
    for user in (city.operator, city.dispatcher, city.roads_staff):
        client = login(user)
        assert client.post("/maps/areas", data={"name": "x", "points": json.dumps(TRIANGLE)}).status_code == 403
        assert client.post(f"/maps/areas/{area.id}/delete").status_code == 403
    assert area_count() == 1
