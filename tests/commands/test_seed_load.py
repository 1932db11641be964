"""`flask seed-load`: many realistic tickets at once, and report figures that match them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Category, Department, RoutingOutcome, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.reporting.report_figures import local_day, timezone

TICKETS = 2000
DAYS = 60


def load(runner, *extra: str):
    return runner.invoke(args=["seed-load", "--tickets", str(TICKETS), "--days", str(DAYS), "--seed", "7", *extra])


def count(*conditions) -> int:
    return db.session.scalar(select(func.count(Ticket.id)).where(*conditions))


def test_seed_load_gives_plausible_tickets(runner, city):
    result = load(runner)
    assert result.exit_code == 0, result.output
    assert f"loaded {TICKETS:,} tickets over" in result.output
    assert "rebuilt" in result.output

    assert count() == TICKETS
    assert count(Ticket.number.like("L%")) == TICKETS
    now = utcnow()
    today = local_day(now, timezone())
    first, last = db.session.execute(select(func.min(Ticket.created_at), func.max(Ticket.created_at))).one()
    assert today - timedelta(days=DAYS - 1) <= local_day(first, timezone()) and last <= now

    # Clocks run forwards.
    assert count(Ticket.dispatched_at < Ticket.created_at) == 0
    assert count(Ticket.accepted_at < Ticket.dispatched_at) == 0
    assert count(Ticket.resolved_at < Ticket.created_at) == 0
    assert count(Ticket.closed_at < Ticket.resolved_at) == 0
    assert count(Ticket.accept_due_at < Ticket.dispatched_at) == 0

    # Direct answers: consultations closed at intake, with no department and never dispatched.
    direct = count(Ticket.status == Status.CLOSED, Ticket.department_id.is_(None), Ticket.dispatched_at.is_(None))
    assert 0.3 * TICKETS < count(Ticket.type == "consultation") < 0.5 * TICKETS
    assert 0.15 * TICKETS < direct < 0.45 * TICKETS
    assert count(Ticket.status == Status.CLOSED, Ticket.dispatched_at.is_(None), Ticket.type != "consultation") == 0
    # Most of the others are with a department; some are still open, a few overdue.
    assert count(Ticket.department_id.is_not(None)) > 0.85 * (TICKETS - direct)
    assert count(Ticket.status.in_(Status.OPEN)) > 0
    assert count(Ticket.status.in_(Status.OPEN), Ticket.resolve_due_at < now) > 0
    late = count(Ticket.resolved_at > Ticket.resolve_due_at)
    assert 0.02 < late / count(Ticket.resolve_due_at.is_not(None), Ticket.resolved_at.is_not(None)) < 0.25
    # Mostly by phone; ratings on part of the resolved, mostly satisfied; a few returned and reopened.
    assert count(Ticket.channel == "phone") > TICKETS / 2
    rated = count(Ticket.satisfaction.is_not(None))
    assert 0.3 * (TICKETS - direct) < rated < 0.7 * (TICKETS - direct)
    assert count(Ticket.satisfaction == "satisfied") > rated / 2
    returned = db.session.scalar(select(func.count(RoutingOutcome.id)).where(RoutingOutcome.kind == "returned"))
    assert 0 < returned < 0.1 * TICKETS
    assert count(Ticket.reopen_count > 0) > 0
    # The lead department is the category's routing department when the category has one.
    routing = {
        c.id: c.routing_department.id if c.routing_department else None for c in db.session.scalars(select(Category))
    }
    routed = db.session.execute(
        select(Ticket.department_id, Ticket.category_id).where(Ticket.routed_by == "category_default")
    ).all()
    assert routed and all(department == routing[category] for department, category in routed)
    assert count(Ticket.category_id == city.other.id, Ticket.department_id.is_not(None)) > 0  # by dispatchers


def test_report_totals_equal_the_tickets(runner, city, api):
    assert load(runner).exit_code == 0
    today = local_day(utcnow(), timezone())
    client = api(city.supervisor)
    span = f"from={today - timedelta(days=DAYS - 1)}&to={today}"
    response = client.get(f"/api/v1/reports/response-times?{span}&group_by=all")
    assert response.status_code == 200, response.get_data(as_text=True)
    (whole,) = response.get_json()

    direct = (Ticket.status == Status.CLOSED, Ticket.dispatched_at.is_(None), Ticket.department_id.is_(None))
    returned = db.session.scalar(
        select(func.count(func.distinct(RoutingOutcome.ticket_id))).where(RoutingOutcome.kind == "returned")
    )
    assert whole["received"] == count() == TICKETS
    assert whole["dispatched"] == count(Ticket.dispatched_at.is_not(None))
    assert whole["accepted"] == count(Ticket.accepted_at.is_not(None))
    assert whole["direct_answers"] == count(*direct)
    assert whole["resolved"] == count(Ticket.resolved_at.is_not(None)) - count(*direct)
    assert whole["open"] == count(Ticket.status.in_(Status.OPEN))
    assert whole["returned"] == returned
    assert whole["reopened"] == count(Ticket.reopen_count > 0)
    assert whole["rated"] == count(Ticket.satisfaction.is_not(None))

    response = client.get(f"/api/v1/reports/response-times?{span}&group_by=department")
    by_department = {row["department"]: row["received"] for row in response.get_json()}
    expected = dict(
        db.session.execute(
            select(Department.code, func.count(Ticket.id)).join(Ticket.department).group_by(Department.code)
        ).all()
    )
    assert by_department == expected


def test_seed_load_loads_a_city_when_there_is_none(runner):
    result = runner.invoke(args=["seed-load", "--tickets", "300", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "loaded the demo city first" in result.output
    assert db.session.scalar(select(func.count(Department.id))) >= 10
    assert count(Ticket.department_id.is_not(None)) > 0


def test_seed_load_refuses_a_second_load_and_bad_input(runner, city):
    assert load(runner, "--no-rebuild").exit_code == 0
    again = load(runner)
    assert again.exit_code == 1 and "already holds loaded tickets" in again.output
    assert count() == TICKETS
    future = runner.invoke(args=["seed-load", "--tickets", "10", "--end", "2999-01-01"])
    assert future.exit_code == 1 and "in the future" in future.output
    assert runner.invoke(args=["seed-load", "--tickets", "0"]).exit_code == 2
    assert runner.invoke(args=["seed-load", "--tickets", "10", "--end", "yesterday"]).exit_code == 2
