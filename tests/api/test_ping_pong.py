"""POST .../dispatch back to a department that returned the ticket: a 400 naming `reason`
without one; with one, the event keeps it. The misrouting report's rows carry `ping_pong`."""

from __future__ import annotations

from hotline.models import Status
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error
from tests.web.conftest import reload


def test_dispatch_back_to_the_returner_needs_a_reason(api, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    client = api(city.dispatcher)
    url = f"/api/v1/tickets/{ticket.number}/dispatch"
    for body in (
        {"department": "roads"},
        {"department": "roads", "reason": None},
        {"department": "roads", "reason": " "},
    ):
        refused = assert_error(client.post(url, json=body), 400, "invalid_input", "reason")
        assert "道路管理局" in refused["detail"] or "roads" in refused["detail"]
    assert_error(client.post(url, json={"department": "roads", "reason": 7}), 400, "invalid_input", "reason")
    assert reload(ticket).status == Status.PENDING_DISPATCH

    response = client.post(url, json={"department": "roads", "reason": "现场核实属道路局", "version": ticket.version})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["department"] == "roads" and body["status"] == "dispatched"
    event = body["events"][-1]
    assert event["kind"] == "dispatched"
    assert (event["data"]["reason"], event["data"]["ping_pong"]) == ("现场核实属道路局", True)


def test_existing_dispatch_bodies_still_work(api, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    response = api(city.dispatcher).post(
        f"/api/v1/tickets/{ticket.number}/dispatch", json={"department": "water", "assisting": ["roads"]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "reason" not in response.get_json()["events"][-1]["data"]


def test_the_misrouting_report_has_ping_pong(api, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    tickets.dispatch(city.dispatcher, ticket, "roads", reason="属道路局")
    body = api(city.supervisor).get("/api/v1/reports/misrouting").get_json()
    assert {row["key"]: row["ping_pong"] for row in body["rules"]} == {"category_default": 0, "dispatcher": 1}
    assert {row["key"]: row["ping_pong"] for row in body["categories"]} == {"potholes": 1}
