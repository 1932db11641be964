"""Deadlines over the API: extensions (延期), urging (催办), waiting on the citizen, the SLA fields, notices."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.api.serializers import iso
from hotline.extensions import db
from hotline.models import ExtensionRequest, Notice, Role, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.clocks.calendar import work_calendar
from hotline.services.ticketing import deadlines, tickets
from tests import factories
from tests.api.helpers import assert_error, snapshot


def url(ticket: Ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


def requests_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ExtensionRequest))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def accepted(city, routed) -> Ticket:
    """The pothole ticket, signed for by roads: in progress."""
    return tickets.accept(city.roads_staff, routed)


@pytest.fixture
def asked(city, accepted) -> Ticket:
    """Roads has asked for 3 more working days; a supervisor has yet to decide."""
    deadlines.request_extension(city.roads_staff, accepted, 3, "需要协调施工单位")
    return accepted


class TestTheTicketObject:
    def test_the_sla_fields_of_a_dispatched_ticket(self, api, city, routed):
        body = api(city.supervisor).get(f"/api/v1/tickets/{routed.number}").get_json()
        assert body["accept_due_at"] == iso(routed.accept_due_at)
        assert body["resolve_due_at"] == iso(routed.resolve_due_at)
        assert (body["sla_level"], body["paused_at"], body["extended_days"], body["urge_count"]) == (None, None, 0, 0)
        assert body["extension"] is None
        sla = body["sla"]
        assert sla["policy"] == "default"
        assert sla["accept"] == {"amount": 4, "unit": "working_hours"}
        assert sla["resolve"] == {"amount": 5, "unit": "working_days"}
        used = sla["time_used"]
        assert used["working"] is True
        assert 0 <= used["fraction"] < 0.01  # just dispatched
        # Five working days of the default office hours (7 h), all but a minute or two still left.
        assert 5 * 420 - 2 <= used["minutes_left"] <= 5 * 420

    def test_an_undispatched_ticket_has_no_sla(self, api, city):
        pending = factories.make_routed_ticket(city.operator, category="other")
        body = api(city.dispatcher).get(f"/api/v1/tickets/{pending.number}").get_json()
        assert (body["sla"], body["extension"], body["accept_due_at"], body["resolve_due_at"]) == (
            None,
            None,
            None,
            None,
        )

    def test_urgent_tickets_show_calendar_units(self, api, city):
        urgent = factories.make_routed_ticket(city.operator, urgency="urgent")
        sla = api(city.supervisor).get(f"/api/v1/tickets/{urgent.number}").get_json()["sla"]
        assert sla["accept"] == {"amount": 30, "unit": "calendar_minutes"}
        assert sla["resolve"] == {"amount": 24, "unit": "calendar_hours"}
        assert sla["time_used"]["working"] is False

    def test_the_list_carries_the_sla_fields_too(self, api, city, asked):
        (listed,) = api(city.supervisor).get("/api/v1/tickets").get_json()["tickets"]
        assert listed["extension"]["days"] == 3
        assert listed["sla"]["policy"] == "default"


class TestExtension:
    def test_request_then_approve_moves_the_deadline_by_working_days(self, api, city, accepted):
        old_due = accepted.resolve_due_at
        seen = accepted.version
        response = api(city.roads_staff).post(
            url(accepted, "extend"), json={"days": 3, "reason": "需要协调施工单位", "version": seen}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        extension = body["extension"]
        assert (extension["days"], extension["reason"], extension["requested_by"]) == (
            3,
            "需要协调施工单位",
            "roads_staff",
        )
        assert abs(parse(extension["created_at"]) - utcnow()) < timedelta(minutes=1)
        # Asking changes no deadline.
        assert body["resolve_due_at"] == iso(old_due) and body["extended_days"] == 0
        assert body["version"] == seen  # the request is a record of its own; the ticket itself is unchanged
        assert body["events"][-1]["kind"] == "extension_requested"
        assert body["events"][-1]["data"] == {"days": 3, "reason": "需要协调施工单位"}

        response = api(city.supervisor).post(
            url(accepted, "approve-extension"), json={"note": "同意", "version": body["version"]}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["resolve_due_at"] == iso(work_calendar().add_working_days(old_due, 3))
        assert parse(body["resolve_due_at"]) > old_due
        assert (body["extended_days"], body["extension"]) == (3, None)
        assert body["version"] > seen
        assert body["events"][-1]["kind"] == "extension_approved"
        assert body["events"][-1]["actor"] == "supervisor"
        assert body["events"][-1]["data"]["note"] == "同意"
        # The time to resolve is now 5 + 3 working days.
        assert 8 * 420 - 2 <= body["sla"]["time_used"]["minutes_left"] <= 8 * 420
        request = db.session.scalar(select(ExtensionRequest))
        assert (request.status, request.decided_by.username) == ("approved", "supervisor")

    def test_an_admin_may_approve_without_a_body(self, api, city, asked):
        response = api(city.admin).post(url(asked, "approve-extension"))
        assert response.status_code == 200
        assert response.get_json()["extended_days"] == 3

    def test_refuse_keeps_the_deadline(self, api, city, asked):
        due, seen = asked.resolve_due_at, asked.version
        response = api(city.supervisor).post(url(asked, "refuse-extension"), json={"reason": "期限内可以完成"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["extension"], body["extended_days"], body["resolve_due_at"]) == (None, 0, iso(due))
        assert body["version"] == seen
        assert body["events"][-1]["kind"] == "extension_refused"
        assert body["events"][-1]["data"] == {"days": 3, "reason": "期限内可以完成"}
        # The department hears it; the request is closed and a new one may be made.
        notice = db.session.scalar(select(Notice).where(Notice.kind == "extension_refused"))
        assert notice.department_id == city.roads.id
        again = api(city.roads_staff).post(url(asked, "extend"), json={"days": 1, "reason": "再申请"})
        assert again.status_code == 200 and again.get_json()["extension"]["days"] == 1

    def test_extension_on_a_just_dispatched_ticket(self, api, city, routed):
        # Allowed while dispatched too: a department may see at once that it needs longer.
        response = api(city.roads_staff).post(url(routed, "extend"), json={"days": 10, "reason": "工程量大"})
        assert response.status_code == 200
        assert response.get_json()["extension"]["days"] == 10

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"days": 0, "reason": "r"}, "days"),
            ({"days": -2, "reason": "r"}, "days"),
            ({"days": 1.5, "reason": "r"}, "days"),
            ({"days": 2.0, "reason": "r"}, "days"),
            ({"days": "3", "reason": "r"}, "days"),
            ({"days": True, "reason": "r"}, "days"),
            ({"days": None, "reason": "r"}, "days"),
            ({"reason": "r"}, "days"),
            ({"days": 11, "reason": "r"}, "days"),  # over the 10 working days a ticket may gain in all
            ({"days": 10**40, "reason": "r"}, "days"),
            ({"days": 2}, "reason"),
            ({"days": 2, "reason": "   "}, "reason"),
            ({"days": 2, "reason": 7}, "reason"),
            ({"days": 2, "reason": "r", "weeks": 1}, "weeks"),
            ({"days": 2, "reason": "r", "version": "1"}, "version"),
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, api, city, accepted, body, field):
        before = snapshot(accepted.number)
        response = api(city.roads_staff).post(url(accepted, "extend"), json=body)
        assert_error(response, 400, "invalid_input", field)
        assert snapshot(accepted.number) == before
        assert requests_count() == 0

    def test_extensions_add_up_to_the_limit_only(self, api, city, asked):
        tickets_api = api(city.supervisor)
        assert tickets_api.post(url(asked, "approve-extension")).status_code == 200
        staff = api(city.roads_staff)
        body = assert_error(staff.post(url(asked, "extend"), json={"days": 8, "reason": "r"}), 400, "invalid_input")
        assert "10" in body["detail"] and "3" in body["detail"]
        assert staff.post(url(asked, "extend"), json={"days": 7, "reason": "r"}).status_code == 200

    def test_a_second_request_while_one_waits_is_409(self, api, city, asked):
        before = snapshot(asked.number)
        assert_error(api(city.roads_staff).post(url(asked, "extend"), json={"days": 1, "reason": "r"}), 409, "conflict")
        assert snapshot(asked.number) == before
        assert requests_count() == 1

    def test_a_stale_version_is_409(self, api, city, accepted):
        stale = accepted.version - 1
        before = snapshot(accepted.number)
        response = api(city.roads_staff).post(
            url(accepted, "extend"), json={"days": 2, "reason": "r", "version": stale}
        )
        assert_error(response, 409, "conflict")
        response = api(city.roads_staff).post(
            url(accepted, "extend"), json={"days": 2, "reason": "r"}, headers={"If-Match": str(stale)}
        )
        assert_error(response, 409, "conflict")
        assert snapshot(accepted.number) == before and requests_count() == 0

    def test_the_current_version_in_if_match_passes(self, api, city, accepted):
        response = api(city.roads_staff).post(
            url(accepted, "extend"), json={"days": 2, "reason": "r"}, headers={"If-Match": f'"{accepted.version}"'}
        )
        assert response.status_code == 200

    def test_after_the_deadline_it_is_too_late(self, api, city, accepted):
        accepted.resolve_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert_error(
            api(city.roads_staff).post(url(accepted, "extend"), json={"days": 2, "reason": "r"}), 409, "conflict"
        )
        assert requests_count() == 0

    def test_a_resolved_ticket_cannot_be_extended(self, api, city, accepted):
        tickets.resolve(city.roads_staff, accepted, "已修复")
        assert_error(
            api(city.roads_staff).post(url(accepted, "extend"), json={"days": 2, "reason": "r"}), 409, "conflict"
        )
        assert requests_count() == 0

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "admin"])
    def test_only_department_staff_ask(self, api, city, accepted, who):
        response = api(getattr(city, who)).post(url(accepted, "extend"), json={"days": 2, "reason": "r"})
        assert_error(response, 403, "forbidden")
        assert requests_count() == 0

    def test_another_department_gets_404(self, api, city, accepted):
        response = api(city.water_staff).post(url(accepted, "extend"), json={"days": 2, "reason": "r"})
        assert_error(response, 404, "not_found")
        assert requests_count() == 0

    def test_no_token_is_401(self, client, city, accepted):
        assert_error(client.post(url(accepted, "extend"), json={"days": 2, "reason": "r"}), 401, "unauthorized")

    @pytest.mark.parametrize("action", ["approve-extension", "refuse-extension"])
    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_only_supervisors_and_admins_decide(self, api, city, asked, action, who):
        before = snapshot(asked.number)
        response = api(getattr(city, who)).post(url(asked, action), json={"reason": "r"} if "refuse" in action else {})
        assert_error(response, 403, "forbidden")
        assert snapshot(asked.number) == before
        assert deadlines.pending_extension(asked) is not None

    @pytest.mark.parametrize("action, body", [("approve-extension", {}), ("refuse-extension", {"reason": "不同意"})])
    def test_nothing_to_decide_is_409(self, api, city, accepted, action, body):
        before = snapshot(accepted.number)
        assert_error(api(city.supervisor).post(url(accepted, action), json=body), 409, "conflict")
        assert snapshot(accepted.number) == before

    @pytest.mark.parametrize("action, body", [("approve-extension", {}), ("refuse-extension", {"reason": "不同意"})])
    def test_deciding_on_a_stale_version_is_409(self, api, city, asked, action, body):
        before = snapshot(asked.number)
        response = api(city.supervisor).post(url(asked, action), json={**body, "version": asked.version + 5})
        assert_error(response, 409, "conflict")
        assert snapshot(asked.number) == before
        db.session.expire_all()
        assert deadlines.pending_extension(asked) is not None and asked.extended_days == 0

    @pytest.mark.parametrize("body, field", [({}, "reason"), ({"reason": " "}, "reason"), ({"note": "x"}, "note")])
    def test_a_refusal_needs_a_reason(self, api, city, asked, body, field):
        assert_error(api(city.supervisor).post(url(asked, "refuse-extension"), json=body), 400, "invalid_input", field)
        assert deadlines.pending_extension(asked) is not None

    def test_an_approval_note_must_be_text(self, api, city, asked):
        response = api(city.supervisor).post(url(asked, "approve-extension"), json={"note": 5})
        assert_error(response, 400, "invalid_input", "note")
        assert deadlines.pending_extension(asked) is not None

    def test_a_supervisor_asking_about_an_unknown_ticket_gets_404(self, api, city):
        assert_error(api(city.supervisor).post("/api/v1/tickets/20991231-999999/approve-extension"), 404, "not_found")


class TestUrge:
    def test_each_urge_is_counted_and_told_to_the_department(self, api, city, routed):
        supervisor = api(city.supervisor)
        first = supervisor.post(url(routed, "urge"), json={"text": "请尽快处理"})
        assert first.status_code == 200, first.get_data(as_text=True)
        assert first.get_json()["urge_count"] == 1
        second = api(city.admin).post(url(routed, "urge"))  # no body at all
        body = second.get_json()
        assert body["urge_count"] == 2
        urged = [event for event in body["events"] if event["kind"] == "urged"]
        assert [(e["actor"], e["data"]) for e in urged] == [
            ("supervisor", {"text": "请尽快处理", "count": 1}),
            ("admin", {"text": "", "count": 2}),
        ]
        notices = db.session.scalars(select(Notice).where(Notice.kind == "urged")).all()
        assert [n.department_id for n in notices] == [city.roads.id, city.roads.id]

    def test_a_stale_version_is_409_and_not_counted(self, api, city, routed):
        response = api(city.supervisor).post(url(routed, "urge"), json={"version": routed.version + 1})
        assert_error(response, 409, "conflict")
        db.session.expire_all()
        assert routed.urge_count == 0

    def test_the_current_version_passes(self, api, city, routed):
        response = api(city.supervisor).post(url(routed, "urge"), json={"version": routed.version})
        assert response.status_code == 200 and response.get_json()["urge_count"] == 1

    def test_only_open_tickets_with_a_department_are_urged(self, api, city):
        pending = factories.make_routed_ticket(city.operator, category="other")
        before = snapshot(pending.number)
        assert_error(api(city.supervisor).post(url(pending, "urge")), 409, "conflict")
        assert snapshot(pending.number) == before

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_only_supervisors_and_admins_urge(self, api, city, routed, who):
        assert_error(api(getattr(city, who)).post(url(routed, "urge"), json={"text": "快"}), 403, "forbidden")
        db.session.expire_all()
        assert routed.urge_count == 0

    def test_text_must_be_a_string(self, api, city, routed):
        assert_error(
            api(city.supervisor).post(url(routed, "urge"), json={"text": ["快"]}), 400, "invalid_input", "text"
        )
        db.session.expire_all()
        assert routed.urge_count == 0


class TestWaitingOnTheCitizen:
    def test_wait_then_resume_moves_the_deadline_by_the_pause(self, api, city, accepted):
        staff = api(city.roads_staff)
        due_before = accepted.resolve_due_at
        response = staff.post(url(accepted, "wait-on-citizen"), json={"reason": "请市民提供现场照片"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["status"] == "waiting_on_citizen"
        assert abs(parse(body["paused_at"]) - utcnow()) < timedelta(minutes=1)
        assert body["events"][-1]["kind"] == "waiting"
        assert body["events"][-1]["data"] == {"reason": "请市民提供现场照片"}

        # Pretend the pause began two working days ago, then resume.
        calendar = work_calendar()
        db.session.expire_all()
        ticket = db.session.get(Ticket, accepted.id)
        ticket.paused_at = calendar.subtract_working_minutes(ticket.paused_at, 2 * 420)
        db.session.commit()
        left = calendar.working_minutes_between(ticket.paused_at, due_before)
        response = staff.post(url(accepted, "resume"), headers={"If-Match": str(ticket.version)})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        expected = calendar.add_working_minutes(utcnow(), left)
        assert (body["status"], body["paused_at"]) == ("in_progress", None)
        assert abs(parse(body["resolve_due_at"]) - expected) < timedelta(seconds=5)
        assert parse(body["resolve_due_at"]) > due_before
        assert body["events"][-1]["kind"] == "resumed"
        assert body["events"][-1]["data"]["paused_working_minutes"] == pytest.approx(840, abs=1)

    def test_a_waiting_ticket_shows_its_clock_stopped(self, api, city, accepted):
        api(city.roads_staff).post(url(accepted, "wait-on-citizen"), json={"reason": "需补充材料"})
        calendar = work_calendar()
        db.session.expire_all()
        ticket = db.session.get(Ticket, accepted.id)
        ticket.paused_at = calendar.subtract_working_minutes(ticket.paused_at, 3 * 420)  # paused days ago
        db.session.commit()
        used = api(city.supervisor).get(f"/api/v1/tickets/{accepted.number}").get_json()["sla"]["time_used"]
        # The time left is what it was when the pause began, not what it would be now.
        assert used["minutes_left"] == round(calendar.working_minutes_between(ticket.paused_at, ticket.resolve_due_at))
        assert used["minutes_left"] > 3 * 420

    def test_only_an_accepted_ticket_waits(self, api, city, routed):
        before = snapshot(routed.number)
        response = api(city.roads_staff).post(url(routed, "wait-on-citizen"), json={"reason": "需补充材料"})
        assert_error(response, 409, "conflict")
        assert snapshot(routed.number) == before

    def test_resume_needs_a_waiting_ticket(self, api, city, accepted):
        before = snapshot(accepted.number)
        assert_error(api(city.roads_staff).post(url(accepted, "resume")), 409, "conflict")
        assert snapshot(accepted.number) == before

    @pytest.mark.parametrize("body, field", [({}, "reason"), ({"reason": ""}, "reason"), ({"reason": None}, "reason")])
    def test_waiting_needs_a_reason(self, api, city, accepted, body, field):
        before = snapshot(accepted.number)
        response = api(city.roads_staff).post(url(accepted, "wait-on-citizen"), json=body)
        assert_error(response, 400, "invalid_input", field)
        assert snapshot(accepted.number) == before

    def test_stale_versions_are_409(self, api, city, accepted):
        staff = api(city.roads_staff)
        before = snapshot(accepted.number)
        response = staff.post(url(accepted, "wait-on-citizen"), json={"reason": "r", "version": accepted.version - 1})
        assert_error(response, 409, "conflict")
        assert snapshot(accepted.number) == before
        deadlines.wait_on_citizen(city.roads_staff, accepted, "r")
        before = snapshot(accepted.number)
        assert_error(staff.post(url(accepted, "resume"), json={"version": accepted.version - 1}), 409, "conflict")
        assert snapshot(accepted.number) == before

    @pytest.mark.parametrize("action, body", [("wait-on-citizen", {"reason": "r"}), ("resume", {})])
    @pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "admin"])
    def test_only_department_staff(self, api, city, accepted, action, body, who):
        before = snapshot(accepted.number)
        assert_error(api(getattr(city, who)).post(url(accepted, action), json=body), 403, "forbidden")
        assert snapshot(accepted.number) == before

    @pytest.mark.parametrize("action, body", [("wait-on-citizen", {"reason": "r"}), ("resume", {})])
    def test_another_department_gets_404(self, api, city, accepted, action, body):
        before = snapshot(accepted.number)
        assert_error(api(city.water_staff).post(url(accepted, action), json=body), 404, "not_found")
        assert snapshot(accepted.number) == before


class TestNotices:
    def add(self, city, ticket=None, minutes_ago: int = 10, **audience) -> Notice:
        at = utcnow() - timedelta(minutes=minutes_ago)
        notice = Notice(kind="sla_amber", body="到期提醒", ticket=ticket, created_at=at, show_from=at, **audience)
        db.session.add(notice)
        db.session.commit()
        return notice

    def test_each_user_sees_their_department_or_role_and_only_what_is_due(self, api, city, routed):
        roads = self.add(city, routed, department_id=city.roads.id)
        older = self.add(city, None, minutes_ago=60, department_id=city.roads.id)
        self.add(city, routed, minutes_ago=-60, department_id=city.roads.id)  # held until the office opens
        self.add(city, routed, department_id=city.water.id)
        supervisors = self.add(city, routed, role=Role.SUPERVISOR)

        response = api(city.roads_staff).get("/api/v1/notices")
        assert response.status_code == 200
        body = response.get_json()
        assert [n["id"] for n in body] == [roads.id, older.id]  # newest first
        assert body[0] == {
            "id": roads.id,
            "kind": "sla_amber",
            "body": "到期提醒",
            "ticket": routed.number,
            "created_at": iso(roads.created_at),
            "show_from": iso(roads.show_from),
        }
        assert body[1]["ticket"] is None
        assert [n["id"] for n in api(city.supervisor).get("/api/v1/notices").get_json()] == [supervisors.id]
        assert api(city.operator).get("/api/v1/notices").get_json() == []

    def test_an_urge_reaches_the_department_from_office_time(self, api, city, routed):
        api(city.supervisor).post(url(routed, "urge"), json={"text": "请尽快处理"})
        notice = db.session.scalar(select(Notice).where(Notice.kind == "urged"))
        assert notice.show_from == work_calendar().next_office_time(notice.created_at)
        listed = api(city.roads_staff).get("/api/v1/notices").get_json()
        # Shown now inside office hours, or held until the office opens.
        assert [n["id"] for n in listed] == ([notice.id] if notice.show_from <= utcnow() else [])

    def test_no_token_is_401(self, client):
        assert_error(client.get("/api/v1/notices"), 401, "unauthorized")


def test_a_waiting_ticket_can_be_resolved_over_the_api(api, city, accepted):
    staff = api(city.roads_staff)
    staff.post(url(accepted, "wait-on-citizen"), json={"reason": "需补充材料"})
    body = staff.post(url(accepted, "resolve"), json={"resolution": "按现有情况答复"}).get_json()
    assert body["status"] == Status.RESOLVED
