"""The supervisors' dashboard: figures per group on a small hand-made data set, against the
previous period, each grouping, the ranking, the charts, bad input; and the misrouting report."""

from __future__ import annotations

import re
from datetime import date

import pytest

from hotline.services.reporting import report_figures, reports
from hotline.services.ticketing import tickets
from hotline.web import report_params, report_views
from tests import factories
from tests.web.conftest import text_of
from tests.web.report_data import END, RANGE, START, Data, make, make_data


@pytest.fixture
def data(city) -> Data:
    return make_data(city)


def rows(html: str, attribute: str, key: str) -> dict[str, str]:
    """Every figure of a group's rows (the table's three column sets), by column name."""
    cells: dict[str, str] = {}
    for row in re.findall(rf'<tr [^>]*{attribute}="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S):
        for name, cell in re.findall(r'<td[^>]*data-col="([^"]+)"[^>]*>(.*?)</td>', row, re.S):
            cells.setdefault(name, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip())
    return cells


def card(html: str, name: str) -> tuple[str, str]:
    """A headline card's value and its change against the previous period."""
    part = re.search(rf'data-card="{name}">(.*?)</div>\s*</div>\s*</div>', html, re.S).group(1)
    value = re.search(r'card-value">(.*?)</div>', part, re.S).group(1)
    change = part[part.index("card-value") :]
    change = re.sub(r"<[^>]+>", " ", change.split("</div>", 1)[1])
    return re.sub(r"<[^>]+>", "", value).strip(), re.sub(r"\s+", " ", change).strip()


def test_dashboard_figures_per_department(login, city, data):
    html = text_of(login(city.supervisor).get(f"/reports/response-times?{RANGE}"))
    roads = rows(html, "data-department", "roads")
    assert roads["received"] == "3"
    assert (roads["dispatched"], roads["accepted"], roads["resolved"], roads["open"]) == ("3", "2", "2", "1")
    assert roads["overdue_open"] == "1"
    assert (roads["rated"], roads["returned"], roads["direct_answers"]) == ("2", "0", "0")
    assert roads["accept_p50_minutes"] == "30.0"  # 10 and 50 minutes
    assert roads["resolve_p50_hours"] == "4.0"  # 2 and 6 hours
    assert roads["resolve_mean_hours"] == "4.0"
    assert roads["response_rate"] == "33.3%"  # on time 1 of 3 decided (one still unaccepted and late)
    assert roads["resolution_rate"] == "66.7%"
    assert roads["resolved_on_time_rate"] == "50.0%"
    assert roads["satisfaction_rate"] == "50.0%"
    water = rows(html, "data-department", "water")
    assert (water["received"], water["resolved"], water["resolved_on_time_rate"]) == ("1", "1", "100.0%")
    # The returned ticket no department holds counts for the city only.
    assert water["returned"] == "0"
    # Every figure on the page is the service's.
    expected = {r.key: r for r in reports.report(START, END, "department")}
    for column in report_views.ALL_COLUMNS:
        value = getattr(expected["roads"], column.name)
        shown = {"count": str(value), "rate": f"{value * 100:.1f}%" if value is not None else "—"}.get(
            column.kind, f"{value:.1f}" if value is not None else "—"
        )
        assert roads[column.name] == shown, column.name
    # Counts link to the tickets behind them.
    assert f"/reports/tickets?group_by=department&key=roads&measure=resolved&from={START}&to={END}" in html
    assert "Figures as of" in html and "within 1 minute or 1% of the exact value." in html
    assert "Response rate</dt>" in html and "Accepted on time (at or before the accept deadline)" in html


def test_headline_cards_compare_with_the_previous_period(login, city, data):
    html = text_of(login(city.supervisor).get(f"/reports/response-times?{RANGE}"))
    assert f"compared with {date(2026, 10, 26)} – {date(2026, 11, 1)}" in html
    # The week before had one ticket, resolved late: the city went from 1 to 6 received...
    assert card(html, "received") == ("6", "▲ +5")
    assert card(html, "resolved") == ("3", "▲ +2")
    # ... and from 0 % to 2 of 3 resolved on time: +66.7 percentage points, good news.
    assert card(html, "resolved_on_time_rate") == ("66.7%", "▲ +66.7 pp")
    assert 'class="small change text-success"' in html
    assert card(html, "direct_answer_rate")[0] == "16.7%"
    assert card(html, "overdue_open")[0] == "1"
    # The return rate against 0 of 1: a rise, bad news. (The returned ticket awaits dispatch
    # again; it was dispatched once, so it is among the 5 dispatched: 1 of 5.)
    assert card(html, "return_rate") == ("20.0%", "▲ +20.0 pp")


def test_each_grouping_renders(login, city, data):
    client = login(city.supervisor)
    expected = {
        "category": {"infrastructure": "3", "potholes": "3", "water-supply": "2", "other": "1"},
        "district": {"east": "5", "west": "1"},
        "channel": {"phone": "5", "web": "1"},
        "type": {"complaint": "4", "help": "1", "consultation": "1"},
    }
    names = {"potholes": "城乡建设 / 道路坑洼", "west": "西城区", "web": "Web", "help": "Request for help"}
    for group_by, received in expected.items():
        level = "&level=all" if group_by == "category" else ""
        html = text_of(client.get(f"/reports/response-times?{RANGE}&group_by={group_by}{level}"))
        assert f'<option value="{group_by}" selected>' in html
        for key, count in received.items():
            assert rows(html, "data-key", key)["received"] == count, (group_by, key)
        for key, name in names.items():
            if key in received:
                assert f">{name}</a>" in html
        assert "data-department=" not in html.split('id="ranking"')[0]


def test_categories_show_the_first_level_unless_asked(login, city, data):
    client = login(city.supervisor)
    first = text_of(client.get(f"/reports/response-times?{RANGE}&group_by=category"))
    assert rows(first, "data-key", "infrastructure")["received"] == "3"
    assert 'data-key="potholes"' not in first.split('id="ranking"')[0]
    assert "level=2" in first and "level=all" in first
    second = text_of(client.get(f"/reports/response-times?{RANGE}&group_by=category&level=2"))
    assert rows(second, "data-key", "potholes")["received"] == "3"
    bad = text_of(client.get(f"/reports/response-times?{RANGE}&group_by=category&level=9"))
    assert "“9” is not one of: 1, 2, all." in bad


def test_ranking_worst_first_and_trends(login, city, data):
    html = text_of(login(city.supervisor).get(f"/reports/response-times?{RANGE}"))
    ranking = html[html.index('id="ranking"') :]
    order = re.findall(r'data-rank-department="([^"]+)"', ranking)
    assert order == ["roads", "water"]  # 50 % resolved on time before 100 %
    assert rows(ranking, "data-rank-department", "roads")["resolved_on_time_rate"] == "50.0%"
    assert "Worst first: by resolved-on-time rate, then response rate" in html
    # Charts are SVG made on the server, with no script.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 4
    assert "<script" not in html.split('id="trends"')[1].split("</figure>")[0]
    assert "cdn" not in html.lower()
    # One row per day of the range in the trend table, empty days included.
    assert len(re.findall(r'<tr data-period="', html)) == 7
    day = rows(html, "data-period", "2026-11-03")
    assert (day["received"], day["resolved"]) == ("3", "3")
    assert "/reports/tickets?group_by=all&key=&measure=received&from=2026-11-03&to=2026-11-03" in html


def test_focus_on_one_group_and_trend_per_week(login, city, data):
    client = login(city.supervisor)
    html = text_of(client.get(f"/reports/response-times?{RANGE}&trend=week&focus=roads"))
    assert "Trends (weekly): 道路管理局" in html
    periods = re.findall(r'<tr data-period="([^"]+)"', html)
    assert periods == ["2026-11-02"]  # a Monday: the range is one week
    assert rows(html, "data-period", "2026-11-02")["received"] == "3"
    month = text_of(client.get("/reports/response-times?from=2026-10-20&to=2026-11-08&trend=month"))
    assert re.findall(r'<tr data-period="([^"]+)"', month) == ["2026-10-01", "2026-11-01"]
    assert rows(month, "data-period", "2026-10-01")["received"] == "1"


def test_presets_and_previous_periods():
    today = date(2026, 11, 25)  # a Wednesday
    cases = {
        "today": ((today, today), (date(2026, 11, 24), date(2026, 11, 24))),
        "week": ((date(2026, 11, 23), today), (date(2026, 11, 16), date(2026, 11, 18))),
        "month": ((date(2026, 11, 1), today), (date(2026, 10, 1), date(2026, 10, 25))),
        "30d": ((date(2026, 10, 27), today), (date(2026, 9, 27), date(2026, 10, 26))),
    }
    for preset, (span, previous) in cases.items():
        query = report_params.parse_query({"range": preset}, today)
        assert (query.span.start, query.span.end) == span, preset
        assert (query.previous.start, query.previous.end) == previous, preset
        # The same dates typed in compare the same way.
        typed = report_params.parse_query({"from": span[0].isoformat(), "to": span[1].isoformat()}, today)
        assert (typed.preset, typed.previous) == (preset, query.previous)
    # The last days of March against February: cut at its end.
    march = report_params.parse_query({"range": "month"}, date(2027, 3, 31))
    assert (march.previous.start, march.previous.end) == (date(2027, 2, 1), date(2027, 2, 28))
    custom = report_params.parse_query({"from": "2026-11-02", "to": "2026-11-08"}, today)
    assert (custom.preset, custom.previous.start, custom.previous.end) == (
        "custom",
        date(2026, 10, 26),
        date(2026, 11, 1),
    )


def test_preset_buttons(login, city, data):
    client = login(city.supervisor)
    html = text_of(client.get("/reports/response-times?range=week&group_by=district"))
    assert 'class="btn btn-outline-primary active" id="range-week"' in html
    assert '<option value="district" selected>' in html
    assert text_of(client.get("/reports/response-times")).count("btn btn-outline-primary active") == 1


def test_report_date_range(login, city):
    factories.make_routed_ticket(city.operator)
    report_figures.refresh_dirty()
    client = login(city.supervisor)
    html = text_of(client.get("/reports/response-times?from=2020-01-01&to=2020-01-31"))
    assert 'data-department="roads"' not in html
    assert 'value="2020-01-01"' in html
    assert "No tickets were logged in this period." in html
    assert rows(text_of(client.get("/reports/response-times")), "data-department", "roads")["received"] == "1"


def test_report_invalid_input_gives_a_message(login, city):
    client = login(city.supervisor)
    cases = {
        "from=2024-13-01": "“2024-13-01” is not a date; use YYYY-MM-DD.",
        "to=yesterday": "“yesterday” is not a date; use YYYY-MM-DD.",
        "from=2024-03-01&to=2024-02-01": "The start date is after the end date.",
        "from=2010-01-01&to=2024-01-01": "Choose at most 3653 days.",
        "from=2020-01-01&to=2024-01-01&trend=day": "A daily trend covers at most 366 days",
        "from=9999-12-31&to=9999-12-31": "Choose dates between",
        "to=0001-01-01": "Choose dates between",
        "from=0001-01-01&to=2026-01-01": "Choose dates between",
        "group_by=street": "“street” is not one of: department, category, district, channel, type",
        "trend=hour": "“hour” is not one of: day, week, month.",
        "range=decade": "“decade” is not one of: today, week, month, 30d, custom.",
    }
    for query, message in cases.items():
        response = client.get(f"/reports/response-times?{query}")
        assert response.status_code == 200, query
        assert message in text_of(response), query
        assert "<tbody>" not in text_of(response)
    assert 'value="2024-13-01"' in text_of(client.get("/reports/response-times?from=2024-13-01"))


def test_only_supervisors_and_admins(login, city):
    for user in (city.operator, city.dispatcher, city.roads_staff):
        assert login(user).get("/reports/response-times").status_code == 403
    assert login(city.admin).get("/reports/response-times").status_code == 200


def _misrouting_row(html: str, table: str, key: str) -> list[str]:
    part = html[html.index(f'id="{table}"') :]
    row = re.search(rf'<tr data-key="{re.escape(key)}"[^>]*>(.*?)</tr>', part, re.S).group(1)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_misrouting_per_rule_and_per_category(login, city):
    from hotline.services.dispatch import routing

    rule = routing.save_rule({"priority": 1, "name": "坑洼归水务", "keywords": ["坑"], "department": "water"})
    returned = factories.make_routed_ticket(city.operator, description="路上有个坑")  # the rule sends it to water
    tickets.return_to_dispatch(city.water_staff, returned, "不归我们")
    factories.make_routed_ticket(city.operator, description="又一个坑")  # the rule, and it holds
    moved = factories.make_routed_ticket(city.operator, description="路面塌陷")  # category default: roads
    tickets.dispatch(city.dispatcher, moved, "water", expected_version=moved.version)
    html = text_of(login(city.supervisor).get("/reports/misrouting"))
    assert _misrouting_row(html, "by-rule", f"rule:{rule.id}") == ["Rule: 坑洼归水务", "2", "1", "0", "0", "50.0%"]
    assert _misrouting_row(html, "by-rule", "category_default") == [
        "Category default department",
        "1",
        "0",
        "1",
        "0",
        "100.0%",
    ]
    assert _misrouting_row(html, "by-rule", "dispatcher") == ["Dispatcher", "1", "0", "0", "0", "0.0%"]
    # Named by the full path: a leaf name alone (其他) repeats across branches.
    assert _misrouting_row(html, "by-category", "potholes") == ["城乡建设 / 道路坑洼", "4", "1", "1", "0", "50.0%"]
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


# --- drill-down -----------------------------------------------------------------------------


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)">', html)


