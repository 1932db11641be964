"""Units in a tree over the API (issue 17): subdispatch, return-up, review, assign, and the
ticket's `handler`, `holder` and `holders`."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error, snapshot


def url(ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


@pytest.fixture
def street(city):
    east = factories.make_department("roads-east", "东街道")
    west = factories.make_department("roads-west", "西街道")
    east.parent = west.parent = city.roads
    db.session.commit()
    factories.make_user("department", east, username="east_staff")
    factories.make_user("department", west, username="west_staff")
    return east


def user(name: str):
    from hotline.models import User

    return db.session.query(User).filter_by(username=name).one()


def accepted(city):
    return tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))


def test_the_whole_way_down_and_back_up(api, city, street):
    ticket = accepted(city)
    roads, east = api(city.roads_staff), api(user("east_staff"))
    body = roads.get(f"/api/v1/tickets/{ticket.number}").get_json()
    assert (body["holder"], body["handler"]) == ("roads", "roads_staff")
    assert [h["department"] for h in body["holders"]] == ["roads"]
    assert "subdispatch" in body["actions"]
    body = roads.post(
        url(ticket, "subdispatch"), json={"department": "roads-east", "note": "请核实", "version": body["version"]}
    )
    assert body.status_code == 200, body.get_data(as_text=True)
    body = body.get_json()
    assert (body["status"], body["department"], body["holder"], body["handler"]) == (
        "dispatched",
        "roads",
        "roads-east",
        None,
    )
    assert [h["department"] for h in body["holders"]] == ["roads", "roads-east"]
    assert body["holders"][1]["due"] <= body["holders"][0]["due"]
    assert api(user("west_staff")).get(f"/api/v1/tickets/{ticket.number}").status_code == 404
    body = east.post(url(ticket, "accept"), json={}).get_json()
    assert (body["status"], body["handler"]) == ("in_progress", "east_staff")
    body = east.post(url(ticket, "resolve"), json={"resolution": "已修复。"}).get_json()
    assert (body["status"], body["holder"], body["resolution"]) == ("in_progress", "roads", None)
    assert "review" in roads.get(f"/api/v1/tickets/{ticket.number}").get_json()["actions"]
    body = roads.post(url(ticket, "review"), json={"approve": True}).get_json()
    assert (body["status"], body["resolution"], body["holders"][-1]["department"]) == ("resolved", "已修复。", "roads")


def test_errors_follow_the_api(api, city, street):
    ticket = accepted(city)
    roads = api(city.roads_staff)
    assert_error(
        roads.post(url(ticket, "subdispatch"), json={"department": "water"}), 400, "invalid_input", "department"
    )
    assert_error(roads.post(url(ticket, "subdispatch"), json={}), 400, "invalid_input", "department")
    bad_due = {"department": "roads-east", "due": "2099-01-01T00:00:00+08:00"}
    assert_error(roads.post(url(ticket, "subdispatch"), json=bad_due), 400, "invalid_input", "due")
    stale = {"department": "roads-east", "version": ticket.version - 1}
    assert_error(roads.post(url(ticket, "subdispatch"), json=stale), 409, "conflict")
    assert snapshot(ticket.number)[0] == Status.IN_PROGRESS
    hidden = api(user("west_staff")).post(url(ticket, "subdispatch"), json={"department": "roads-east"})
    assert_error(hidden, 404, "not_found")
    assert_error(roads.post(url(ticket, "review"), json={"approve": "yes"}), 400, "invalid_input", "approve")
    assert_error(roads.post(url(ticket, "review"), json={"approve": True}), 409, "conflict")  # nothing to review
    assert_error(roads.post(url(ticket, "return-up"), json={"reason": "不归我们"}), 409, "conflict")  # not sent down
    roads.post(url(ticket, "subdispatch"), json={"department": "roads-east"})
    east = api(user("east_staff"))
    assert_error(east.post(url(ticket, "return-up"), json={}), 400, "invalid_input", "reason")
    assert_error(east.post(url(ticket, "return"), json={"reason": "不归我们"}), 403, "forbidden")
    body = east.post(url(ticket, "return-up"), json={"reason": "不属于本街道"}).get_json()
    assert (body["holder"], body["status"]) == ("roads", "in_progress")


def test_only_the_lead_assigns(api, city, street):
    ticket = accepted(city)
    colleague = factories.make_user("department", city.roads, username="roads_colleague")
    assert_error(
        api(city.roads_staff).post(url(ticket, "assign"), json={"handler": "roads_colleague"}), 403, "forbidden"
    )
    city.roads_staff.is_unit_lead = True
    db.session.commit()
    lead = api(city.roads_staff)
    assert_error(lead.post(url(ticket, "assign"), json={"handler": "east_staff"}), 400, "invalid_input", "handler")
    assert_error(lead.post(url(ticket, "assign"), json={}), 400, "invalid_input", "handler")
    body = lead.post(url(ticket, "assign"), json={"handler": colleague.username}).get_json()
    assert body["handler"] == "roads_colleague"
