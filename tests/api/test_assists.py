"""What department staff see and do beyond their own tickets: assisting departments (协办) see
the ticket and add their part; confidential callers stay hidden. And the routing fields every
ticket carries."""

from __future__ import annotations

import pytest

from hotline.models import Status
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error, snapshot


def url(ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


def show(api, user, ticket):
    return api(user).get(f"/api/v1/tickets/{ticket.number}")


@pytest.fixture
def assisted(city):
    """A pothole with roads as the lead and water assisting."""
    ticket = factories.make_routed_ticket(city.operator, category="other")
    return tickets.dispatch(city.dispatcher, ticket, "roads", assisting=["water"])


class TestAssistingDepartments:
    def test_assisting_staff_see_the_ticket_masked(self, api, city, assisted):
        response = show(api, city.water_staff, assisted)
        assert response.status_code == 200
        body = response.get_json()
        assert (body["department"], body["caller_phone"]) == ("roads", "138****8000")
        assert body["assisting"] == [{"department": "water", "status": "open", "reply": "", "done_at": None}]
        listed = api(city.water_staff).get("/api/v1/tickets").get_json()["tickets"]
        assert [t["number"] for t in listed] == [assisted.number]
        assert listed[0]["assisting"] == body["assisting"]

    def test_they_mark_their_part_done(self, api, city, assisted):
        before = snapshot(assisted.number)
        response = api(city.water_staff).post(url(assisted, "assist-done"), json={"reply": "已关闭附近水阀"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        (part,) = body["assisting"]
        assert (part["department"], part["status"], part["reply"]) == ("water", "done", "已关闭附近水阀")
        assert part["done_at"].endswith("+00:00")
        event = body["events"][-1]
        assert (event["kind"], event["actor"], event["from_status"], event["to_status"]) == (
            "assist_done",
            "water_staff",
            None,
            None,
        )
        assert event["data"] == {"department": "water", "reply": "已关闭附近水阀"}
        # The ticket itself does not move: status, version and department stay.
        assert snapshot(assisted.number)[:3] == before[:3]
        # The lead department sees the part.
        assert show(api, city.roads_staff, assisted).get_json()["assisting"][0]["status"] == "done"

    def test_once(self, api, city, assisted):
        api(city.water_staff).post(url(assisted, "assist-done"), json={"reply": "已处理"})
        before = snapshot(assisted.number)
        response = api(city.water_staff).post(url(assisted, "assist-done"), json={"reply": "again"})
        assert_error(response, 409, "conflict")
        assert snapshot(assisted.number) == before
        assert show(api, city.water_staff, assisted).get_json()["assisting"][0]["reply"] == "已处理"

    @pytest.mark.parametrize(
        ("action", "body"),
        [
            ("accept", {}),
            ("resolve", {"resolution": "已修复"}),
            ("return", {"reason": "不是我们的"}),
            ("extend", {"days": 2, "reason": "x"}),
            ("wait-on-citizen", {"reason": "x"}),
        ],
    )
    def test_they_may_not_work_the_ticket(self, api, city, assisted, action, body):
        if action in ("resolve", "wait-on-citizen"):
            tickets.accept(city.roads_staff, assisted)
        before = snapshot(assisted.number)
        assert_error(api(city.water_staff).post(url(assisted, action), json=body), 403, "forbidden")
        assert snapshot(assisted.number) == before

    def test_the_lead_department_has_no_part_to_mark(self, api, city, assisted):
        before = snapshot(assisted.number)
        response = api(city.roads_staff).post(url(assisted, "assist-done"), json={"reply": "我们是主办"})
        assert_error(response, 403, "forbidden")
        assert snapshot(assisted.number) == before

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "admin"])
    def test_only_department_staff_mark_a_part(self, api, city, assisted, who):
        before = snapshot(assisted.number)
        response = api(getattr(city, who)).post(url(assisted, "assist-done"), json={"reply": "x"})
        assert_error(response, 403, "forbidden")
        assert snapshot(assisted.number) == before

    def test_a_department_not_involved_gets_404(self, api, city, assisted):
        other = factories.make_user("department", factories.make_department("gas", "燃气公司"))
        assert_error(show(api, other, assisted), 404, "not_found")
        assert_error(api(other).post(url(assisted, "assist-done"), json={"reply": "x"}), 404, "not_found")

    def test_after_a_reassignment_without_them_they_no_longer_see_it(self, api, city, assisted):
        gas = factories.make_department("gas", "燃气公司")
        tickets.dispatch(city.dispatcher, assisted, gas.code)
        assert_error(show(api, city.water_staff, assisted), 404, "not_found")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "reply"),
            ({"reply": "   "}, "reply"),
            ({"reply": 5}, "reply"),
            ({"reply": "x", "version": 3}, "version"),
        ],
    )
    def test_bad_replies_are_400s_and_change_nothing(self, api, city, assisted, body, field):
        before = snapshot(assisted.number)
        response = api(city.water_staff).post(url(assisted, "assist-done"), json=body)
        assert_error(response, 400, "invalid_input", field)
        assert snapshot(assisted.number) == before
        assert show(api, city.water_staff, assisted).get_json()["assisting"][0]["status"] == "open"

    def test_not_once_the_ticket_is_resolved(self, api, city, assisted):
        tickets.accept(city.roads_staff, assisted)
        tickets.resolve(city.roads_staff, assisted, "已修复")
        before = snapshot(assisted.number)
        response = api(city.water_staff).post(url(assisted, "assist-done"), json={"reply": "迟到的回复"})
        assert_error(response, 409, "conflict")
        assert snapshot(assisted.number) == before

    def test_no_token_is_401(self, client, city, assisted):
        assert_error(client.post(url(assisted, "assist-done"), json={"reply": "x"}), 401, "unauthorized")


