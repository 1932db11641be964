"""GET /api/v1/reports/response-times against a small data set whose figures are worked out by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.reporting import report_figures
from tests import factories
from tests.api.helpers import assert_error

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/reports/response-times"


def today() -> date:
    return datetime.now(SHANGHAI).date()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def ticket(city, category: str, created: datetime, status: str = Status.DISPATCHED, **times):
    made = factories.make_routed_ticket(city.operator, category=category)
    made.created_at = created
    made.dispatched_at = created if made.department else None
    made.accepted_at = made.resolved_at = None
    made.status = status
    for name, value in times.items():
        setattr(made, name, value)
    db.session.commit()
    return made


@pytest.fixture
def day(app, city):
    """Ten days ago, local: the day the hand-made tickets were logged."""
    assert app.config["HOTLINE_TIMEZONE"] == "Asia/Shanghai"
    d = today() - timedelta(days=10)
    t = local(d, 10)  # 02:00 UTC
    far = datetime.now(UTC) + timedelta(days=30)
    # Roads: accepted after 10, 30 and 60 minutes; resolved after 2 h (on time) and 10 h (late).
    ticket(city, "potholes", t, Status.RESOLVED, accepted_at=t + timedelta(minutes=10),
           resolved_at=t + timedelta(hours=2), resolve_due_at=t + timedelta(days=5))  # fmt: skip
    ticket(city, "potholes", t, Status.RESOLVED, accepted_at=t + timedelta(minutes=30),
           resolved_at=t + timedelta(hours=10), resolve_due_at=t + timedelta(hours=5))  # fmt: skip
    # In progress and due a day after logging: overdue now.
    ticket(city, "potholes", t, Status.IN_PROGRESS, accepted_at=t + timedelta(minutes=60),
           resolve_due_at=t + timedelta(days=1))  # fmt: skip
    # Not accepted yet, due in a month: counted, not overdue.
    ticket(city, "infrastructure", t, resolve_due_at=far)
    # 23:59 local the evening before: outside the day although the same UTC date as 00:30 below.
    ticket(city, "potholes", local(d - timedelta(days=1), 23, 59), resolve_due_at=far)
    # Water: 00:30 local is the previous day in UTC, yet inside the local day.
    ticket(city, "water-supply", local(d, 0, 30), resolve_due_at=far)
    ticket(city, "water-supply", local(d + timedelta(days=1), 0, 30), resolve_due_at=far)
    # Waiting for a dispatcher: no department, so in no row.
    ticket(city, "other", t, Status.PENDING_DISPATCH)
    report_figures.refresh_dirty()  # what the sweep does every minute
    return d


FIRST_VERSION = (
    "department",
    "department_name",
    "tickets",
    "resolved",
    "accept_p50_minutes",
    "accept_p90_minutes",
    "resolve_p50_hours",
    "resolve_p90_hours",
    "resolved_on_time_rate",
    "overdue_open",
    "rated",
    "satisfaction_rate",
)


def test_exact_figures_per_department_keep_the_first_versions_fields(api, city, day):
    response = api(city.supervisor).get(f"{URL}?from={day}&to={day}&exact=1")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = response.get_json()
    assert not any(row["approximate"] for row in rows)
    assert [{name: row[name] for name in FIRST_VERSION} for row in rows] == [
        {
            "department": "roads",
            "department_name": "道路管理局",
            "tickets": 4,
            "resolved": 2,
            "accept_p50_minutes": 30.0,  # of 10, 30, 60
            "accept_p90_minutes": 54.0,  # 30 + 0.8 * (60 - 30)
            "resolve_p50_hours": 6.0,  # of 2, 10
            "resolve_p90_hours": 9.2,  # 2 + 0.9 * (10 - 2)
            "resolved_on_time_rate": 0.5,
            "overdue_open": 1,
            "rated": 0,
            "satisfaction_rate": None,
        },
        {
            "department": "water",
            "department_name": "水务局",
            "tickets": 1,
            "resolved": 0,
            "accept_p50_minutes": None,
            "accept_p90_minutes": None,
            "resolve_p50_hours": None,
            "resolve_p90_hours": None,
            "resolved_on_time_rate": None,
            "overdue_open": 0,
            "rated": 0,
            "satisfaction_rate": None,
        },
    ]


def test_the_default_reads_the_day_rows_within_a_minute_or_one_percent(api, city, day):
    client = api(city.supervisor)
    exact = client.get(f"{URL}?from={day}&to={day}&exact=1").get_json()
    rows = client.get(f"{URL}?from={day}&to={day}").get_json()
    assert [row["department"] for row in rows] == ["roads", "water"]
    for got, wanted in zip(rows, exact, strict=True):
        assert got["approximate"] is True
        for name, value in wanted.items():
            if name == "approximate":
                continue
            if name.endswith(("_minutes", "_hours")) and value is not None:
                minutes = 60 if name.endswith("_hours") else 1
                # + 0.6: hours are rounded to 0.01 h (36 s) on both sides
                assert abs(got[name] - value) * minutes <= max(1, 0.01 * value * minutes) + 0.6, name
            else:
                assert got[name] == value, name
    roads = rows[0]
    assert (roads["received"], roads["dispatched"], roads["accepted"], roads["open"]) == (4, 4, 3, 2)
    assert roads["response_rate"] == 1.0  # three accepted in time; the fourth is not due for acceptance yet
    assert roads["resolution_rate"] == 0.5 and roads["resolved_late"] == 1


def test_other_groupings_and_periods(api, city, day):
    client = api(city.supervisor)
    week = f"from={day - timedelta(days=3)}&to={day + timedelta(days=3)}"
    categories = {row["category"]: row for row in client.get(f"{URL}?{week}&group_by=category").get_json()}
    assert categories["infrastructure"]["tickets"] == 5  # its own ticket and the four potholes under it
    assert categories["potholes"]["tickets"] == 4
    assert categories["other"]["tickets"] == 1
    (city_row,) = client.get(f"{URL}?{week}&group_by=all").get_json()
    assert city_row["tickets"] == 8 and city_row["group_by"] == "all"
    days = client.get(f"{URL}?{week}&group_by=department&period=day").get_json()
    assert {(row["period"], row["department"]): row["tickets"] for row in days} == {
        ((day - timedelta(days=1)).isoformat(), "roads"): 1,
        (day.isoformat(), "roads"): 4,
        (day.isoformat(), "water"): 1,
        ((day + timedelta(days=1)).isoformat(), "water"): 1,
    }
    channels = client.get(f"{URL}?{week}&group_by=channel").get_json()
    assert sum(row["tickets"] for row in channels) == 8
    operators = client.get(f"{URL}?{week}&group_by=operator").get_json()
    assert [(row["operator"], row["tickets"]) for row in operators] == [("operator", 8)]


def test_level_keeps_the_first_levels_of_the_category_tree(api, city, day):
    client = api(city.supervisor)
    week = f"from={day - timedelta(days=3)}&to={day + timedelta(days=3)}"
    every = {row["category"]: row for row in client.get(f"{URL}?{week}&group_by=category").get_json()}
    first = {row["category"]: row for row in client.get(f"{URL}?{week}&group_by=category&level=1").get_json()}
    assert "potholes" in every and "potholes" not in first  # potholes sits under infrastructure
    assert set(first) == {"infrastructure", "water-supply", "other"}
    assert first == {code: every[code] for code in first}  # the same figures, fewer rows


def test_pages_of_rows_add_up_to_the_whole_report(api, city, day):
    client = api(city.supervisor)
    query = f"{URL}?from={day - timedelta(days=3)}&to={day + timedelta(days=3)}&group_by=category&period=day"
    whole = client.get(query)
    assert whole.headers["X-Total-Count"] == str(len(whole.get_json())) and "Link" not in whole.headers
    assert len(whole.get_json()) >= 5
    pages, url = [], f"{query}&per_page=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200 and response.headers["X-Total-Count"] == str(len(whole.get_json()))
        pages.append(response.get_json())
        links = {rel: href for href, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}
        assert ("prev" in links) == (len(pages) > 1)
        url = links.get("next", "").replace("http://localhost", "")
    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert [row for page in pages for row in page] == whole.get_json()
    assert client.get(f"{query}&page=99").get_json() == []


@pytest.mark.parametrize(("query", "field"), [("level=x", "level"), ("page=0", "page"), ("per_page=-1", "per_page")])
def test_bad_levels_and_pages_are_400s(api, city, query, field):
    assert_error(api(city.supervisor).get(f"{URL}?group_by=category&{query}"), 400, "invalid_input", field)


@pytest.mark.parametrize(("query", "field"), [("group_by=agency", "group_by"), ("period=year", "period")])
def test_unknown_groupings_and_periods_are_400s(api, city, query, field):
    assert_error(api(city.supervisor).get(f"{URL}?{query}"), 400, "invalid_input", field)


def test_the_range_takes_in_both_ends(api, city, day):
    rows = api(city.admin).get(f"{URL}?from={day - timedelta(days=1)}&to={day + timedelta(days=1)}").get_json()
    assert {row["department"]: row["tickets"] for row in rows} == {"roads": 5, "water": 2}


def test_a_range_with_no_tickets_is_an_empty_list(api, city, day):
    assert api(city.supervisor).get(f"{URL}?from=2020-01-01&to=2020-01-31").get_json() == []


def test_the_default_is_the_last_30_days(api, city):
    now = datetime.now(UTC)
    ticket(city, "potholes", now)
    ticket(city, "potholes", local(today() - timedelta(days=29), 0, 1))
    ticket(city, "potholes", local(today() - timedelta(days=30), 23, 59))
    report_figures.refresh_dirty()
    client = api(city.supervisor)
    assert [row["tickets"] for row in client.get(URL).get_json()] == [2]
    # A missing "from" counts 29 days back from "to"; a missing "to" is today.
    assert [row["tickets"] for row in client.get(f"{URL}?from={today() - timedelta(days=30)}").get_json()] == [3]
    assert [row["tickets"] for row in client.get(f"{URL}?to={today() - timedelta(days=30)}").get_json()] == [1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-11-10&to=2026-11-09", "from"),
        ("from=2026-13-01&to=2026-12-31", "from"),
        ("from=2026-02-30", "from"),
        ("from=20261110", "from"),
        ("from=2026-W46-1", "from"),
        ("to=yesterday", "to"),
        ("to=2026-11-10T00:00", "to"),
        ("from=2015-01-01&to=2025-01-01", "from"),  # 3654 days: more than ten years
        ("from=2024-01-01&to=2025-01-01&period=day", "period"),  # 367 days, one row a day: too many
        ("from=2024-01-01&to=2025-01-01&exact=1", "exact"),  # 367 days of tickets read one by one
    ],
)
def test_bad_dates_are_400s(api, city, query, field):
    assert_error(api(city.supervisor).get(f"{URL}?{query}"), 400, "invalid_input", field)


def test_a_leap_year_is_not_too_long(api, city):
    assert api(city.supervisor).get(f"{URL}?from=2024-01-01&to=2024-12-31").status_code == 200
