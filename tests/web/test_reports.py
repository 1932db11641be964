import re
from datetime import timedelta

from hotline.extensions import db
from hotline.services import tickets
from tests import factories
from tests.web.conftest import text_of


def _row(html: str, department: str) -> list[str]:
    row = re.search(rf'<tr data-department="{department}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_report_shows_a_row_per_department(login, city):
    done = factories.make_routed_ticket(city.operator)
    # Accepted 30 minutes and resolved 5 hours after dispatch, before the deadline.
    done.dispatched_at = done.dispatched_at - timedelta(hours=5)
    db.session.commit()
    tickets.accept(city.roads_staff, done)
    done.accepted_at = done.dispatched_at + timedelta(minutes=30)
    db.session.commit()
    tickets.resolve(city.roads_staff, done, "已修复")
    factories.make_routed_ticket(city.operator)  # still open
    html = text_of(login(city.supervisor).get("/reports/response-times"))
    cells = _row(html, "roads")
    assert cells[0] == "道路管理局"
    assert cells[1:4] == ["2", "1", "30.0"]  # tickets, resolved, median minutes to accept
    assert cells[5] == "5.0"  # median hours to resolve
    assert cells[7] == "100.0%"
    assert cells[8] == "0"
    assert 'data-department="water"' not in html
    assert "Time to accept: from dispatch to acceptance" in html


def test_report_date_range(login, city):
    factories.make_routed_ticket(city.operator)
    client = login(city.supervisor)
    html = text_of(client.get("/reports/response-times?from=2020-01-01&to=2020-01-31"))
    assert 'data-department="roads"' not in html
    assert 'value="2020-01-01"' in html
    assert "No tickets were logged" in html


def test_report_invalid_dates_give_a_message(login, city):
    client = login(city.supervisor)
    cases = {
        "from=2024-13-01": "“2024-13-01” is not a date; use YYYY-MM-DD.",
        "to=yesterday": "“yesterday” is not a date; use YYYY-MM-DD.",
        "from=2024-03-01&to=2024-02-01": "The start date is after the end date.",
        "from=2020-01-01&to=2024-01-01": "Choose at most 366 days.",
        "from=9999-12-31&to=9999-12-31": "Choose dates between",
    }
    for query, message in cases.items():
        response = client.get(f"/reports/response-times?{query}")
        assert response.status_code == 200, query
        assert message in text_of(response), query
        assert "<tbody>" not in text_of(response)


def _misrouting_row(html: str, table: str, key: str) -> list[str]:
    part = html[html.index(f'id="{table}"') :]
    row = re.search(rf'<tr data-key="{re.escape(key)}"[^>]*>(.*?)</tr>', part, re.S).group(1)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_misrouting_per_rule_and_per_category(login, city):
    from hotline.services import routing

    rule = routing.save_rule({"priority": 1, "name": "坑洼归水务", "keywords": ["坑"], "department": "water"})
    returned = factories.make_routed_ticket(city.operator, description="路上有个坑")  # the rule sends it to water
    tickets.return_to_dispatch(city.water_staff, returned, "不归我们")
    factories.make_routed_ticket(city.operator, description="又一个坑")  # the rule, and it holds
    moved = factories.make_routed_ticket(city.operator, description="路面塌陷")  # category default: roads
    tickets.dispatch(city.dispatcher, moved, "water", expected_version=moved.version)
    html = text_of(login(city.supervisor).get("/reports/misrouting"))
    assert _misrouting_row(html, "by-rule", f"rule:{rule.id}") == ["Rule: 坑洼归水务", "2", "1", "0", "50.0%"]
    assert _misrouting_row(html, "by-rule", "category_default") == [
        "Category default department",
        "1",
        "0",
        "1",
        "100.0%",
    ]
    assert _misrouting_row(html, "by-rule", "dispatcher") == ["Dispatcher", "1", "0", "0", "0.0%"]
    assert _misrouting_row(html, "by-category", "potholes") == ["道路坑洼", "4", "1", "1", "50.0%"]
    assert "Misrouting rate: (returned + reassigned) ÷ routed." in html
    # Administrators may open the rule from the report.
    assert f'href="/admin/routing-rules/{rule.id}/edit"' in text_of(login(city.admin).get("/reports/misrouting"))
    assert f'href="/admin/routing-rules/{rule.id}/edit"' not in html


def test_misrouting_dates_and_roles(login, city):
    client = login(city.supervisor)
    response = client.get("/reports/misrouting?from=2024-03-01&to=2024-02-01")
    assert response.status_code == 200
    assert "The start date is after the end date." in text_of(response)
    assert 'id="by-rule"' not in text_of(response)
    html = text_of(client.get("/reports/misrouting?from=2020-01-01&to=2020-01-31"))
    assert "No routed tickets in this period." in html
    for user in (city.operator, city.dispatcher, city.roads_staff):
        assert login(user).get("/reports/misrouting").status_code == 403