class TestConfidentialCallers:
    @pytest.fixture
    def confidential(self, city):
        return factories.make_routed_ticket(city.operator, confidential=True)

    def test_department_staff_do_not_see_the_name(self, api, city, confidential):
        body = show(api, city.roads_staff, confidential).get_json()
        assert (body["confidential"], body["caller_name"], body["caller_phone"]) == (True, None, "138****8000")
        listed = api(city.roads_staff).get("/api/v1/tickets").get_json()["tickets"]
        assert listed[0]["caller_name"] is None

    def test_nor_do_assisting_departments(self, api, city, confidential):
        tickets.dispatch(city.dispatcher, confidential, "water", assisting=["roads"])
        assert show(api, city.roads_staff, confidential).get_json()["caller_name"] is None

    # The dispatcher no longer sees a dispatched confidential ticket at all (tests/api/test_view_audit.py).
    @pytest.mark.parametrize("who", ["operator", "supervisor", "admin"])
    def test_the_centre_does(self, api, city, confidential, who):
        body = show(api, getattr(city, who), confidential).get_json()
        assert (body["caller_name"], body["caller_phone"]) == ("张三", "+8613800138000")

    def test_a_caller_who_did_not_ask_is_named(self, api, city, routed):
        assert show(api, city.roads_staff, routed).get_json()["caller_name"] == "张三"


class TestRoutingFields:
    def test_a_routed_ticket(self, api, city, routed):
        body = show(api, city.dispatcher, routed).get_json()
        assert {k: body[k] for k in ("routed_by", "routing_rule", "parent", "children", "assisting")} == {
            "routed_by": "category_default",
            "routing_rule": None,
            "parent": None,
            "children": [],
            "assisting": [],
        }
        assert body["return_request"] is None

    def test_a_new_ticket(self, api, city):
        ticket = factories.make_ticket(city.operator)
        body = show(api, city.dispatcher, ticket).get_json()
        assert (body["status"], body["routed_by"], body["assisting"]) == (Status.NEW, None, [])

    def test_the_list_leaves_out_children_and_events(self, api, city, routed):
        single = show(api, city.dispatcher, routed).get_json()
        (listed,) = api(city.dispatcher).get("/api/v1/tickets").get_json()["tickets"]
        assert {"children", "events"} <= set(single) - set(listed)
        assert {"routed_by", "routing_rule", "parent", "assisting", "return_request"} <= set(listed)
        assert {k: v for k, v in single.items() if k in listed} == listed
