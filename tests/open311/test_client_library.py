"""Open311 clients from PyPI against the app on a real HTTP server: list services, file a request, read it back.

Two clients, because no single maintained one does both on Python 3.11:
- `georeport` (0.3.1), a GeoReport v2 wrapper that reads, in JSON and in XML
  (parsed with xmltodict), but cannot file requests;
- `civicbot` (0.4.0), whose `Open311Client` files requests (form-encoded POST with
  `attribute[...]` fields, as the spec says) and reads them; JSON only.
The older `open311` and `three` packages are Python 2 code and do not import.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from flask import Flask
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from hotline.extensions import db
from hotline.models import Ticket
from hotline.services.accounts.users import issue_token
from hotline.services.ticketing import tickets


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="open311-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def filer(live_server) -> Open311Client:
    endpoint = Endpoint(id="hotline", name="12345 Hotline", base_url=live_server, write=True)
    # No politeness delay between calls: this server is ours and local.
    return Open311Client(endpoint, transport=HttpTransport(timeout=10, rate_limiter=RateLimiter(min_interval=0)))


def test_list_services_file_a_request_and_read_it_back(city, live_server, filer):
    reader = GeoReport(live_server)
    services = reader.get_service_list()
    assert {s["service_code"] for s in services} == {"potholes", "water-supply", "other"}
    definition = reader.get_service_definition("potholes")
    assert [a["code"] for a in definition["attributes"]] == ["district", "type"]

    token = issue_token(city.operator)
    sent = filer.create_request(
        "potholes",
        dry_run=False,
        confirm="SEND",
        api_key=token,
        validate_remote=True,  # the client checks the form against services.json and the definition
        address_string="东城区人民路 88 号",
        description="人民路中段路面塌陷，车辆难以通过。",
        first_name="三",
        last_name="张",
        phone="13900139000",
        attributes={"district": "east", "type": "complaint"},
    )
    (answer,) = sent.response
    number = answer["service_request_id"]
    assert "/status" in answer["service_notice"]

    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert (ticket.channel, ticket.type, ticket.caller_phone) == ("open311", "complaint", "+8613900139000")
    assert (ticket.category.code, ticket.district.code, ticket.caller_name) == ("potholes", "east", "张三")
    tickets.route(ticket.id)

    # Read back with both clients, in both formats.
    mine = reader.get_service_request(number)
    assert mine["service_request_id"] == number
    assert (mine["status"], mine["service_code"], mine["agency_responsible"]) == ("open", "potholes", "道路管理局")
    assert filer.get_request(number)["description"] == "人民路中段路面塌陷，车辆难以通过。"
    assert filer.get_token(number) == [{"token": number, "service_request_id": number}]
    listed = reader.get_service_requests(service_request_id=number, status="open")
    assert [r["service_request_id"] for r in listed] == [number]

    xml_reader = GeoReport(live_server, output_format="xml")
    xml_services = xml_reader.get_service_list()
    potholes = next(s for s in xml_services if s["service_code"] == "potholes")
    assert (potholes["metadata"], potholes["group"]) == ("true", "城乡建设")
    xml_definition = xml_reader.get_service_definition("potholes")
    assert xml_definition["attributes"]["attribute"][0]["values"]["value"][0] == {"key": "east", "name": "东城区"}
    xml_request = xml_reader.get_service_request(number)
    assert (xml_request["service_request_id"], xml_request["status"]) == (number, "open")
    assert "13900139000" not in str(xml_request) and "张三" not in str(xml_request)


def test_clients_see_the_spec_errors(city, live_server, filer):
    with pytest.raises(HttpError) as refused:
        filer.create_request(
            "potholes",
            dry_run=False,
            confirm="SEND",
            api_key="not-a-token",
            address_string="人民路",
            description="坑",
            phone="13900139000",
        )
    assert refused.value.status == 403
    assert '"code": 403' in refused.value.body
    with pytest.raises(requests.HTTPError) as missing:
        GeoReport(live_server).get_service_request("20991231-000001")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()[0]["code"] == 404