def test_drill_down_count_equals_the_figure(login, city, data):
    client = login(city.supervisor)
    cases = [
        ("department", "roads", "received", {data.on_time, data.late, data.overdue}),
        ("department", "roads", "resolved", {data.on_time, data.late}),
        ("department", "roads", "accepted_late", {data.late, data.overdue}),
        ("department", "roads", "resolved_late", {data.late}),
        ("department", "roads", "overdue", {data.overdue}),
        ("department", "roads", "unsatisfied", {data.late}),
        ("all", "", "direct_answers", {data.direct}),
        ("all", "", "returned", {data.returned}),
        ("district", "west", "received", {data.late}),
        ("channel", "web", "rated", {data.late}),
        ("type", "help", "resolved", {data.water}),
        ("category", "infrastructure", "open", {data.overdue}),
    ]
    figures = {
        group_by: {row.key: row for row in reports.report(START, END, group_by)}
        for group_by in ("all", "department", "district", "channel", "type", "category")
    }
    figure_names = {"overdue": "overdue_open", "direct_answers": "direct_answers"}
    for group_by, key, measure, expected in cases:
        url = f"/reports/tickets?{RANGE}&group_by={group_by}&key={key}&measure={measure}"
        response = client.get(url)
        assert response.status_code == 200, url
        html = text_of(response)
        assert sorted(listed(html)) == sorted(t.number for t in expected), url
        figure = getattr(figures[group_by][key], figure_names.get(measure, measure))
        assert figure == len(expected), url
        total = f"{figure} ticket" if figure == 1 else f"{figure} tickets"
        assert f'id="ticket-total">{total}</strong>' in html, url
    # Overdue and late acceptance are as of now, and the page says so.
    html = text_of(client.get(f"/reports/tickets?{RANGE}&group_by=department&key=roads&measure=overdue"))
    assert "This list is as of now" in html
    assert f'href="/tickets/{data.overdue.number}"' in html
    assert f'href="/reports/response-times?from={START}&to={END}&group_by=department"' in html  # back


