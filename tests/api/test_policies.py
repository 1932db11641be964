"""SLA policies over the API: read by all, set by administrators, applied to tickets dispatched afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.api.serializers import iso
from hotline.extensions import db
from hotline.models import SlaPolicy
from hotline.services.clocks.calendar import work_calendar
from tests import factories
from tests.api.helpers import assert_error

INFRASTRUCTURE_NORMAL = {
    "category": "infrastructure",
    "urgency": "normal",
    "accept_amount": 2,
    "accept_unit": "working_hours",
    "resolve_amount": 3,
    "resolve_unit": "working_days",
    "return_window_days": 1,
    "max_extension_days": 5,
}


def stored() -> list[tuple]:
    """Every policy as the database has it, to check that a failure changed nothing."""
    db.session.expire_all()
    return sorted(
        (p.id, p.category_id, p.urgency, p.accept_amount, p.accept_unit, p.resolve_amount, p.resolve_unit,
         p.return_window_days, p.max_extension_days)
        for p in db.session.scalars(select(SlaPolicy))
    )  # fmt: skip


@pytest.fixture
def policy(api, city) -> dict:
    response = api(city.admin).post("/api/v1/sla-policies", json=INFRASTRUCTURE_NORMAL)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


class TestCrud:
    def test_create_then_list(self, api, city, policy):
        # No first-contact limit given (issue 17): null, the urgency's default.
        assert policy == {"id": policy["id"], **INFRASTRUCTURE_NORMAL, "contact_amount": None, "contact_unit": None}
        wide = api(city.admin).post(
            "/api/v1/sla-policies",
            json={
                "urgency": "urgent",
                "accept_amount": 20,
                "accept_unit": "calendar_minutes",
                "resolve_amount": 12,
                "resolve_unit": "calendar_hours",
            },
        )
        assert wide.status_code == 201
        # Omitted: hotline-wide, and the Shandong defaults for returns and extensions.
        assert (wide.get_json()["category"], wide.get_json()["return_window_days"]) == (None, 2)
        assert wide.get_json()["max_extension_days"] == 10
        listed = api(city.roads_staff).get("/api/v1/sla-policies")
        assert listed.status_code == 200
        assert listed.get_json() == [wide.get_json(), policy]  # hotline-wide first

    def test_an_empty_list(self, api, city):
        assert api(city.operator).get("/api/v1/sla-policies").get_json() == []

    def test_update_changes_only_what_is_given(self, api, city, policy):
        response = api(city.admin).put(
            f"/api/v1/sla-policies/{policy['id']}", json={"resolve_amount": 240, "resolve_unit": "calendar_hours"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        # 240 hours outlast the longest holiday plus 2 working hours to accept: a consistent policy.
        assert response.get_json() == {**policy, "resolve_amount": 240, "resolve_unit": "calendar_hours"}
        assert api(city.operator).get("/api/v1/sla-policies").get_json() == [response.get_json()]

    def test_update_may_move_a_policy_to_the_whole_hotline(self, api, city, policy):
        response = api(city.admin).put(f"/api/v1/sla-policies/{policy['id']}", json={"category": None})
        assert response.get_json()["category"] is None

    def test_delete(self, api, city, policy):
        response = api(city.admin).delete(f"/api/v1/sla-policies/{policy['id']}")
        assert response.status_code == 204 and response.get_data() == b""
        assert api(city.operator).get("/api/v1/sla-policies").get_json() == []
        assert_error(api(city.admin).delete(f"/api/v1/sla-policies/{policy['id']}"), 404, "not_found")

    @pytest.mark.parametrize("policy_id", ["999", "abc", "0", "-1", "99999999999999999999"])
    def test_an_unknown_policy_is_404(self, api, city, policy, policy_id):
        before = stored()
        admin = api(city.admin)
        assert_error(admin.put(f"/api/v1/sla-policies/{policy_id}", json={"accept_amount": 3}), 404, "not_found")
        assert_error(admin.delete(f"/api/v1/sla-policies/{policy_id}"), 404, "not_found")
        assert stored() == before


class TestValidation:
    @pytest.mark.parametrize(
        "change, field",
        [
            ({"accept_amount": 0}, "accept_amount"),
            ({"accept_amount": -4}, "accept_amount"),
            ({"accept_amount": 1.5}, "accept_amount"),
            ({"accept_amount": "4"}, "accept_amount"),
            ({"accept_amount": True}, "accept_amount"),
            ({"accept_amount": 10**30}, "accept_amount"),
            ({"resolve_amount": 0}, "resolve_amount"),
            ({"resolve_amount": 251}, "resolve_amount"),
            ({"accept_unit": "working_days"}, "accept_unit"),
            ({"accept_unit": ["working_hours"]}, "accept_unit"),
            ({"resolve_unit": "working_hours"}, "resolve_unit"),
            ({"urgency": "critical"}, "urgency"),
            ({"urgency": None}, "urgency"),
            ({"category": "nowhere"}, "category"),
            ({"category": 5}, "category"),
            ({"category": ""}, "category"),
            ({"return_window_days": 0}, "return_window_days"),
            ({"max_extension_days": -1}, "max_extension_days"),
            ({"max_extension_days": 2.5}, "max_extension_days"),
            ({"priority": 1}, "priority"),
        ],
    )
    def test_a_bad_policy_is_400_and_nothing_is_saved(self, api, city, change, field):
        response = api(city.admin).post("/api/v1/sla-policies", json={**INFRASTRUCTURE_NORMAL, **change})
        assert_error(response, 400, "invalid_input", field)
        assert stored() == []

    @pytest.mark.parametrize("missing", ["urgency", "accept_amount", "accept_unit", "resolve_amount", "resolve_unit"])
    def test_required_fields(self, api, city, missing):
        body = {k: v for k, v in INFRASTRUCTURE_NORMAL.items() if k != missing}
        assert_error(api(city.admin).post("/api/v1/sla-policies", json=body), 400, "invalid_input", missing)
        assert stored() == []

    def test_no_extension_at_all_is_a_policy(self, api, city):
        body = {**INFRASTRUCTURE_NORMAL, "max_extension_days": 0}
        assert api(city.admin).post("/api/v1/sla-policies", json=body).get_json()["max_extension_days"] == 0

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"accept_amount": 0}, "accept_amount"),
            ({"accept_amount": None}, "accept_amount"),
            ({"resolve_unit": "calendar_minutes"}, "resolve_unit"),
            # calendar hours allow more than 250, working days do not
            ({"resolve_amount": 300}, "resolve_amount"),
            ({"category": "nowhere"}, "category"),
        ],
    )
    def test_a_bad_update_is_400_and_changes_nothing(self, api, city, policy, change, field):
        before = stored()
        response = api(city.admin).put(f"/api/v1/sla-policies/{policy['id']}", json=change)
        assert_error(response, 400, "invalid_input", field)
        assert stored() == before

    def test_one_policy_per_category_and_urgency(self, api, city, policy):
        before = stored()
        body = assert_error(api(city.admin).post("/api/v1/sla-policies", json=INFRASTRUCTURE_NORMAL), 409, "conflict")
        assert "infrastructure" in body["detail"] and str(policy["id"]) in body["detail"]
        assert stored() == before
        # The same category for urgent tickets is another policy.
        urgent = {**INFRASTRUCTURE_NORMAL, "urgency": "urgent"}
        assert api(city.admin).post("/api/v1/sla-policies", json=urgent).status_code == 201

    def test_one_hotline_wide_policy_per_urgency(self, api, city):
        admin = api(city.admin)
        wide = {**INFRASTRUCTURE_NORMAL, "category": None}
        assert admin.post("/api/v1/sla-policies", json=wide).status_code == 201
        before = stored()
        assert_error(admin.post("/api/v1/sla-policies", json=wide), 409, "conflict")
        assert stored() == before

    def test_an_update_may_not_collide_with_another_policy(self, api, city, policy):
        admin = api(city.admin)
        other = admin.post("/api/v1/sla-policies", json={**INFRASTRUCTURE_NORMAL, "category": "potholes"}).get_json()
        before = stored()
        response = admin.put(f"/api/v1/sla-policies/{other['id']}", json={"category": "infrastructure"})
        assert_error(response, 409, "conflict")
        assert stored() == before
        # Saving a policy with its own category and urgency is no collision.
        same = admin.put(
            f"/api/v1/sla-policies/{policy['id']}", json={"category": "infrastructure", "urgency": "normal"}
        )
        assert same.status_code == 200


class TestRoles:
    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor"])
    def test_only_admins_change_policies(self, api, city, policy, who):
        before = stored()
        client = api(getattr(city, who))
        assert_error(
            client.post("/api/v1/sla-policies", json={**INFRASTRUCTURE_NORMAL, "urgency": "urgent"}), 403, "forbidden"
        )
        assert_error(client.put(f"/api/v1/sla-policies/{policy['id']}", json={"accept_amount": 1}), 403, "forbidden")
        assert_error(client.delete(f"/api/v1/sla-policies/{policy['id']}"), 403, "forbidden")
        assert stored() == before
        assert client.get("/api/v1/sla-policies").status_code == 200

    def test_no_token_is_401(self, client):
        assert_error(client.get("/api/v1/sla-policies"), 401, "unauthorized")
        assert_error(client.post("/api/v1/sla-policies", json=INFRASTRUCTURE_NORMAL), 401, "unauthorized")
        assert stored() == []


class TestDeadlines:
    def test_a_parent_policy_sets_the_deadlines_of_a_child_ticket_routed_afterwards(self, api, city):
        earlier = factories.make_routed_ticket(city.operator)  # potholes, under infrastructure
        earlier_due = earlier.resolve_due_at
        api(city.admin).post("/api/v1/sla-policies", json=INFRASTRUCTURE_NORMAL)

        later = factories.make_routed_ticket(city.operator)
        calendar = work_calendar()
        body = api(city.supervisor).get(f"/api/v1/tickets/{later.number}").get_json()
        assert body["category"] == "potholes"
        assert body["sla"]["policy"] == "infrastructure"
        assert body["sla"]["accept"] == {"amount": 2, "unit": "working_hours"}
        assert body["sla"]["resolve"] == {"amount": 3, "unit": "working_days"}
        assert body["accept_due_at"] == iso(calendar.add_working_minutes(later.dispatched_at, 2 * 60))
        assert body["resolve_due_at"] == iso(calendar.add_working_days(later.dispatched_at, 3))

        # The ticket dispatched before keeps its five days.
        body = api(city.supervisor).get(f"/api/v1/tickets/{earlier.number}").get_json()
        assert (body["sla"]["policy"], body["resolve_due_at"]) == ("default", iso(earlier_due))

        # Other branches of the tree and other urgencies are not touched.
        water = factories.make_routed_ticket(city.operator, category="water-supply")
        urgent = factories.make_routed_ticket(city.operator, urgency="urgent")
        assert water.sla_terms["source"] == "default" and urgent.sla_terms["source"] == "default"

    def test_the_extension_limit_comes_from_the_policy(self, api, city, policy):
        ticket = factories.make_routed_ticket(city.operator)
        staff = api(city.roads_staff)
        url = f"/api/v1/tickets/{ticket.number}/extend"
        assert_error(staff.post(url, json={"days": 6, "reason": "r"}), 400, "invalid_input", "days")
        assert staff.post(url, json={"days": 5, "reason": "r"}).status_code == 200

    def test_an_urgent_hotline_wide_policy_in_calendar_time(self, api, city):
        api(city.admin).post(
            "/api/v1/sla-policies",
            json={
                "category": None,
                "urgency": "urgent",
                "accept_amount": 15,
                "accept_unit": "calendar_minutes",
                "resolve_amount": 12,
                "resolve_unit": "calendar_hours",
            },
        )
        ticket = factories.make_routed_ticket(city.operator, urgency="urgent")
        assert ticket.accept_due_at - ticket.dispatched_at == timedelta(minutes=15)
        assert ticket.resolve_due_at - ticket.dispatched_at == timedelta(hours=12)
        assert ticket.sla_terms["source"] == "hotline"

    def test_after_a_delete_tickets_fall_back_to_the_defaults(self, api, city, policy):
        api(city.admin).delete(f"/api/v1/sla-policies/{policy['id']}")
        ticket = factories.make_routed_ticket(city.operator)
        assert ticket.sla_terms["source"] == "default"
        assert ticket.resolve_due_at == work_calendar().add_working_days(ticket.dispatched_at, 5)
