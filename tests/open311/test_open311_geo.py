"""Open311 and geography (issue 18): lat/long are stored and answered back, an address_string
alone is placed by the gazetteer, and a point outside the city is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Ticket
from tests import geo_city
from tests.open311.test_client_library import filer, live_server  # noqa: F401 - fixtures
from tests.open311.test_open311 import api_key, assert_error, get, post, ticket_count, valid, xml  # noqa: F401


def _ticket(number: str) -> Ticket:
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_lat_and_long_are_stored_and_read_back(client, city, valid, fmt):  # noqa: F811
    geo_city.load()
    del valid["attribute[district]"]
    valid.update({"lat": "39.9087", "long": "116.4075"})
    answer = post(client, fmt, **valid)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    number = (
        answer.get_json()[0]["service_request_id"]
        if fmt == "json"
        else xml(answer).findtext("request/service_request_id")
    )
    ticket = _ticket(number)
    assert (ticket.lat, ticket.long, ticket.district) == (39.9087, 116.4075, city.east)
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert (body["lat"], body["long"]) == (39.9087, 116.4075)
    root = xml(get(client, f"/requests/{number}.xml"))
    assert (root.findtext("request/lat"), root.findtext("request/long")) == ("39.9087", "116.4075")


def test_an_address_alone_is_placed_by_the_gazetteer(client, city, valid):  # noqa: F811
    geo_city.load()
    del valid["attribute[district]"]
    valid["address_string"] = "西单广场北门"
    number = post(client, **valid).get_json()[0]["service_request_id"]
    ticket = _ticket(number)
    assert (ticket.lat, ticket.long) == geo_city.WEST and ticket.district == city.west
    assert ticket.address == "西单广场北门"
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert (body["lat"], body["long"]) == geo_city.WEST


def test_an_address_the_gazetteer_does_not_know_keeps_no_point(client, city, valid):  # noqa: F811
    geo_city.load()
    number = post(client, **valid).get_json()[0]["service_request_id"]  # 东城区人民路 88 号: 人民路 is known
    assert (_ticket(number).lat, _ticket(number).long) == geo_city.EAST
    valid["address_string"] = "无名小巷"
    other = post(client, **valid).get_json()[0]["service_request_id"]
    assert (_ticket(other).lat, _ticket(other).long) == (None, None)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_point_outside_the_city_is_400_and_files_nothing(client, city, valid, fmt):  # noqa: F811
    geo_city.load()
    valid.update({"lat": str(geo_city.OUTSIDE[0]), "long": str(geo_city.OUTSIDE[1])})
    assert_error(post(client, fmt, **valid), 400, fmt, "outside the city")
    assert ticket_count() == 0


def test_an_open311_client_sends_lat_long_and_reads_them_back(city, live_server, filer):  # noqa: F811
    from georeport import GeoReport

    from hotline.services.accounts.users import issue_token

    geo_city.load()
    sent = filer.create_request(
        "potholes",
        dry_run=False,
        confirm="SEND",
        api_key=issue_token(city.operator),
        validate_remote=True,
        lat=39.9087,
        lng=116.4075,  # civicbot spells it lng and sends the spec's `long`
        description="人民路中段路面塌陷，车辆难以通过。",
        phone="13900139000",
    )
    (answer,) = sent.response
    number = answer["service_request_id"]
    db.session.expire_all()
    assert _ticket(number).district == city.east
    read = GeoReport(live_server).get_service_request(number)
    assert (float(read["lat"]), float(read["long"])) == (39.9087, 116.4075)
    assert filer.get_request(number)["lat"] == 39.9087
    xml_read = GeoReport(live_server, output_format="xml").get_service_request(number)
    assert (xml_read["lat"], xml_read["long"]) == ("39.9087", "116.4075")