def test_every_linked_figure_on_the_page_lists_as_many_tickets(login, city, data):
    """Follow each link in the department table and the cards: the list's total is the figure."""
    client = login(city.supervisor)
    html = text_of(client.get(f"/reports/response-times?{RANGE}"))
    links = set(re.findall(r'href="(/reports/tickets\?[^"]+)"[^>]*>([\d.%]+)</a>', html))
    assert len(links) > 20
    checked = 0
    for url, shown in links:
        if shown.endswith("%"):
            continue  # a rate lists the tickets that count against it
        page = text_of(client.get(url))
        total = int(re.search(r'id="ticket-total">(\d+) ticket', page).group(1))
        assert total == int(shown), url
        checked += 1
    assert checked > 15


def test_drill_down_pages_fifty_at_a_time(login, city):
    for _ in range(53):
        factories.make_ticket(city.operator)
    client = login(city.supervisor)
    html = text_of(client.get("/reports/tickets?group_by=all&measure=received"))
    assert len(listed(html)) == 50
    assert 'id="ticket-total">53 tickets</strong>' in html
    assert "Page 1 of 2" in html
    second = text_of(client.get("/reports/tickets?group_by=all&measure=received&page=2"))
    assert len(listed(second)) == 3
    assert not set(listed(html)) & set(listed(second))
    for page in ("0", "-1", "x", "99999999999999999999999"):  # no error: the first page, or an empty one
        assert client.get(f"/reports/tickets?group_by=all&measure=received&page={page}").status_code == 200


