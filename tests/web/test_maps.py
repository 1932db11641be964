"""The desks' maps (issue 18): unit staff see their open tickets, supervisors tickets and
hotspots with filters, administrators the loaded geography; Leaflet from the project, the
tile layer only when configured (its origin then allowed by the pages' policy)."""

from __future__ import annotations

import html
import json
import re

import config
from hotline import create_app
from hotline.extensions import db
from hotline.models import Hotspot, HotspotTicket
from hotline.models.types import utcnow
from tests import factories, geo_city
from tests.web.conftest import text_of


def map_data(response) -> dict:
    assert response.status_code == 200, response.status_code
    found = re.search(r"data-map='([^']*)'", text_of(response))
    assert found, "no map on the page"
    return json.loads(html.unescape(found.group(1)))


def test_unit_staff_see_their_open_tickets_coloured_by_deadline(login, city):
    geo_city.load()
    mine = factories.make_routed_ticket(city.operator, lat=geo_city.EAST[0], long=geo_city.EAST[1])
    other = factories.make_routed_ticket(
        city.operator, category="water-supply", lat=geo_city.WEST[0], long=geo_city.WEST[1]
    )
    factories.make_routed_ticket(city.operator)  # no point: not on a map
    data = map_data(login(city.roads_staff).get("/maps/unit"))
    assert [(t["number"], t["level"]) for t in data["tickets"]] == [(mine.number, "ok")]
    assert other.number not in json.dumps(data)
    assert {f["properties"]["code"] for f in data["districts"]["features"]} == {"east", "west"}
    assert {p["name"] for p in data["places"]} == {"人民路", "东湖社区", "西单广场"}
    assert data["tiles"] is None  # no tile server: the outlines are the background
    mine.sla_level = "red"
    db.session.commit()
    assert map_data(login(city.roads_staff).get("/maps/unit"))["tickets"][0]["level"] == "red"
    page = text_of(login(city.roads_staff).get("/maps/unit"))
    assert "/static/vendor/leaflet/leaflet.js" in page and "/static/map.js" in page


def test_supervisors_see_tickets_and_hotspots_with_filters(login, city):
    geo_city.load()
    pothole = factories.make_routed_ticket(city.operator, lat=geo_city.EAST[0], long=geo_city.EAST[1])
    water = factories.make_routed_ticket(
        city.operator, category="water-supply", lat=geo_city.WEST[0], long=geo_city.WEST[1]
    )
    now = utcnow()
    spot = Hotspot(window_kind="week", window_start=now, window_end=now, label="路面 坑", ticket_count=1, signature="s")
    db.session.add(spot)
    db.session.flush()
    db.session.add(HotspotTicket(hotspot_id=spot.id, ticket_id=pothole.id))
    db.session.commit()
    client = login(city.supervisor)
    data = map_data(client.get("/maps/city"))
    assert {t["number"] for t in data["tickets"]} == {pothole.number, water.number}
    assert [(h["title"], h["lat"], h["long"]) for h in data["hotspots"]] == [("路面 坑", *geo_city.EAST)]
    only_water = map_data(client.get("/maps/city?department=water"))
    assert [t["number"] for t in only_water["tickets"]] == [water.number]
    in_east = map_data(client.get("/maps/city?district=east&category=potholes"))
    assert [t["number"] for t in in_east["tickets"]] == [pothole.number]
    unknown = client.get("/maps/city?district=atlantis")
    assert "Unknown district" in text_of(unknown) and len(map_data(unknown)["tickets"]) == 2


def test_administrators_see_the_geography(login, city):
    geo_city.load()
    data = map_data(login(city.admin).get("/admin/geography"))
    assert len(data["districts"]["features"]) == 2 and len(data["places"]) == 3


def test_each_map_is_for_its_desk(login, client, city):
    assert login(city.operator).get("/maps/unit").status_code == 403
    assert login(city.roads_staff).get("/maps/city").status_code == 403
    assert login(city.supervisor).get("/admin/geography").status_code == 403
    assert client.get("/maps/city").status_code == 302


def test_a_configured_tile_server_is_allowed_by_the_policy(monkeypatch, app):
    monkeypatch.setenv("HOTLINE_MAP_TILES_URL", "https://{s}.tiles.example.gov/{z}/{x}/{y}.png")
    configured = create_app(config.TestingConfig())
    assert configured.config["HOTLINE_MAP_TILES_URL"].startswith("https://{s}.tiles.example.gov/")
    policy = configured.test_client().get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.gov;" in policy
    assert "tiles.example.gov" not in app.test_client().get("/login").headers["Content-Security-Policy"]
