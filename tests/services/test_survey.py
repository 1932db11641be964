"""The satisfaction survey (回访): ratings close or reopen (重办) a resolved ticket; unrated
tickets are closed after HOTLINE_SURVEY_DAYS by the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Notice, Role, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import survey
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.ticketing import tickets
from hotline.tasks import schedule
from hotline.tasks import sweep as sweep_task
from tests import factories


@pytest.fixture(autouse=True)
def _no_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


def resolved(city, **overrides) -> Ticket:
    ticket = factories.make_routed_ticket(city.operator, **overrides)
    tickets.accept(city.roads_staff, ticket)
    return tickets.resolve(city.roads_staff, ticket, "路面已修补。")


def events(ticket: Ticket) -> list[tuple[str, str | None, str | None]]:
    db.session.refresh(ticket)
    return [(e.kind, e.from_status, e.to_status) for e in ticket.events]


def notices(**filters) -> list[Notice]:
    return list(db.session.scalars(select(Notice).filter_by(**filters).order_by(Notice.id)))


@pytest.mark.parametrize("rating", [survey.SATISFIED, survey.BASICALLY_SATISFIED])
def test_a_good_rating_closes_the_ticket(city, rating):
    ticket = resolved(city)
    version = ticket.version
    survey.record_rating(ticket, rating)
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert ticket.satisfaction == rating and ticket.rated_at is not None
    assert ticket.version == version + 1
    assert events(ticket)[-2:] == [("rated", None, None), ("closed", Status.RESOLVED, Status.CLOSED)]
    assert ticket.events[-2].data == {"rating": rating, "via": "sms"}
    assert ticket.events[-1].actor is None  # the citizen, by text
    assert notices() == []


def test_unsatisfied_reopens_once_with_the_same_department_and_fresh_clocks(city):
    ticket = resolved(city)
    old_due = ticket.resolve_due_at
    before = utcnow()
    survey.record_rating(ticket, survey.UNSATISFIED)

    assert ticket.status == Status.IN_PROGRESS and ticket.department == city.roads
    assert ticket.reopen_count == 1 and ticket.satisfaction == survey.UNSATISFIED
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.resolve_due_at > before and ticket.resolve_due_at >= old_due
    assert ticket.sla_level == "" and ticket.paused_at is None
    kinds = events(ticket)
    assert kinds[-2:] == [("rated", None, None), ("reopened", Status.RESOLVED, Status.IN_PROGRESS)]
    reopened = ticket.events[-1].data
    assert reopened["reopen_count"] == 1 and reopened["rating"] == "unsatisfied"
    assert reopened["sla"]["resolve_due_at"] == ticket.resolve_due_at.isoformat()
    [notice] = notices(kind="reopened")
    assert notice.department_id == city.roads.id and ticket.number in notice.body

    # The department works on it again and replies; a second "unsatisfied" goes to a supervisor.
    tickets.resolve(city.roads_staff, ticket, "已重新修补并验收。")
    survey.record_rating(ticket, survey.UNSATISFIED)
    assert ticket.status == Status.CLOSED and ticket.reopen_count == 1
    closed = ticket.events[-1]
    assert (closed.kind, closed.data) == ("closed", {"rating": "unsatisfied", "escalated": True})
    [flag] = notices(kind="unsatisfied")
    assert flag.role == Role.SUPERVISOR and ticket.number in flag.body


def test_a_reopened_ticket_rated_well_the_second_time_closes(city):
    ticket = resolved(city)
    survey.record_rating(ticket, survey.UNSATISFIED)
    tickets.resolve(city.roads_staff, ticket, "已重新修补。")
    survey.record_rating(ticket, survey.BASICALLY_SATISFIED)
    assert ticket.status == Status.CLOSED and ticket.satisfaction == survey.BASICALLY_SATISFIED
    assert notices(kind="unsatisfied") == []


def test_only_a_resolved_ticket_is_rated(city):
    ticket = factories.make_routed_ticket(city.operator)
    with pytest.raises(Conflict):
        survey.record_rating(ticket, survey.SATISFIED)
    closed = resolved(city)
    survey.record_rating(closed, survey.SATISFIED)
    with pytest.raises(Conflict):
        survey.record_rating(closed, survey.UNSATISFIED)  # a second text after the first closed it
    assert closed.satisfaction == survey.SATISFIED


def test_an_unknown_rating_is_refused(city):
    ticket = resolved(city)
    with pytest.raises(InvalidInput):
        survey.record_rating(ticket, "delighted")
    assert ticket.status == Status.RESOLVED and ticket.satisfaction is None


def test_a_stale_version_is_a_conflict(city):
    ticket = resolved(city)
    with pytest.raises(Conflict):
        survey.record_rating(ticket, survey.SATISFIED, expected_version=ticket.version - 1)
    assert ticket.status == Status.RESOLVED


class TestCloseUnrated:
    def test_closes_tickets_left_unrated_for_the_survey_days(self, app, city):
        old, recent = resolved(city), resolved(city)
        now = utcnow()
        old.resolved_at = now - timedelta(days=3, minutes=1)
        recent.resolved_at = now - timedelta(days=2, hours=23)
        db.session.commit()

        assert survey.close_unrated(now) == 1
        assert old.status == Status.CLOSED and old.closed_at == now and old.satisfaction is None
        assert old.events[-1].kind == "closed" and old.events[-1].data == {"unrated_days": 3}
        assert recent.status == Status.RESOLVED
        assert survey.close_unrated(now) == 0  # nothing twice

    def test_the_number_of_days_is_configured(self, app, city, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_SURVEY_DAYS", 7)
        ticket = resolved(city)
        ticket.resolved_at = utcnow() - timedelta(days=5)
        db.session.commit()
        assert survey.close_unrated() == 0
        assert survey.close_unrated(utcnow() + timedelta(days=2, minutes=1)) == 1

    def test_the_sweep_job_closes_them(self, city, monkeypatch):
        monkeypatch.setattr(schedule, "chain", lambda name: None)
        ticket = resolved(city)
        ticket.resolved_at = utcnow() - timedelta(days=4)
        db.session.commit()
        ticket_id = ticket.id
        result = sweep_task.sweep()
        assert result["closed_unrated"] == 1
        assert db.session.get(Ticket, ticket_id).status == Status.CLOSED
