"""The API described once (issue 15, item 6), beyond the actions: each resource's marshmallow
schemas are its OpenAPI components, and the bodies they read name the first field at fault in
the order the API always did (the schemas check types; the services keep their own messages)."""

from __future__ import annotations

import pytest

from hotline.api.calendar import CALENDAR_DAY_INPUT, CALENDAR_YEAR
from hotline.api.duty import ROTA, SHIFT_INPUT
from hotline.api.knowledge import ARTICLE
from hotline.api.policies import POLICY, POLICY_CHANGE, POLICY_INPUT
from hotline.api.reports import CALL_REPORT, MISROUTING, OVERDUE, RESPONSE_TIMES
from hotline.api.routing import DECISION, RULE, RULE_CHANGE, RULE_INPUT, RULE_TEST
from hotline.api.search import SEARCH_PAGE
from hotline.api.tickets import VIEW_PAGE
from tests.api.helpers import assert_error

SCHEMAS = {
    "SlaPolicy": POLICY,
    "SlaPolicyInput": POLICY_INPUT,
    "SlaPolicyChange": POLICY_CHANGE,
    "CalendarYear": CALENDAR_YEAR,
    "CalendarDayInput": CALENDAR_DAY_INPUT,
    "DutyRota": ROTA,
    "DutyShiftInput": SHIFT_INPUT,
    "Article": ARTICLE,
    "SearchPage": SEARCH_PAGE,
    "ResponseTimeRow": RESPONSE_TIMES,
    "CallReportRow": CALL_REPORT,
    "MisroutingReport": MISROUTING,
    "OverdueNow": OVERDUE,
    "RoutingRule": RULE,
    "RoutingRuleInput": RULE_INPUT,
    "RoutingRuleChange": RULE_CHANGE,
    "RoutingTest": RULE_TEST,
    "RoutingDecision": DECISION,
    "ViewPage": VIEW_PAGE,
}


def test_each_component_is_its_schema(client):
    components = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name, schema in SCHEMAS.items():
        component = components[name]
        assert list(component["properties"]) == list(schema.fields), name
        assert set(component.get("required", [])) == {n for n, f in schema.fields.items() if f.required}, name
        assert component["additionalProperties"] is False, name


def test_a_grouping_names_its_group_the_first_versions_way(api, city, routed):
    rows = api(city.supervisor).get("/api/v1/reports/response-times?group_by=category&exact=1").get_json()
    assert rows and all(row["category"] == row["key"] and row["category_name"] == row["name"] for row in rows)
    assert all("department" not in row for row in rows)
    (whole,) = api(city.supervisor).get("/api/v1/reports/response-times?group_by=all&exact=1").get_json()
    assert not {"category", "department", "district"} & set(whole)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Strings first, then numbers, then the rest: as the API always named the first fault.
        ({"id": "x", "name": 5, "department": "water"}, "name"),
        ({"priority": "x", "department": 5}, "department"),
        ({"active": "yes", "priority": 10**9, "department": "water"}, "priority"),
        ({"keywords": "x", "active": 1, "department": "water"}, "active"),
    ],
)
def test_a_rule_names_the_first_fault_in_the_apis_order(api, city, body, field):
    assert_error(api(city.admin).post("/api/v1/routing-rules", json=body), 400, "invalid_input", field)


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        (
            {"sample": {"type": "gossip", "description": 5}},
            "sample.description",
            "“sample.description” must be a string.",
        ),
        (
            {"sample": {"category": "potholes"}, "rules": [{"department": "water"}, {"name": 3}]},
            "rules[1].name",
            "“rules[1].name” must be a string.",
        ),
        ({"sample": {"category": "potholes"}, "rules": {}}, "rules", "“rules” must be a list of rules."),
    ],
)
def test_objects_inside_a_body_are_named_by_their_path(api, city, body, field, detail):
    response = api(city.dispatcher).post("/api/v1/routing-rules/test", json=body, headers={"Accept-Language": "en"})
    assert assert_error(response, 400, "invalid_input", field)["detail"] == detail


def test_a_change_keeps_what_the_body_leaves_out_and_refuses_a_null(api, city):
    admin = api(city.admin)
    body = {
        "urgency": "normal",
        "accept_amount": 2,
        "accept_unit": "working_hours",
        "resolve_amount": 3,
        "resolve_unit": "working_days",
        "category": "potholes",
    }
    created = admin.post("/api/v1/sla-policies", json=body).get_json()
    changed = admin.put(f"/api/v1/sla-policies/{created['id']}", json={"resolve_amount": 4}).get_json()
    assert changed == created | {"resolve_amount": 4}
    response = admin.put(
        f"/api/v1/sla-policies/{created['id']}", json={"accept_amount": None}, headers={"Accept-Language": "en"}
    )
    assert assert_error(response, 400, "invalid_input", "accept_amount")["detail"] == "“accept_amount” cannot be null."


def test_off_is_required_but_null_is_one_of_its_values(api, city, holidays):
    admin = api(city.admin)
    missing = admin.put("/api/v1/calendar/days/2031-03-08", json={"name": "x"}, headers={"Accept-Language": "en"})
    detail = assert_error(missing, 400, "invalid_input", "off")["detail"]
    assert detail == "“off” is required: true, false, or null to remove the exception."
    assert admin.put("/api/v1/calendar/days/2031-03-08", json={"off": None}).status_code == 200
