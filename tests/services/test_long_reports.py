"""Reports over up to ten years: the figures read from the week and month rows (and the day
rows at either end of the range) equal a computation straight from the tickets, in Python."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import ReportPeriodFact, ReportState, Status
from hotline.services.reporting import report_figures, reports
from hotline.services.ticketing import derived
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2016, 1, 1), date(2025, 12, 31)  # ten years: 3653 days


def _local(day: date, minutes: int) -> datetime:
    return (datetime.combine(day, time.min, tzinfo=SHANGHAI) + timedelta(minutes=minutes)).astimezone(UTC)


@pytest.fixture
def decade(app, city):
    """About 130 tickets on random days over ten years (some at local midnight's edges), some
    resolved after a random time, some rated; what each one is, for the Python computation."""
    assert app.config["HOTLINE_TIMEZONE"] == "Asia/Shanghai"
    rng = random.Random(16)
    made = []
    days = sorted(FIRST + timedelta(days=rng.randrange((LAST - FIRST).days + 1)) for _ in range(120))
    # Both sides of a month's and a week's first local minute: the day rows must put them right.
    days += [date(2019, 3, 31), date(2019, 4, 1), date(2020, 2, 29), date(2021, 11, 28), date(2021, 11, 29)]
    for day in days:
        category = rng.choice(["potholes", "water-supply", "infrastructure"])
        ticket = factories.make_routed_ticket(city.operator, category=category)
        created = _local(day, rng.choice([0, 1, 600, 1439]))
        ticket.created_at = created
        ticket.dispatched_at = created + timedelta(minutes=rng.randrange(1, 90))
        ticket.accepted_at = ticket.resolved_at = None
        ticket.status = Status.DISPATCHED
        if rng.random() < 0.6:
            ticket.accepted_at = ticket.dispatched_at + timedelta(minutes=rng.randrange(1, 300))
            ticket.resolved_at = ticket.accepted_at + timedelta(minutes=rng.randrange(10, 20_000))
            ticket.status = Status.RESOLVED
            ticket.satisfaction = rng.choice([None, "satisfied", "basically_satisfied", "unsatisfied"])
        ticket.resolve_due_at = ticket.dispatched_at + timedelta(days=rng.choice([1, 5, 30]))
        made.append(ticket)
    derived.tickets_changed(made, words=False, scopes=False)  # edited here, not through the services
    db.session.commit()
    # As the minute's refresh finds them: only the marked days (a first run would rebuild all).
    db.session.add(ReportState(id=1, rebuilt_at=datetime.now(UTC)))
    db.session.commit()
    while report_figures.refresh_dirty():
        pass
    return made


def _expected(tickets, start: date, end: date, period: str | None, group_by: str) -> dict:
    """The figures worked out from the tickets themselves."""
    groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(list))
    for ticket in tickets:
        day = ticket.created_at.replace(tzinfo=UTC).astimezone(SHANGHAI).date()
        if not start <= day <= end:
            continue
        if period == "month":
            first = day.replace(day=1)
        elif period == "week":
            first = day - timedelta(days=day.weekday())
        else:
            first = None
        key = {"all": "", "department": ticket.department.code}[group_by]
        group = groups[(first, key)]
        group["received"].append(1)
        if ticket.resolved_at is not None:
            group["resolve"].append((ticket.resolved_at - ticket.dispatched_at).total_seconds() / 3600)
        group["open"].append(int(ticket.status in Status.OPEN))
        if ticket.satisfaction:
            group["rated"].append(int(ticket.satisfaction in ("satisfied", "basically_satisfied")))
    found = {}
    for (first, key), group in groups.items():
        resolve, rated = group["resolve"], group["rated"]
        found[(first, key)] = {
            "received": len(group["received"]),
            "resolved": len(resolve),
            "open": sum(group["open"]),
            "rated": len(rated),
            "satisfaction_rate": round(sum(rated) / len(rated), 4) if rated else None,
            "resolve_mean_hours": round(sum(resolve) / len(resolve), 2) if resolve else None,
            "resolve_p50_hours": reports.percentile(resolve, 0.5),
        }
    return found


RANGES = [
    (FIRST, LAST),  # whole months and weeks inside, days at the ends
    (date(2016, 3, 15), date(2025, 11, 10)),  # partial months at both ends
    (date(2016, 2, 1), date(2025, 10, 31)),  # whole months exactly
    (date(2019, 3, 31), date(2021, 11, 29)),  # the edge days themselves at both ends
]


def _check(tickets, start: date, end: date, period: str | None, group_by: str) -> None:
    expected = _expected(tickets, start, end, period, group_by)
    rows = reports.report(start, end, group_by, period, overdue=False)
    got = {(row.period, row.key if group_by != "all" else ""): row for row in rows}
    where = (start, end, period, group_by)
    assert set(got) == set(expected), where
    for group, figures in expected.items():
        row = got[group]
        for name in ("received", "resolved", "open", "rated", "satisfaction_rate"):
            assert getattr(row, name) == figures[name], (where, group, name)
        for name in ("resolve_mean_hours", "resolve_p50_hours"):
            wanted = figures[name]
            if wanted is None:
                assert getattr(row, name) is None, (where, group, name)
                continue
            # Means are exact (sums of seconds) but for the rounding to 0.01 h; medians come
            # from histograms: within one minute or 1 %.
            slack = 0.01 if name == "resolve_mean_hours" else max(1 / 60, 0.01 * wanted) + 0.01
            assert abs(getattr(row, name) - wanted) <= slack + 1e-9, (where, group, name)


def test_ten_years_equal_the_tickets(decade):
    for start, end in RANGES:
        for period in (None, "month", "week"):
            for group_by in ("all", "department"):
                _check(decade, start, end, period, group_by)


def test_a_rebuild_adds_up_the_same_weeks_and_months(decade):
    report_figures.rebuild()
    for period in (None, "month", "week"):
        _check(decade, FIRST, LAST, period, "department")


def test_a_long_range_reads_whole_months_from_their_rows(decade):
    segments = reports._segments(FIRST, LAST, None)
    assert [(s.low, s.high, s.grain) for s in segments] == [(FIRST, date(2025, 12, 1), "month")]
    segments = reports._segments(date(2016, 3, 15), date(2025, 11, 10), "week")
    assert [(s.low, s.high, s.grain) for s in segments] == [
        (date(2016, 3, 21), date(2025, 11, 3), "week"),  # Mondays: the weeks that start there
        (date(2016, 3, 15), date(2016, 3, 20), None),
        (date(2025, 11, 10), date(2025, 11, 10), None),
    ]
    # Per day, and inside one month, the day rows alone.
    assert [s.grain for s in reports._segments(FIRST, LAST, "day")] == [None]
    assert [s.grain for s in reports._segments(date(2025, 11, 3), date(2025, 11, 20), None)] == [None]
    months = db.session.scalar(
        select(func.count()).select_from(ReportPeriodFact).where(ReportPeriodFact.grain == "month")
    )
    assert months > 0


def test_a_change_reaches_its_week_and_month(decade, city):
    """The minute's refresh adds the week and month of a changed day up again."""
    state = db.session.get(ReportState, 1)
    assert state is not None and state.rebuilt_at is not None
    ticket = next(t for t in decade if t.resolved_at is None)
    day = ticket.created_at.replace(tzinfo=UTC).astimezone(SHANGHAI).date()
    month = day.replace(day=1)
    last = report_figures.period_last(month, "month")

    def received() -> tuple[int, int]:
        (whole,) = reports.report(month, last, "all", overdue=False) or [None]
        (weekly,) = [
            r
            for r in reports.report(FIRST, LAST, "all", "week", overdue=False)
            if r.period == day - timedelta(days=day.weekday())
        ]
        return whole.resolved, weekly.resolved

    before = received()
    ticket.accepted_at = ticket.dispatched_at + timedelta(minutes=5)
    ticket.resolved_at = ticket.dispatched_at + timedelta(hours=3)
    ticket.status = Status.RESOLVED
    derived.tickets_changed([ticket], words=False, scopes=False)
    db.session.commit()
    report_figures.refresh_dirty()
    assert received() == (before[0] + 1, before[1] + 1)
    assert reports._segments(month, last, None)[0].grain == "month"  # read from the month's row


def test_the_api_answers_ten_years_per_month_and_week(decade, api, city):
    client = api(city.supervisor)
    for period in ("month", "week"):
        url = f"/api/v1/reports/response-times?from={FIRST}&to={LAST}&period={period}&per_page=5000"
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        got = {(date.fromisoformat(r["period"]), r["department"]): r["received"] for r in response.get_json()}
        expected = _expected(decade, FIRST, LAST, period, "department")
        assert got == {group: figures["received"] for group, figures in expected.items()}
    # Days over ten years: refused, saying what to ask for instead.
    response = client.get(f"/api/v1/reports/response-times?from={FIRST}&to={LAST}&period=day")
    assert response.status_code == 400
    detail = response.get_json()["detail"]
    assert "period=week" in detail and "period=month" in detail and "366" in detail


def test_packed_histograms_merge_into_what_packing_the_sum_gives():
    parts = [{3: 2, 150: 1}, {3: 1, 7: 4}, {}, {150: 5, 9000: 1}]
    total: dict[int, int] = {}
    for part in parts:
        for bucket, n in part.items():
            total[bucket] = total.get(bucket, 0) + n
    packed = [report_figures.pack_histogram(part) for part in parts]
    assert report_figures.merge_to_packed(packed) == report_figures.pack_histogram(total)
    assert report_figures.merge_to_packed([b"", b""]) == b""
