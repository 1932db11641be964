from datetime import UTC, date, datetime, timedelta

from hotline.extensions import db
from hotline.models import Status
from hotline.services.reporting import reports
from tests import factories

TZ = "Asia/Shanghai"


def test_percentile_interpolates_between_ranks():
    assert reports.percentile([], 0.5) is None
    assert reports.percentile([7], 0.9) == 7
    assert reports.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert reports.percentile(list(range(1, 11)), 0.9) == 9.1


def _ticket(actor, created, dispatched_after, accepted_after=None, resolved_after=None, due_after=None, **kw):
    ticket = factories.make_ticket(actor, **kw)
    ticket.created_at = created
    ticket.dispatched_at = created + dispatched_after
    ticket.accepted_at = created + accepted_after if accepted_after is not None else None
    ticket.resolved_at = created + resolved_after if resolved_after is not None else None
    ticket.resolve_due_at = created + due_after if due_after is not None else None
    ticket.department_id = ticket.category.routing_department.id
    ticket.status = Status.RESOLVED if resolved_after is not None else Status.DISPATCHED
    db.session.commit()
    return ticket


def test_response_times_per_department(city):
    created = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    m, h = timedelta(minutes=1), timedelta(hours=1)
    # roads: accepted after 10, 20, 30, 40 min; resolved after 2, 4, 6 h; due in 5 h
    for accept, resolve in [(10, 2), (20, 4), (30, 6), (40, None)]:
        _ticket(
            city.operator,
            created,
            dispatched_after=0 * m,
            accepted_after=accept * m,
            resolved_after=resolve * h if resolve else None,
            due_after=5 * h,
        )
    # water: one open ticket past its deadline
    _ticket(city.operator, created, 0 * m, due_after=1 * h, category="water-supply")
    # outside the date range: not counted
    _ticket(city.operator, created - timedelta(days=3), 0 * m, 5 * m, 1 * h, 5 * h)

    rows = {
        r.department: r for r in reports.response_times(date(2026, 11, 2), date(2026, 11, 2), TZ, now=created + 2 * h)
    }
    roads, water = rows["roads"], rows["water"]
    assert (roads.tickets, roads.resolved) == (4, 3)
    assert roads.accept_p50_minutes == 25.0
    assert roads.accept_p90_minutes == 37.0
    assert roads.resolve_p50_hours == 4.0
    assert roads.resolve_p90_hours == 5.6
    assert roads.resolved_on_time_rate == round(2 / 3, 4)
    assert roads.overdue_open == 0
    assert (water.tickets, water.resolved, water.overdue_open) == (1, 0, 1)
    assert water.accept_p50_minutes is None and water.resolved_on_time_rate is None


def test_dates_are_local_days(city):
    # 23:30 on Nov 1 in Shanghai is 15:30 UTC: it belongs to Nov 1, not Nov 2.
    created = datetime(2026, 11, 1, 15, 30, tzinfo=UTC)
    _ticket(city.operator, created, timedelta(0))
    assert reports.response_times(date(2026, 11, 2), date(2026, 11, 2), TZ) == []
    assert [r.department for r in reports.response_times(date(2026, 11, 1), date(2026, 11, 1), TZ)] == ["roads"]


def test_satisfaction_rate_counts_satisfied_and_basically_satisfied(city):
    created = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    ratings = ["satisfied", "basically_satisfied", "unsatisfied", None]
    for rating in ratings:
        ticket = _ticket(city.operator, created, timedelta(0), timedelta(minutes=5), timedelta(hours=1))
        ticket.satisfaction = rating
    db.session.commit()
    (row,) = reports.response_times(date(2026, 11, 2), date(2026, 11, 2), TZ)
    assert (row.rated, row.satisfaction_rate) == (3, round(2 / 3, 4))
