"""Duplicates (重复件) over the API: the likely ones for a ticket, merging, parents and children."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.ticketing import merging, tickets
from tests import factories
from tests.api.helpers import assert_error, snapshot


def url(ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


@pytest.fixture
def pair(city):
    """Two tickets about the same pothole from two callers: the first answers for both."""
    parent = factories.make_routed_ticket(city.operator)
    child = factories.make_routed_ticket(city.operator, caller_phone="13900139000")
    return parent, child


class TestMerge:
    @pytest.mark.parametrize("who", ["dispatcher", "supervisor", "admin"])
    def test_merge_into_the_parent(self, api, city, pair, who):
        parent, child = pair
        seen = child.version
        response = api(getattr(city, who)).post(url(child, "merge"), json={"into": parent.number, "version": seen})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["status"], body["parent"], body["children"]) == ("merged", parent.number, [])
        assert body["resolve_due_at"] is None and body["version"] > seen
        event = body["events"][-1]
        assert (event["kind"], event["from_status"], event["to_status"], event["data"]) == (
            "merged",
            "dispatched",
            "merged",
            {"into": parent.number},
        )
        shown = api(city.dispatcher).get(f"/api/v1/tickets/{parent.number}").get_json()
        assert (shown["parent"], shown["children"]) == (None, [child.number])
        assert shown["events"][-1]["kind"] == "merge_received"

    def test_a_parent_takes_over_the_childs_duplicates(self, api, city, pair):
        parent, child = pair
        grandchild = factories.make_ticket(city.operator, caller_phone="13700137000")
        merging.merge_into(city.dispatcher, grandchild, child.number)
        response = api(city.dispatcher).post(url(child, "merge"), json={"into": parent.number})
        assert response.status_code == 200
        body = api(city.dispatcher).get(f"/api/v1/tickets/{parent.number}").get_json()
        assert body["children"] == [child.number, grandchild.number]
        assert api(city.dispatcher).get(f"/api/v1/tickets/{grandchild.number}").get_json()["parent"] == parent.number

    def test_the_list_shows_the_parent_but_not_the_children(self, api, city, pair):
        parent, child = pair
        merging.merge_into(city.dispatcher, child, parent.number)
        listed = {t["number"]: t for t in api(city.dispatcher).get("/api/v1/tickets").get_json()["tickets"]}
        assert listed[child.number]["parent"] == parent.number
        assert "children" not in listed[parent.number] and "events" not in listed[parent.number]

    def test_the_holding_department_still_sees_a_merged_ticket(self, api, city, pair):
        parent, child = pair
        merging.merge_into(city.dispatcher, child, parent.number)
        body = api(city.roads_staff).get(f"/api/v1/tickets/{child.number}").get_json()
        assert (body["status"], body["parent"]) == ("merged", parent.number)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "into"),
            ({"into": None}, "into"),
            ({"into": ""}, "into"),
            ({"into": "   "}, "into"),
            ({"into": 20261125}, "into"),
            ({"into": "20990101-000001"}, "into"),  # no such ticket
            ({"into": "SELF"}, "into"),
            ({"into": "x", "parent": "y"}, "parent"),
        ],
    )
    def test_bad_merges_are_400s_and_change_nothing(self, api, city, pair, body, field):
        parent, child = pair
        if body.get("into") == "SELF":
            body = {"into": child.number}
        before = snapshot(child.number), snapshot(parent.number)
        assert_error(api(city.dispatcher).post(url(child, "merge"), json=body), 400, "invalid_input", field)
        assert (snapshot(child.number), snapshot(parent.number)) == before

    @pytest.mark.parametrize("parent_state", ["closed", "merged"])
    def test_a_closed_or_merged_parent_is_409(self, api, city, pair, parent_state):
        parent, child = pair
        if parent_state == "merged":
            merging.merge_into(city.dispatcher, parent, factories.make_ticket(city.operator).number)
        else:
            parent.status = Status.CLOSED
            db.session.commit()
        before = snapshot(child.number), snapshot(parent.number)
        assert_error(api(city.dispatcher).post(url(child, "merge"), json={"into": parent.number}), 409, "conflict")
        assert (snapshot(child.number), snapshot(parent.number)) == before

    def test_a_resolved_ticket_cannot_be_merged(self, api, city, pair):
        parent, child = pair
        tickets.accept(city.roads_staff, child)
        tickets.resolve(city.roads_staff, child, "已修复")
        before = snapshot(child.number)
        assert_error(api(city.dispatcher).post(url(child, "merge"), json={"into": parent.number}), 409, "conflict")
        assert snapshot(child.number) == before

    def test_a_stale_version_is_409(self, api, city, pair):
        parent, child = pair
        tickets.accept(city.roads_staff, child)
        before = snapshot(child.number), snapshot(parent.number)
        body = {"into": parent.number, "version": before[0][1] - 1}
        assert_error(api(city.dispatcher).post(url(child, "merge"), json=body), 409, "conflict")
        assert (snapshot(child.number), snapshot(parent.number)) == before

    @pytest.mark.parametrize("who", ["operator", "roads_staff"])
    def test_only_dispatchers_supervisors_and_admins_merge(self, api, city, pair, who):
        parent, child = pair
        before = snapshot(child.number)
        response = api(getattr(city, who)).post(url(child, "merge"), json={"into": parent.number})
        assert_error(response, 403, "forbidden")
        assert snapshot(child.number) == before

    def test_unknown_ticket_and_no_token(self, api, client, city, pair):
        parent, child = pair
        response = api(city.dispatcher).post("/api/v1/tickets/20990101-000001/merge", json={"into": parent.number})
        assert_error(response, 404, "not_found")
        assert_error(client.post(url(child, "merge"), json={"into": parent.number}), 401, "unauthorized")
        assert snapshot(child.number)[0] == "dispatched"


class TestDuplicates:
    @pytest.fixture
    def calls(self, city):
        first = factories.make_ticket(city.operator)
        same_phone = factories.make_ticket(city.operator, category="water-supply", description="家里停水了")
        same_place = factories.make_ticket(
            city.operator, caller_phone="13900139000", description="路上有坑", address="东城区人民路12号"
        )
        everything = factories.make_ticket(city.operator, description="人民路路面有一个大坑，晚上很危险，请尽快处理")
        factories.make_ticket(
            city.operator, caller_phone="13600136000", category="water-supply", description="水费问题"
        )
        closed = factories.make_ticket(city.operator, type="consultation", direct_answer="已解答")
        return first, same_phone, same_place, everything, closed

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "admin"])
    def test_the_likely_duplicates_most_likely_first(self, api, city, calls, who):
        first, same_phone, same_place, everything, _closed = calls
        response = api(getattr(city, who)).get(url(first, "duplicates"))
        assert response.status_code == 200, response.get_data(as_text=True)
        found = response.get_json()
        # Most reasons first; between equals, the more similar text.
        assert (found[0]["number"], found[0]["reasons"]) == (
            everything.number,
            ["same_phone", "same_place", "similar_text"],
        )
        # The same caller's unrelated ticket (another category, another matter) is history, not a duplicate.
        assert {d["number"]: d["reasons"] for d in found[1:]} == {same_place.number: ["same_place"]}
        assert same_phone.number not in {d["number"] for d in found}
        top = found[0]
        assert set(top) == {"number", "status", "reasons", "similarity", "created_at"}
        assert top["status"] == "new" and top["created_at"].endswith("+00:00")
        assert 0.5 <= top["similarity"] < 1 and round(top["similarity"], 3) == top["similarity"]

    def test_a_limit(self, api, city, calls):
        first = calls[0]
        assert len(api(city.dispatcher).get(url(first, "duplicates") + "?limit=1").get_json()) == 1
        assert_error(api(city.dispatcher).get(url(first, "duplicates") + "?limit=x"), 400, "invalid_input", "limit")

    def test_none(self, api, city):
        lone = factories.make_ticket(city.operator, category="other", caller_phone="13500135000")
        assert api(city.dispatcher).get(url(lone, "duplicates")).get_json() == []

    def test_not_for_department_staff(self, api, city, routed):
        assert_error(api(city.roads_staff).get(url(routed, "duplicates")), 403, "forbidden")

    def test_unknown_ticket_and_no_token(self, api, client, city, routed):
        assert_error(api(city.dispatcher).get("/api/v1/tickets/20990101-000001/duplicates"), 404, "not_found")
        assert_error(client.get(url(routed, "duplicates")), 401, "unauthorized")
