"""The intake form's map (issue 18 item 2): a click asks what the point says (its district, the
nearest gazetteer place and the unit handling it), refused in words outside the city; the map's
background is fetched apart from the form."""

from __future__ import annotations

from tests import geo_city


def test_a_point_names_its_district_place_and_unit(login, city):
    geo_city.load()
    client = login(city.operator)
    lat, long = geo_city.EAST
    answer = client.get(f"/tickets/point.json?lat={lat + 0.0005}&long={long}").get_json()
    assert answer["district"] == "east" and answer["district_name"] == "东城区"
    assert (answer["place"], answer["distance_m"]) == ("人民路", 56)
    assert (answer["unit"], answer["unit_name"]) == ("roads", "道路管理局")
    # In the west district, no place with a unit near: the district only.
    lat, long = geo_city.WEST
    answer = client.get(f"/tickets/point.json?lat={lat}&long={long}").get_json()
    assert answer["district"] == "west" and answer["place"] is None and answer["unit"] is None


def test_a_point_outside_the_city_or_not_a_number_is_refused_in_words(login, city):
    geo_city.load()
    client = login(city.operator)
    lat, long = geo_city.OUTSIDE
    outside = client.get(f"/tickets/point.json?lat={lat}&long={long}", headers={"Accept-Language": "en"})
    assert outside.status_code == 400 and "outside the city" in outside.get_json()["error"]
    broken = client.get("/tickets/point.json?lat=north&long=116.4", headers={"Accept-Language": "en"})
    assert broken.status_code == 400 and broken.get_json()["field"] == "lat"
    assert client.get("/tickets/point.json").status_code == 400


def test_the_background_and_the_form_carry_the_map(login, client, city):
    geo_city.load()
    operator = login(city.operator)
    data = operator.get("/tickets/map.json").get_json()
    assert {f["properties"]["code"] for f in data["districts"]["features"]} == {"east", "west"}
    assert len(data["places"]) == 3
    page = operator.get("/tickets/new").get_data(as_text=True)
    assert 'id="intake-map"' in page and "intake_map.js" in page and "vendor/leaflet/leaflet.js" in page
    assert login(city.roads_staff).get("/tickets/map.json").status_code == 403
    assert login(city.roads_staff).get("/tickets/point.json?lat=39.91&long=116.41").status_code == 403
