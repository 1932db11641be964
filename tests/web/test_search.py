"""The search page: every signed-in role has it, finds Chinese words within its rights,
filters, pages, and says clearly what is wrong with a query."""

from __future__ import annotations

import pytest

from hotline.models import Role
from hotline.services.ticketing import tickets
from tests import factories
from tests.web.conftest import text_of


@pytest.fixture(autouse=True)
def _no_routing_queue(monkeypatch):
    from hotline.services.platform import queueing

    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)


@pytest.fixture
def cases(city):
    roads = tickets.route(factories.make_ticket(city.operator, description="人民路路灯不亮，晚上很黑。").id)
    water = tickets.route(
        factories.make_ticket(city.operator, description="小区停水三天，路灯也不亮。", category="water-supply").id
    )
    secret = tickets.route(
        factories.make_ticket(city.operator, description="举报路灯工程<偷工减料>", confidential=True).id
    )
    return roads, water, secret


@pytest.mark.parametrize("role", Role.ALL)
def test_every_signed_in_role_has_the_page_and_the_menu_link(login, city, role):
    user = {
        Role.OPERATOR: city.operator,
        Role.DISPATCHER: city.dispatcher,
        Role.DEPARTMENT: city.roads_staff,
        Role.SUPERVISOR: city.supervisor,
        Role.ADMIN: city.admin,
    }[role]
    response = login(user).get("/search")
    assert response.status_code == 200
    page = text_of(response)
    assert 'href="/search"' in page
    assert "confidential tickets are found only by supervisors" in page


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get("/search?q=路灯")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_supervisor_finds_all_with_marked_snippets(login, city, cases):
    roads, water, secret = cases
    page = text_of(login(city.supervisor).get("/search?q=路灯"))
    for ticket in cases:
        assert ticket.number in page
    assert "<mark>路灯</mark>" in page
    assert "&lt;偷工减料&gt;" in page  # the ticket's own text is escaped
    assert "3 tickets match." in page


def test_an_operator_does_not_find_confidential_tickets(login, city, cases):
    roads, water, secret = cases
    page = text_of(login(city.operator).get("/search?q=路灯"))
    assert roads.number in page and water.number in page
    assert secret.number not in page


def test_department_staff_find_only_their_departments_tickets_and_never_the_caller(login, city, cases):
    roads, water, secret = cases
    page = text_of(login(city.water_staff).get("/search?q=路灯"))
    assert water.number in page
    assert roads.number not in page and secret.number not in page
    assert "13800138000" not in page and "张三" not in page


def test_filters_narrow_the_results(login, city, cases):
    roads, water, secret = cases
    page = text_of(login(city.supervisor).get("/search?q=路灯&department=water&status=dispatched"))
    assert water.number in page
    assert roads.number not in page
    page = text_of(login(city.supervisor).get("/search?q=路灯&category=infrastructure&district=east"))
    assert roads.number in page and secret.number in page and water.number not in page


def test_results_are_paged(login, city):
    for i in range(23):
        factories.make_ticket(city.operator, description=f"窨井盖缺失 {i}")
    client = login(city.supervisor)
    first = text_of(client.get("/search?q=窨井盖"))
    assert "Page 1 of 2" in first
    second = text_of(client.get("/search?q=窨井盖&page=2"))
    assert "Page 2 of 2" in second
    assert second.count("search-snippet") == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=水", "The search is too short"),
        ("q=路灯&status=opened", "Unknown status"),
        ("q=路灯&from=not-a-date", "must be a date"),
        ("status=new", "Type the words to search for."),
    ],
)
def test_bad_queries_get_a_clear_message(login, city, query, message):
    response = login(city.supervisor).get(f"/search?{query}")
    assert response.status_code == 400
    assert message in text_of(response)


def test_no_match_says_so(login, city, cases):
    page = text_of(login(city.supervisor).get("/search?q=火车站"))
    assert "No tickets match." in page
