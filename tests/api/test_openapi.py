"""GET /api/v1/openapi.json: a valid OpenAPI document that describes every /api/v1 route, and only those."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_and_public(client):
    spec = _spec(client)  # no Authorization header
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for name in ("Ticket", "Event", "Department", "Category", "District", "RoutingRule", "SlaPolicy", "Article"):
        assert name in spec["components"]["schemas"], name
    assert spec["components"]["schemas"]["Error"]["required"] == ["error", "detail"]


def test_every_route_is_described_and_nothing_else(app, client):
    documented = {
        (method.upper(), path)
        for path, operations in _spec(client)["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    routed = {
        (method, re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - IGNORED_METHODS
    }
    assert routed - documented == set(), "routes without a description in hotline/api/openapi.py"
    assert documented - routed == set(), "descriptions of routes that do not exist"


def test_operation_ids_are_the_endpoint_names(app, client):
    """Each operation is named after its Flask endpoint, so a reader can find the view."""
    spec = _spec(client)
    endpoints = {
        rule.endpoint.removeprefix("api.") for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
    }
    ids = [operation["operationId"] for operations in spec["paths"].values() for operation in operations.values()]
    assert len(ids) == len(set(ids))
    assert set(ids) == endpoints


def test_protected_operations_document_401_and_public_ones_need_no_token(client):
    spec = _spec(client)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation["security"] == []:
                response = client.open(path, method=method.upper())
                assert response.status_code == 200, (method, path)
            else:
                assert "401" in operation["responses"], (method, path)
