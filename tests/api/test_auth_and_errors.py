"""Auth (bearer tokens, roles) and the JSON error contract, across every route."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Status
from tests import factories
from tests.api.helpers import assert_error, snapshot, ticket_count

NUMBER = "20261125-000001"
ROUTES = [
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets"),
    ("GET", f"/api/v1/tickets/{NUMBER}"),
    ("POST", f"/api/v1/tickets/{NUMBER}/dispatch"),
    ("POST", f"/api/v1/tickets/{NUMBER}/accept"),
    ("POST", f"/api/v1/tickets/{NUMBER}/resolve"),
    ("POST", f"/api/v1/tickets/{NUMBER}/return"),
    ("POST", f"/api/v1/tickets/{NUMBER}/notes"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/districts"),
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/reports/response-times"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_token(client, method, path):
    response = client.open(path, method=method, json={})
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer ", "Basic b3BlcmF0b3I6cGFzc3dvcmQ=", "Token abc", "bearer"],
)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_bad_tokens_are_refused(client, method, path, header):
    response = client.open(path, method=method, json={}, headers={"Authorization": header})
    assert_error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_scheme_is_case_insensitive(app, city):
    from hotline.services.accounts.users import issue_token

    token = issue_token(city.operator)
    response = app.test_client().get("/api/v1/districts", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_an_inactive_users_token_stops_working(api, city):
    client = api(city.operator)
    assert client.get("/api/v1/districts").status_code == 200
    city.operator.active = False
    db.session.commit()
    assert_error(client.get("/api/v1/districts"), 401, "unauthorized")


def test_a_token_sets_no_session_cookie(api, city):
    response = api(city.operator).get("/api/v1/tickets")
    assert response.status_code == 200
    assert "session=" not in response.headers.get("Set-Cookie", "")


WRONG_ROLES = [
    ("roads_staff", "POST", "/api/v1/tickets"),
    ("operator", "POST", "/dispatch"),
    ("roads_staff", "POST", "/dispatch"),
    ("operator", "POST", "/accept"),
    ("dispatcher", "POST", "/accept"),
    ("supervisor", "POST", "/resolve"),
    ("admin", "POST", "/return"),
    ("operator", "GET", "/api/v1/reports/response-times"),
    ("dispatcher", "GET", "/api/v1/reports/response-times"),
    ("roads_staff", "GET", "/api/v1/reports/response-times"),
]


@pytest.mark.parametrize(("who", "method", "path"), WRONG_ROLES)
def test_wrong_roles_get_403_and_change_nothing(api, city, routed, who, method, path):
    if not path.startswith("/api/"):
        path = f"/api/v1/tickets/{routed.number}{path}"
    body = {
        "caller_phone": "13800138000",
        "type": "complaint",
        "category": "potholes",
        "description": "路面塌陷",
        "department": "water",
        "resolution": "已修复",
        "reason": "不属于本单位",
    }
    allowed = {
        "/api/v1/tickets": ("caller_phone", "type", "category", "description"),
        "dispatch": ("department",),
        "resolve": ("resolution",),
        "return": ("reason",),
    }
    key = path.rsplit("/", 1)[-1] if path != "/api/v1/tickets" else path
    payload = {k: body[k] for k in allowed.get(key, ())}
    before = snapshot(routed.number)
    response = api(getattr(city, who)).open(path, method=method, json=payload)
    assert_error(response, 403, "forbidden")
    assert snapshot(routed.number) == before
    assert ticket_count() == 1


def test_department_staff_cannot_reach_a_ticket_no_department_holds(api, city):
    # A pending ticket has no department: no department staff may accept it, and none see it.
    ticket = factories.make_routed_ticket(city.operator, category="other")
    assert ticket.status == Status.PENDING_DISPATCH
    assert_error(api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/accept"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nowhere", "/api/v1/tickets/X/nowhere", "/api/v2/tickets", "/api/"])
def test_unknown_api_paths_are_json_404s(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_wrong_method_is_a_json_405_with_allow(api, city):
    response = api(city.operator).delete("/api/v1/tickets")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    response = api(city.operator).put("/api/v1/departments", json={})
    assert_error(response, 405, "method_not_allowed")


def test_web_pages_keep_their_own_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype != "application/json"


def test_nul_in_the_path_or_query_is_not_a_500(api, city):
    client = api(city.operator)
    assert_error(client.get("/api/v1/tickets/2026%00"), 400, "invalid_input")
    assert_error(client.get("/api/v1/tickets?department=ro%00ads"), 400, "invalid_input")
    assert_error(client.get("/api/v1/tickets?st%00atus=new"), 400, "invalid_input")
    assert_error(client.get("/api/v1/tickets?status=new&status=x%00"), 400, "invalid_input")


def test_a_server_fault_is_a_json_500(app, api, city, monkeypatch):
    import hotline.api.directory

    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(hotline.api.directory, "districts", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    body = assert_error(api(city.operator).get("/api/v1/districts"), 500, "internal_error")
    assert "fire" not in body["detail"]  # no internals leak to the client
