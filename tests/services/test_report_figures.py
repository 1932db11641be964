"""The pre-aggregated report figures: histograms, day rows that agree with the tickets,
days marked dirty in the ticket's own transaction, and drill-downs that match the figures."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from hotline.extensions import db
from hotline.models import ReportDirtyDay, ReportFact, RoutingOutcome, Status, Ticket
from hotline.services.reporting import report_figures, reports
from hotline.services.reporting.report_figures import Tally, TicketFigures
from hotline.services.ticketing import tickets
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def within_one_minute_or_one_percent(approx: float, exact: float) -> bool:
    return abs(approx - exact) <= max(1.0, 0.01 * abs(exact)) + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=3e7, allow_nan=False), min_size=1, max_size=60),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.95, 1.0]),
)
def test_percentiles_from_histograms_are_within_a_minute_or_one_percent(seconds, fraction):
    exact, approx = Tally(values={"dispatch": [], "accept": [], "resolve": []}), Tally()
    for duration in seconds:
        figures = TicketFigures(counts={}, seconds={"resolve": duration})
        exact.add_ticket(figures, keep_values=True)
        approx.add_ticket(figures)
    wanted = exact.minutes_at("resolve", fraction)
    got = approx.minutes_at("resolve", fraction)
    assert within_one_minute_or_one_percent(got, wanted), (got, wanted)
    assert approx.mean_minutes("resolve") == pytest.approx(exact.mean_minutes("resolve"))


def test_whole_minutes_below_a_hundred_read_back_exactly():
    tally = Tally()
    for minutes in (10, 30, 60):
        tally.add_ticket(TicketFigures(counts={}, seconds={"accept": minutes * 60}))
    assert tally.minutes_at("accept", 0.5) == 30.0
    assert tally.minutes_at("accept", 0.9) == 54.0


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def history(city):
    """Sixty tickets over three local days, in every state the figures distinguish."""
    rng = random.Random(7)
    first = date(2026, 10, 5)
    made = []
    for i in range(60):
        day = first + timedelta(days=i % 3)
        category = rng.choice(["potholes", "infrastructure", "water-supply", "other"])
        kind = i % 6
        if kind == 0:  # a consultation answered at once
            ticket = factories.make_ticket(
                city.operator, type="consultation", category=category, direct_answer="请拨打供水热线。"
            )
        else:
            ticket = factories.make_ticket(
                city.operator if i % 2 else city.dispatcher,
                category=category,
                district=rng.choice(["east", "west", None]),
                channel=rng.choice(["phone", "web", "sms"]),
            )
        created = _local(day, 8 + i % 12)
        ticket.created_at = created
        if kind != 0 and category != "other":
            ticket.department = city.roads if category != "water-supply" else city.water
            ticket.status = Status.DISPATCHED
            ticket.dispatched_at = created + timedelta(minutes=rng.randint(1, 300))
            ticket.accept_due_at = ticket.dispatched_at + timedelta(hours=2)
            ticket.resolve_due_at = ticket.dispatched_at + timedelta(days=3)
            if kind >= 2:
                ticket.status = Status.IN_PROGRESS
                ticket.accepted_at = ticket.dispatched_at + timedelta(minutes=rng.randint(1, 240))
            if kind >= 3:
                ticket.status = Status.CLOSED
                ticket.resolved_at = ticket.accepted_at + timedelta(hours=rng.uniform(0.5, 120))
                ticket.satisfaction = rng.choice(["satisfied", "basically_satisfied", "unsatisfied", None])
                ticket.reopen_count = int(kind == 5)
            if i % 7 == 0:
                db.session.flush()
                db.session.add(
                    RoutingOutcome(
                        ticket_id=ticket.id,
                        kind="returned",
                        routed_by="rule",
                        category_id=ticket.category_id,
                        department_id=ticket.department_id,
                    )
                )
        made.append(ticket)
    db.session.commit()
    return first, first + timedelta(days=2)


GROUPS = ("all", *reports.GROUPINGS)
COUNTED = (
    "received",
    "dispatched",
    "accepted",
    "resolved",
    "open",
    "direct_answers",
    "returned",
    "reopened",
    "rated",
    "accepted_late",
    "resolved_late",
    "unsatisfied",
)
RATES = (
    "response_rate",
    "resolution_rate",
    "resolved_on_time_rate",
    "satisfaction_rate",
    "direct_answer_rate",
    "return_rate",
    "reopen_rate",
)


@pytest.mark.parametrize("group_by", GROUPS)
def test_day_rows_agree_with_the_tickets(history, group_by):
    start, end = history
    report_figures.refresh_dirty()
    for period in (None, "day", "week"):
        _check_facts_against_tickets(start, end, group_by, period)


def _check_facts_against_tickets(start: date, end: date, group_by: str, period: str | None) -> None:
    now = datetime.now(UTC)
    exact = {(r.period, r.key): r for r in reports.report(start, end, group_by, period, exact=True, now=now)}
    facts = {(r.period, r.key): r for r in reports.report(start, end, group_by, period, now=now)}
    assert facts.keys() == exact.keys() and facts
    for key, wanted in exact.items():
        got = facts[key]
        assert got.approximate and not wanted.approximate
        for name in (*COUNTED, "overdue_open", *RATES):
            assert getattr(got, name) == getattr(wanted, name), (key, name)
        for clock in ("dispatch", "accept"):
            assert getattr(got, f"{clock}_mean_minutes") == pytest.approx(getattr(wanted, f"{clock}_mean_minutes"))
            for p in ("p50", "p90"):
                a, b = getattr(got, f"{clock}_{p}_minutes"), getattr(wanted, f"{clock}_{p}_minutes")
                assert (a is None) == (b is None)
                assert a is None or within_one_minute_or_one_percent(a, b) or abs(a - b) <= 0.011, (key, clock, p)
        for p in ("p50", "p90"):
            a, b = getattr(got, f"resolve_{p}_hours"), getattr(wanted, f"resolve_{p}_hours")
            assert a is None or within_one_minute_or_one_percent(a * 60, b * 60) or abs(a - b) <= 0.011


def test_a_category_counts_under_its_parents_too(history):
    start, end = history
    report_figures.refresh_dirty()
    rows = {r.key: r for r in reports.report(start, end, "category")}
    assert rows["infrastructure"].received == sum(
        db.session.scalar(
            select(func.count()).select_from(Ticket).join(Ticket.category).where(Ticket.category.has(code=code))
        )
        for code in ("infrastructure", "potholes")
    )


@pytest.mark.parametrize("group_by", ["all", "department", "category", "district", "operator"])
def test_a_drill_down_lists_as_many_tickets_as_the_figure(history, group_by):
    start, end = history
    for measure in reports.MEASURES:
        _check_drill_down(start, end, group_by, measure)


def _check_drill_down(start: date, end: date, group_by: str, measure: str) -> None:
    now = datetime.now(UTC)
    figure = {
        "received": "received",
        "dispatched": "dispatched",
        "accepted": "accepted",
        "resolved": "resolved",
        "open": "open",
        "overdue": "overdue_open",
        "direct_answers": "direct_answers",
        "returned": "returned",
        "reopened": "reopened",
        "rated": "rated",
        "accepted_late": "accepted_late",
        "resolved_late": "resolved_late",
        "unsatisfied": "unsatisfied",
    }
    assert set(figure) == set(reports.MEASURES)
    for row in reports.report(start, end, group_by, exact=True, now=now):
        listed = db.session.scalar(
            select(func.count()).select_from(
                reports.drill_down(start, end, group_by, row.key, measure, now=now).subquery()
            )
        )
        assert listed == getattr(row, figure[measure]), (row.key, measure)


def city_row(day: date) -> ReportFact:
    return db.session.scalars(select(ReportFact).where(ReportFact.dim == "all", ReportFact.day == day)).one()


def test_a_ticket_change_marks_its_local_day_in_the_same_transaction(city):
    ticket = factories.make_routed_ticket(city.operator)
    day = ticket.created_at.astimezone(SHANGHAI).date()
    assert db.session.get(ReportDirtyDay, day) is not None
    report_figures.refresh_dirty()  # the first run builds everything
    assert db.session.scalar(select(func.count()).select_from(ReportDirtyDay)) == 0
    fact = city_row(day)
    assert (fact.received, fact.accepted) == (1, 0)

    tickets.accept(city.roads_staff, ticket)
    assert db.session.get(ReportDirtyDay, day) is not None
    assert report_figures.refresh_dirty() == 1
    assert city_row(day).accepted == 1

    ticket.description = "改了，但没有提交"
    db.session.flush()
    db.session.rollback()  # a change that never happened leaves no mark
    assert db.session.get(ReportDirtyDay, day) is None


def test_a_change_made_while_a_day_is_refreshed_is_refreshed_again(city, monkeypatch):
    factories.make_routed_ticket(city.operator)
    report_figures.refresh_dirty()
    ticket = factories.make_routed_ticket(city.operator)
    day = ticket.created_at.astimezone(SHANGHAI).date()
    real = report_figures.refresh_day

    def refresh_then_someone_writes(*args, **kwargs):
        rows = real(*args, **kwargs)
        report_figures.mark_days([day])  # as if another transaction changed a ticket meanwhile
        return rows

    monkeypatch.setattr(report_figures, "refresh_day", refresh_then_someone_writes)
    assert report_figures.refresh_dirty() == 1
    assert db.session.get(ReportDirtyDay, day) is not None  # kept for the next refresh


def test_the_red_sweep_marks_the_day_of_a_ticket_it_did_not_otherwise_touch(city):
    from hotline.services.ticketing import deadlines

    ticket = factories.make_routed_ticket(city.operator)
    report_figures.refresh_dirty()
    day = ticket.created_at.astimezone(SHANGHAI).date()
    now = datetime.now(UTC)
    ticket.accept_due_at = ticket.accept_amber_at = now - timedelta(minutes=1)
    db.session.commit()
    report_figures.refresh_day(day, now=now - timedelta(minutes=2))  # refreshed just before the deadline
    db.session.execute(delete(ReportDirtyDay))
    db.session.commit()
    assert city_row(day).accept_decided == 0
    assert deadlines.sweep_deadlines()["red"] == 1
    assert db.session.get(ReportDirtyDay, day) is not None
    report_figures.refresh_dirty()
    assert (city_row(day).accept_decided, city_row(day).accepted_on_time) == (1, 0)


def test_rebuild_recomputes_every_day_and_drops_stale_rows(history):
    start, end = history
    report_figures.rebuild()
    rows = db.session.scalar(select(func.count()).select_from(ReportFact))
    db.session.add(ReportFact(day=date(2001, 1, 1), dim="all", key=""))
    db.session.commit()
    result = report_figures.rebuild()
    assert result.days == 3 and result.tickets == 60 and result.rows == rows
    assert db.session.scalar(select(func.count()).select_from(ReportFact)) == rows


@pytest.mark.parametrize("group_by", ["all", "department", "category"])
def test_overdue_per_day_matches_the_drill_down_of_each_day(history, group_by):
    start, end = history
    now = datetime.now(UTC) + timedelta(days=30)  # every open ticket with a deadline is overdue by then
    per_day = reports.report(start, end, group_by, "day", now=now)
    assert sum(row.overdue_open for row in per_day) > 0
    for row in per_day:
        listed = db.session.scalar(
            select(func.count()).select_from(
                reports.drill_down(row.period, row.period, group_by, row.key, "overdue", now=now).subquery()
            )
        )
        assert listed == row.overdue_open, (row.period, row.key)


def test_a_new_ticket_marks_its_day_when_routed_and_a_direct_answer_at_intake(city):
    report_figures.refresh_dirty()  # the first run builds everything
    logged = tickets.create_ticket(city.operator, factories.intake(category="potholes"))
    day = logged.written.created_at.astimezone(SHANGHAI).date()
    assert db.session.get(ReportDirtyDay, day) is None  # its routing marks it, in its own transaction
    tickets.route(logged.written.id)
    assert db.session.get(ReportDirtyDay, day) is not None
    report_figures.refresh_dirty()
    assert city_row(day).received == 1

    answered = factories.intake(type="consultation", category="other", direct_answer="办事指南见官网。")
    tickets.create_ticket(city.operator, answered)  # nothing follows it: marked at once
    assert db.session.get(ReportDirtyDay, day) is not None
    report_figures.refresh_dirty()
    assert city_row(day).received == 2