def test_drill_down_bad_input(login, city, data):
    client = login(city.supervisor)
    cases = {
        "measure=everything": "“everything” is not one of: received, dispatched",
        "group_by=street&key=x": "“street” is not one of: all, department",
        "group_by=department&key=nowhere&measure=received": "There is no department “nowhere”.",
        "group_by=department&key=&measure=received": "There is no department “”.",
        "group_by=category&key=nothing": "There is no category “nothing”.",
        "group_by=all&key=roads": "The whole city has no key: leave “key” empty.",
        "from=2026-02-30": "“2026-02-30” is not a date; use YYYY-MM-DD.",
        "from=2026-03-01&to=2026-02-01": "The start date is after the end date.",
        "from=2010-01-01&to=2026-01-01": "Choose at most 3653 days.",
    }
    for query, message in cases.items():
        response = client.get(f"/reports/tickets?{query}")
        assert response.status_code == 400, query
        assert message in text_of(response), query
        assert "<tbody>" not in text_of(response)
    # A district may be none: the tickets logged without one.
    assert client.get(f"/reports/tickets?{RANGE}&group_by=district&key=&measure=received").status_code == 200


def test_department_staff_never_reach_the_reports(client, login, city, data):
    url = f"/reports/tickets?{RANGE}&group_by=department&key=roads&measure=received"
    assert "/login?next=" in client.get(url).headers["Location"]
    client = login(city.roads_staff)
    for url in (
        f"/reports/response-times?{RANGE}",
        f"/reports/tickets?{RANGE}&group_by=department&key=roads&measure=received",
        f"/reports/tickets.csv?{RANGE}&group_by=department&key=roads&measure=received",
        f"/reports/tickets.xlsx?{RANGE}&group_by=department&key=roads&measure=received",
        f"/reports/response-times.csv?{RANGE}",
        f"/reports/response-times.xlsx?{RANGE}&table=ranking",
    ):
        assert client.get(url).status_code == 403, url


def test_the_dashboard_queries_do_not_grow_with_the_groups(login, city, data):
    """No query per row: the dashboard reads day rows through a bounded number of report() calls."""
    from sqlalchemy import event

    from hotline.extensions import db

    client = login(city.supervisor)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def dashboard() -> int:
        db.session.expire_all()  # the same rows to load each time (the user, say)
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/reports/response-times?{RANGE}&group_by=category&focus=roads").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    before = dashboard()
    for n in range(5):
        department = factories.make_department(f"extra{n}")
        category = factories.make_category(f"extra-cat{n}", department)
        make(city.operator, START, category=category.code)
    report_figures.refresh_dirty()
    assert dashboard() == before


def test_trend_granularity_follows_the_length_unless_chosen():
    today = date(2026, 11, 25)
    for start, trend in (("2026-10-01", "day"), ("2026-07-01", "week"), ("2026-01-01", "month")):
        assert report_params.parse_query({"from": start, "to": "2026-11-25"}, today).trend == trend
    assert report_params.parse_query({"from": "2026-01-01", "trend": "day"}, today).trend == "day"
