"""GET /api/v1/search/tickets: ranked ticket summaries with snippets, within the caller's rights."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.models import Status
from hotline.services.reporting import report_figures
from hotline.services.ticketing import merging, tickets
from tests import factories
from tests.api.helpers import assert_error


@pytest.fixture
def cases(city):
    roads = tickets.route(factories.make_ticket(city.operator, description="人民路路灯不亮，路灯杆也歪了。").id)
    water = tickets.route(
        factories.make_ticket(city.operator, description="小区停水，门口路灯不亮。", category="water-supply").id
    )
    secret = tickets.route(factories.make_ticket(city.operator, description="举报路灯工程造假", confidential=True).id)
    return roads, water, secret


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [ticket["number"] for ticket in response.get_json()["tickets"]]


def test_summaries_ranked_with_snippets(api, city, cases):
    roads, water, secret = cases
    response = api(city.supervisor).get("/api/v1/search/tickets?q=路灯")
    body = response.get_json()
    assert numbers(response)[0] == roads.number  # the word twice
    assert set(numbers(response)) == {roads.number, water.number, secret.number}
    first = body["tickets"][0]
    assert set(first) == {
        "number", "status", "category", "department", "parent", "created_at", "snippet", "snippet_html", "score"
    }  # fmt: skip
    assert (first["status"], first["category"], first["department"]) == ("dispatched", "potholes", "roads")
    assert first["snippet"] == "人民路路灯不亮，路灯杆也歪了。"
    assert first["snippet_html"] == "人民路<mark>路灯</mark>不亮，<mark>路灯</mark>杆也歪了。"
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None
    scores = [ticket["score"] for ticket in body["tickets"]]
    assert scores == sorted(scores, reverse=True)
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)
    assert body["total_is_lower_bound"] is False


def test_rights_department_staff_and_operators(api, city, cases):
    roads, water, secret = cases
    assert set(numbers(api(city.roads_staff).get("/api/v1/search/tickets?q=路灯"))) == {roads.number, secret.number}
    assert numbers(api(city.water_staff).get("/api/v1/search/tickets?q=路灯")) == [water.number]
    assert secret.number not in numbers(api(city.operator).get("/api/v1/search/tickets?q=路灯"))
    assert secret.number not in numbers(api(city.dispatcher).get("/api/v1/search/tickets?q=路灯"))
    assert secret.number in numbers(api(city.admin).get("/api/v1/search/tickets?q=路灯"))


def test_every_filter(api, city, cases):
    roads, water, secret = cases
    client = api(city.supervisor)
    search = "/api/v1/search/tickets?q=路灯&"
    assert numbers(client.get(search + "department=water")) == [water.number]
    assert set(numbers(client.get(search + "category=infrastructure"))) == {roads.number, secret.number}
    assert numbers(client.get(search + "status=new")) == []
    assert len(numbers(client.get(search + "status=dispatched,new"))) == 3
    assert len(numbers(client.get(search + "district=east"))) == 3
    assert numbers(client.get(search + "district=west")) == []
    today = datetime.now(report_figures.timezone()).date().isoformat()  # the hotline's local day
    assert len(numbers(client.get(search + f"from=2020-01-01&to={today}"))) == 3
    assert numbers(client.get(search + "to=2020-01-01")) == []


def test_a_merged_ticket_shows_its_parent(api, city, cases):
    roads, water, secret = cases
    duplicate = factories.make_ticket(city.operator, description="人民路路灯坏了")
    merging.merge_into(city.dispatcher, duplicate, roads.number)
    body = api(city.supervisor).get("/api/v1/search/tickets?q=路灯坏了").get_json()
    assert [(t["number"], t["status"], t["parent"]) for t in body["tickets"]] == [
        (duplicate.number, Status.MERGED, roads.number)
    ]


def test_paging(api, city):
    for i in range(5):
        factories.make_ticket(city.operator, description=f"窨井盖缺失 第{i}处")
    client = api(city.supervisor)
    first = client.get("/api/v1/search/tickets?q=窨井盖&per_page=2").get_json()
    last = client.get("/api/v1/search/tickets?q=窨井盖&per_page=2&page=3").get_json()
    assert (first["total"], first["pages"], len(first["tickets"]), len(last["tickets"])) == (5, 3, 2, 1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "q"),
        ("q=", "q"),
        ("q=水", "q"),
        ("q=" + "很" * 201, "q"),
        ("q=路灯&status=opened", "status"),
        ("q=路灯&department=nope", "department"),
        ("q=路灯&category=nope", "category"),
        ("q=路灯&district=nope", "district"),
        ("q=路灯&from=2026-02-30", "from"),
        ("q=路灯&page=0", "page"),
        ("q=路灯&per_page=x", "per_page"),
        ("q=路灯&sort=score", "sort"),
        ("q=%00路灯", None),  # refused before the view (a NUL can be neither stored nor searched)
    ],
)
def test_bad_input_is_a_clear_400(api, city, query, field):
    assert_error(api(city.supervisor).get(f"/api/v1/search/tickets?{query}"), 400, "invalid_input", field)


def test_a_token_is_needed(client):
    assert_error(client.get("/api/v1/search/tickets?q=路灯"), 401, "unauthorized")
