"""SLA clocks: policies, deadlines at dispatch, pauses, extensions, urging and the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import ExtensionRequest, Notice, SlaPolicy, Status
from hotline.models.types import utcnow
from hotline.services.clocks import sla
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import Conflict, InvalidInput, PermissionDenied
from hotline.services.ticketing import deadlines, tickets
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def in_progress(city, **overrides):
    ticket = factories.make_routed_ticket(city.operator, **overrides)
    return tickets.accept(city.roads_staff, ticket)


class TestPolicies:
    def test_defaults(self, city):
        normal = sla.terms_for(city.potholes, "normal")
        assert (normal.accept_amount, normal.accept_unit, normal.resolve_amount, normal.resolve_unit) == (
            4,
            "working_hours",
            5,
            "working_days",
        )
        urgent = sla.terms_for(city.potholes, "urgent")
        assert (urgent.accept_unit, urgent.resolve_unit) == ("calendar_minutes", "calendar_hours")

    def test_a_category_policy_is_inherited_down_the_tree(self, city):
        db.session.add_all(
            [
                SlaPolicy(
                    category=city.infrastructure,
                    urgency="normal",
                    accept_amount=2,
                    accept_unit="working_hours",
                    resolve_amount=3,
                    resolve_unit="working_days",
                ),
                SlaPolicy(
                    category=None,
                    urgency="normal",
                    accept_amount=8,
                    accept_unit="working_hours",
                    resolve_amount=10,
                    resolve_unit="working_days",
                ),
            ]
        )
        db.session.commit()
        assert sla.terms_for(city.potholes, "normal").resolve_amount == 3
        assert sla.terms_for(city.potholes, "normal").source == "infrastructure"
        assert sla.terms_for(city.water_supply, "normal").source == "hotline"
        assert sla.terms_for(city.water_supply, "urgent").source == "default"


class TestClocks:
    def test_dispatch_sets_both_deadlines_in_working_time(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        calendar = work_calendar()
        start = ticket.dispatched_at
        assert ticket.accept_due_at == calendar.add_working_minutes(start, 240)
        assert ticket.resolve_due_at == calendar.add_working_minutes(start, 5 * 420)
        assert calendar.working_minutes_between(ticket.resolve_amber_at, ticket.resolve_due_at) == pytest.approx(
            0.25 * 5 * 420
        )
        assert ticket.events[-1].data["sla"]["resolve"] == "5 working_days"

    def test_urgent_tickets_run_on_calendar_time(self, city):
        ticket = factories.make_routed_ticket(city.operator, urgency="urgent")
        assert ticket.accept_due_at - ticket.dispatched_at == timedelta(minutes=30)
        assert ticket.resolve_due_at - ticket.dispatched_at == timedelta(hours=24)
        assert ticket.resolve_due_at - ticket.resolve_amber_at == timedelta(hours=6)

    def test_a_return_stops_the_clocks(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        tickets.return_to_dispatch(city.roads_staff, ticket, "不属于本单位")
        assert ticket.accept_due_at is None and ticket.resolve_due_at is None

    def test_waiting_on_the_citizen_pauses_the_clock(self, city):
        ticket = in_progress(city)
        due_before = ticket.resolve_due_at
        deadlines.wait_on_citizen(city.roads_staff, ticket, "请提供现场照片", expected_version=ticket.version)
        assert ticket.status == Status.WAITING and ticket.paused_at is not None
        # pretend the pause began two working days ago
        calendar = work_calendar()
        ticket.paused_at = calendar.subtract_working_minutes(ticket.paused_at, 2 * 420)
        db.session.commit()
        expected = calendar.add_working_minutes(
            utcnow(), calendar.working_minutes_between(ticket.paused_at, due_before)
        )
        deadlines.resume(city.roads_staff, ticket, expected_version=ticket.version)
        assert ticket.status == Status.IN_PROGRESS and ticket.paused_at is None
        assert abs(ticket.resolve_due_at - expected) < timedelta(seconds=5)
        assert ticket.resolve_due_at > due_before
        assert ticket.events[-1].data["paused_working_minutes"] == pytest.approx(840, abs=1)

    def test_waiting_needs_a_reason_and_the_right_state(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        with pytest.raises(InvalidInput):
            deadlines.wait_on_citizen(city.roads_staff, ticket, " ")
        with pytest.raises(Conflict):
            deadlines.wait_on_citizen(city.roads_staff, ticket, "need a photo")  # not accepted yet
        with pytest.raises(Conflict):
            deadlines.resume(city.roads_staff, ticket)

    def test_a_waiting_ticket_can_be_resolved(self, city):
        ticket = in_progress(city)
        deadlines.wait_on_citizen(city.roads_staff, ticket, "need a photo")
        tickets.resolve(city.roads_staff, ticket, "市民未补充材料，按现有情况答复。")
        assert ticket.status == Status.RESOLVED and ticket.paused_at is None


class TestExtensions:
    def test_request_and_approve_moves_the_deadline(self, city):
        ticket = in_progress(city)
        due = ticket.resolve_due_at
        request = deadlines.request_extension(city.roads_staff, ticket, 3, "需要协调施工单位")
        assert request.status == ExtensionRequest.PENDING
        assert db.session.scalar(select(Notice.role).where(Notice.kind == "extension_requested")) == "supervisor"
        deadlines.approve_extension(city.supervisor, ticket, expected_version=ticket.version)
        assert ticket.resolve_due_at == work_calendar().add_working_days(due, 3)
        assert ticket.extended_days == 3
        assert request.status == ExtensionRequest.APPROVED and request.decided_by == city.supervisor
        kinds = [event.kind for event in ticket.events]
        assert kinds[-2:] == ["extension_requested", "extension_approved"]

    def test_refusal_keeps_the_deadline_and_says_why(self, city):
        ticket = in_progress(city)
        due = ticket.resolve_due_at
        deadlines.request_extension(city.roads_staff, ticket, 2, "need time")
        with pytest.raises(InvalidInput):
            deadlines.refuse_extension(city.supervisor, ticket, "")
        deadlines.refuse_extension(city.supervisor, ticket, "期限内可以完成")
        assert ticket.resolve_due_at == due
        assert ticket.events[-1].data == {"days": 2, "reason": "期限内可以完成"}
        with pytest.raises(Conflict):
            deadlines.approve_extension(city.supervisor, ticket)  # nothing pending any more

    def test_rules(self, city):
        ticket = in_progress(city)
        with pytest.raises(PermissionDenied):
            deadlines.request_extension(city.water_staff, ticket, 2, "not ours")
        with pytest.raises(InvalidInput):
            deadlines.request_extension(city.roads_staff, ticket, 11, "too long")
        with pytest.raises(InvalidInput):
            deadlines.request_extension(city.roads_staff, ticket, 0, "nothing")
        deadlines.request_extension(city.roads_staff, ticket, 6, "first")
        with pytest.raises(Conflict):
            deadlines.request_extension(city.roads_staff, ticket, 1, "second while the first waits")
        with pytest.raises(PermissionDenied):
            deadlines.approve_extension(city.roads_staff, ticket)
        deadlines.approve_extension(city.supervisor, ticket)
        with pytest.raises(InvalidInput):
            deadlines.request_extension(city.roads_staff, ticket, 5, "6 + 5 > 10")

    def test_too_late_after_the_deadline(self, city):
        ticket = in_progress(city)
        ticket.resolve_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        with pytest.raises(Conflict):
            deadlines.request_extension(city.roads_staff, ticket, 1, "late")


class TestUrgingAndSweep:
    def test_urging_is_counted_and_announced_to_the_department(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        with pytest.raises(PermissionDenied):
            deadlines.urge(city.operator, ticket)
        seen = ticket.version
        deadlines.urge(city.supervisor, ticket, "市民多次来电")
        deadlines.urge(city.supervisor, ticket)
        assert ticket.urge_count == 2
        db.session.expire_all()
        assert ticket.urge_count == 2 and ticket.version == seen  # the department's page stays current
        tickets.accept(city.roads_staff, ticket, expected_version=seen)
        notice = db.session.scalar(select(Notice).where(Notice.kind == "urged"))
        assert notice.department_id == city.roads.id
        assert work_calendar().is_office_time(notice.show_from)

    def test_notices_wait_for_office_hours(self, city):
        night = datetime(2026, 11, 25, 23, 0, tzinfo=SHANGHAI)
        from hotline.services.ticketing import notices

        notice = notices.notify("test", "body", night, department_id=city.roads.id)
        db.session.commit()
        assert notice.show_from == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
        assert notices.notices_for(city.roads_staff, night + timedelta(hours=1)) == []
        assert notices.notices_for(city.roads_staff, night + timedelta(hours=10)) == [notice]
        assert notices.notices_for(city.water_staff, night + timedelta(hours=10)) == []

    def test_the_sweep_marks_past_near_and_far_deadlines(self, city):
        now = utcnow()
        past, near, far, waiting = (in_progress(city) for _ in range(4))
        past.resolve_due_at, past.resolve_amber_at = now - timedelta(hours=1), now - timedelta(hours=5)
        near.resolve_due_at, near.resolve_amber_at = now + timedelta(hours=1), now - timedelta(minutes=1)
        far.resolve_due_at, far.resolve_amber_at = now + timedelta(days=5), now + timedelta(days=4)
        deadlines.wait_on_citizen(city.roads_staff, waiting, "photo")
        waiting.resolve_due_at, waiting.resolve_amber_at = now - timedelta(hours=1), now - timedelta(hours=5)
        db.session.commit()
        versions = {t.id: t.version for t in (past, near, far)}

        assert deadlines.sweep_deadlines(now) == {"amber": 1, "red": 1}
        for ticket in (past, near, far, waiting):
            db.session.refresh(ticket)
        assert (past.sla_level, near.sla_level, far.sla_level, waiting.sla_level) == ("red", "amber", "", "")
        assert {t.id: t.version for t in (past, near, far)} == versions  # staff are not interrupted
        red_notices = db.session.scalars(select(Notice).where(Notice.kind == "sla_red")).all()
        assert {(n.department_id, n.role) for n in red_notices} == {(city.roads.id, None), (None, "supervisor")}
        # a second sweep announces nothing again; a later one turns amber red
        assert deadlines.sweep_deadlines(now) == {"amber": 0, "red": 0}
        assert deadlines.sweep_deadlines(now + timedelta(hours=2)) == {"amber": 0, "red": 1}

    def test_an_unaccepted_ticket_turns_red_on_the_accept_clock(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        later = ticket.accept_due_at + timedelta(minutes=1)
        assert sla.level_at(ticket, later) == "red"
        assert deadlines.sweep_deadlines(later)["red"] == 1
        tickets.accept(city.roads_staff, ticket)
        assert ticket.sla_level in ("", "amber")  # the accept clock stopped counting


def test_time_used(city):
    ticket = factories.make_routed_ticket(city.operator)
    used = sla.time_used(ticket, ticket.resolve_amber_at)
    assert used["fraction"] == pytest.approx(0.75, abs=0.001)
    assert sla.time_used(ticket, ticket.resolve_due_at)["minutes_left"] == 0
