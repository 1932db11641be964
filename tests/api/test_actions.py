"""The lifecycle over the API: dispatch, accept, resolve, return, notes; versions and conflicts."""

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
def pending(city):
    """A ticket whose category routes nowhere: it waits for a dispatcher."""
    ticket = factories.make_routed_ticket(city.operator, category="other")
    assert ticket.status == Status.PENDING_DISPATCH
    return ticket


def test_the_whole_path(api, city, pending):
    seen = pending.version
    body = api(city.dispatcher).post(url(pending, "dispatch"), json={"department": "roads", "version": seen}).get_json()
    assert (body["status"], body["department"]) == ("dispatched", "roads")
    assert body["version"] > seen
    assert body["dispatched_at"] is not None and body["resolve_due_at"] is not None
    assert body["events"][-1]["kind"] == "dispatched" and body["events"][-1]["actor"] == "dispatcher"
    assert body["events"][-1]["data"]["department"] == "roads"
    assert body["caller_phone"] == "+8613800138000"

    staff = api(city.roads_staff)
    seen = body["version"]
    body = staff.post(url(pending, "accept"), json={"version": seen}).get_json()
    assert body["status"] == "in_progress" and body["version"] > seen
    assert body["accepted_at"] is not None
    assert body["caller_phone"] == "138****8000"  # the response is masked for department staff too

    seen = body["version"]
    body = staff.post(url(pending, "notes"), json={"text": "已联系市民", "version": seen}).get_json()
    assert body["events"][-1]["kind"] == "note" and body["version"] == seen  # a note changes no state

    body = staff.post(url(pending, "resolve"), json={"resolution": "已修复路面", "version": seen}).get_json()
    assert (body["status"], body["resolution"]) == ("resolved", "已修复路面")
    assert body["version"] > seen
    assert body["resolved_at"] is not None
    assert [e["kind"] for e in body["events"]] == [
        "created", "routed", "dispatched", "accepted", "note", "resolved",
    ]  # fmt: skip
    assert snapshot(pending.number)[:3] == ("resolved", body["version"], "roads")


def test_accept_needs_no_body(api, city, routed):
    response = api(city.roads_staff).post(url(routed, "accept"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "in_progress"


def test_accept_takes_an_empty_object(api, city, routed):
    assert api(city.roads_staff).post(url(routed, "accept"), json={}).status_code == 200


def test_return_sends_the_ticket_back_to_the_dispatcher(api, city, routed):
    response = api(city.roads_staff).post(url(routed, "return"), json={"reason": "属于供水问题"})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["status"], body["department"], body["dispatched_at"]) == ("pending_dispatch", None, None)
    assert body["events"][-1]["data"] == {"reason": "属于供水问题", "reason_code": "other", "department": "roads"}
    # Having handed it back, roads no longer sees it.
    assert_error(api(city.roads_staff).get(f"/api/v1/tickets/{routed.number}"), 404, "not_found")


@pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor", "admin"])
def test_anyone_who_sees_the_ticket_may_add_a_note(api, city, routed, who):
    response = api(getattr(city, who)).post(url(routed, "notes"), json={"text": "备注"})
    assert response.status_code == 200
    assert snapshot(routed.number)[3][-1] == "note"


@pytest.mark.parametrize(
    ("who", "action", "body"),
    [
        ("water_staff", "accept", {}),
        ("water_staff", "resolve", {"resolution": "已处理"}),
        ("water_staff", "return", {"reason": "不是我们的"}),
        ("water_staff", "notes", {"text": "看看"}),
    ],
)
def test_another_departments_ticket_is_404_and_unchanged(api, city, routed, who, action, body):
    before = snapshot(routed.number)
    assert_error(api(getattr(city, who)).post(url(routed, action), json=body), 404, "not_found")
    assert snapshot(routed.number) == before


@pytest.mark.parametrize("action", ["dispatch", "accept", "resolve", "return", "notes"])
def test_an_unknown_number_is_404(api, city, action):
    who = city.dispatcher if action == "dispatch" else city.roads_staff
    body = {"dispatch": {"department": "roads"}, "resolve": {"resolution": "x"}, "return": {"reason": "x"}}
    body |= {"accept": {}, "notes": {"text": "x"}}
    response = api(who).post(f"/api/v1/tickets/20990101-000001/{action}", json=body[action])
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("who", "action", "body", "prepare"),
    [
        ("dispatcher", "dispatch", {"department": "water"}, "resolve"),  # resolved: nothing to dispatch
        ("roads_staff", "resolve", {"resolution": "已修复"}, None),  # not accepted yet
        ("roads_staff", "accept", {}, "accept"),  # accepted already
        ("roads_staff", "return", {"reason": "不是我们的"}, "resolve"),  # resolved: too late to return
        ("roads_staff", "resolve", {"resolution": "再次办结"}, "resolve"),
    ],
)
def test_a_transition_from_the_wrong_state_is_409_and_changes_nothing(api, city, routed, who, action, body, prepare):
    if prepare in ("accept", "resolve"):
        tickets.accept(city.roads_staff, routed)
    if prepare == "resolve":
        tickets.resolve(city.roads_staff, routed, "已修复")
    before = snapshot(routed.number)
    assert_error(api(getattr(city, who)).post(url(routed, action), json=body), 409, "conflict")
    assert snapshot(routed.number) == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {}),
        ("return", {"reason": "不是我们的"}),
        ("notes", {"text": "迟到的备注"}),
    ],
)
def test_a_stale_version_is_409_and_changes_nothing(api, city, routed, action, body):
    seen = routed.version
    if action == "accept":
        routed.urgency = "urgent"  # someone else changed it meanwhile: the version moves on
        db.session.commit()
    else:
        tickets.accept(city.roads_staff, routed)
    assert routed.version > seen
    before = snapshot(routed.number)
    response = api(city.roads_staff).post(url(routed, action), json={**body, "version": seen})
    assert_error(response, 409, "conflict")
    assert snapshot(routed.number) == before


