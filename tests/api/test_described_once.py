"""The API described once (issue 15, item 6): the action table of api/actions.py, read against the
lifecycle table, the routes and the OpenAPI document; the body schemas that both validate the
input and describe it."""

from __future__ import annotations

import pytest

from hotline.api.actions import API_ACTIONS
from hotline.services.ticketing import lifecycle
from tests.api.helpers import assert_error, snapshot


def test_every_api_action_is_a_route_of_its_lifecycle_action(app):
    """Each row answers at its own path and endpoint, and the lifecycle table names that endpoint
    as a route of the action; every API route the lifecycle table names is a route of the app
    (a row here, POST /tickets, or a view not converted yet: docs/api.md, "Adding an API route")."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for row in API_ACTIONS.values():
        rule = rules[f"api.{row.endpoint}"]
        assert rule.rule == f"/api/v1/tickets/<number>/{row.tail}"
        assert rule.methods - {"HEAD", "OPTIONS"} == {"POST"}
        assert f"api.{row.endpoint}" in lifecycle.ACTIONS[row.action].routes, row.tail
    named = {
        route.removeprefix("api.")
        for action in lifecycle.ACTIONS.values()
        for route in action.routes
        if route.startswith("api.")
    }
    assert {row.endpoint for row in API_ACTIONS.values()} <= named
    assert {f"api.{endpoint}" for endpoint in named} <= set(rules)


def test_the_document_describes_each_body_from_its_schema(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for row in API_ACTIONS.values():
        operation = spec["paths"][f"/api/v1/tickets/{{number}}/{row.tail}"]["post"]
        assert operation["operationId"] == row.endpoint
        assert operation["requestBody"]["required"] is row.body_required
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[reference.rsplit("/", 1)[1]]
        assert list(body["properties"]) == list(row.body.fields), row.tail
        assert set(body.get("required", [])) == {name for name, field in row.body.fields.items() if field.required}
        assert body["additionalProperties"] is False
        if row.versioned:
            assert body["properties"]["version"]["type"] == ["integer", "null"]
            assert any(param["name"] == "If-Match" for param in operation["parameters"])
        assert ("202" in operation["responses"]) is (row.accepted is not None)


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({}, "days", "“days” is required."),
        ({"days": None, "reason": "x"}, "days", "“days” is required."),
        ({"days": True, "reason": "x"}, "days", "Ask for a whole number of working days, at least 1."),
        ({"days": 2.5, "reason": "x"}, "days", "Ask for a whole number of working days, at least 1."),
        # In the schema's order: the first field at fault is the one named.
        ({"days": "2", "reason": 5}, "days", "Ask for a whole number of working days, at least 1."),
        ({"days": 2, "reason": 5}, "reason", "“reason” must be a string."),
        ({"days": 2, "reason": "x", "version": 0}, "version", "“version” must be a positive integer."),
        ({"days": 2, "reason": "x", "dayz": 3}, "dayz", "Unknown field “dayz”; allowed: days, reason, version."),
    ],
)
def test_a_body_is_checked_by_its_schema_with_the_apis_messages(api, city, routed, body, field, detail):
    before = snapshot(routed.number)
    response = api(city.roads_staff).post(
        f"/api/v1/tickets/{routed.number}/extend", json=body, headers={"Accept-Language": "en"}
    )
    assert assert_error(response, 400, "invalid_input", field)["detail"] == detail
    assert snapshot(routed.number) == before


def test_an_unknown_action_is_no_route(api, city, routed):
    assert_error(api(city.dispatcher).post(f"/api/v1/tickets/{routed.number}/teleport", json={}), 404, "not_found")