def test_a_stale_version_on_resolve_and_dispatch(api, city, routed, pending):
    tickets.accept(city.roads_staff, routed)
    before = snapshot(routed.number)
    stale = {"resolution": "已修复", "version": routed.version - 1}
    assert_error(api(city.roads_staff).post(url(routed, "resolve"), json=stale), 409, "conflict")
    assert snapshot(routed.number) == before

    before = snapshot(pending.number)
    stale = {"department": "water", "version": pending.version - 1}
    assert_error(api(city.dispatcher).post(url(pending, "dispatch"), json=stale), 409, "conflict")
    assert snapshot(pending.number) == before


def test_two_clients_one_wins(api, city, routed):
    first, second = api(city.roads_staff), api(city.roads_staff)
    seen = first.get(f"/api/v1/tickets/{routed.number}").get_json()["version"]
    assert first.post(url(routed, "accept"), json={"version": seen}).status_code == 200
    loser = second.post(url(routed, "return"), json={"reason": "不是我们的", "version": seen})
    assert_error(loser, 409, "conflict")
    assert snapshot(routed.number)[0] == "in_progress"


@pytest.mark.parametrize("header", ["{}", '"{}"', 'W/"{}"'])
def test_the_version_may_come_in_if_match(api, city, routed, header):
    response = api(city.roads_staff).post(url(routed, "accept"), headers={"If-Match": header.format(routed.version)})
    assert response.status_code == 200


def test_a_stale_if_match_is_409(api, city, routed):
    before = snapshot(routed.number)
    stale = str(routed.version - 1)
    assert_error(api(city.roads_staff).post(url(routed, "accept"), headers={"If-Match": stale}), 409, "conflict")
    assert snapshot(routed.number) == before


def test_if_match_star_means_any_version(api, city, routed):
    assert api(city.roads_staff).post(url(routed, "accept"), headers={"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"version": "2"}, {}),
        ({"version": 2.0}, {}),
        ({"version": True}, {}),
        ({"version": 0}, {}),
        ({"version": [2]}, {}),
        ({}, {"If-Match": "two"}),
        ({}, {"If-Match": '"1", "2"'}),
        ({}, {"If-Match": "0"}),
        ({"version": 2}, {"If-Match": "3"}),
    ],
)
def test_bad_versions_are_400s(api, city, routed, body, headers):
    before = snapshot(routed.number)
    response = api(city.roads_staff).post(url(routed, "accept"), json=body, headers=headers)
    assert_error(response, 400, "invalid_input", "version")
    assert snapshot(routed.number) == before


@pytest.mark.parametrize(
    ("who", "action", "body", "field"),
    [
        ("dispatcher", "dispatch", {"department": "nowhere"}, "department"),
        ("dispatcher", "dispatch", {}, "department"),
        ("dispatcher", "dispatch", {"department": 7}, "department"),
        ("roads_staff", "resolve", {"resolution": "   "}, "resolution"),
        ("roads_staff", "resolve", {}, "resolution"),
        ("roads_staff", "resolve", {"resolution": ["已修复"]}, "resolution"),
        ("roads_staff", "return", {"reason": ""}, "reason"),
        ("roads_staff", "return", {"reason": None}, "reason"),
        ("roads_staff", "notes", {"text": ""}, "text"),
        ("roads_staff", "notes", {"text": {"body": "x"}}, "text"),
        ("roads_staff", "notes", {"note": "x"}, "note"),
        ("roads_staff", "accept", {"comment": "x"}, "comment"),
    ],
)
def test_bad_action_bodies_are_400s_and_change_nothing(api, city, routed, pending, who, action, body, field):
    ticket = pending if action == "dispatch" else routed
    if action == "resolve":
        tickets.accept(city.roads_staff, routed)
    before = snapshot(ticket.number)
    assert_error(api(getattr(city, who)).post(url(ticket, action), json=body), 400, "invalid_input", field)
    assert snapshot(ticket.number) == before


@pytest.mark.parametrize("data", [b"{", b"[]", b'"accept"'])
def test_malformed_action_bodies_are_400s(api, city, routed, data):
    response = api(city.roads_staff).post(url(routed, "accept"), data=data, content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert snapshot(routed.number)[0] == "dispatched"


def test_a_non_json_action_body_is_415(api, city, routed):
    response = api(city.roads_staff).post(url(routed, "accept"), data="version=2", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
