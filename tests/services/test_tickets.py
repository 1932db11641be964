"""The ticket lifecycle service: intake, routing, and each transition's rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.extensions import db, jobs
from hotline.models import Status, Ticket, TicketEvent
from hotline.services.errors import Conflict, InvalidInput, PermissionDenied
from hotline.services.ticketing import tickets
from tests import factories


def count_tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def kinds(ticket: Ticket) -> list[str]:
    db.session.refresh(ticket)
    return [event.kind for event in ticket.events]


class TestIntake:
    def test_logs_a_new_ticket_with_a_readable_number(self, city):
        result = tickets.create_ticket(city.operator, factories.intake())
        ticket = result.ticket
        assert ticket.status == Status.NEW
        assert ticket.number[8] == "-" and len(ticket.number) == 15
        assert ticket.caller_phone == "+8613800138000"
        assert ticket.category == city.potholes and ticket.district == city.east
        assert ticket.created_by == city.operator
        assert result.routing_queued is (jobs.queue is not None)  # queued when the tests have a Redis
        assert kinds(ticket) == ["created"]

    def test_numbers_are_unique_and_sorted_within_a_day(self, city):
        numbers = [factories.make_ticket(city.operator).number for _ in range(5)]
        assert numbers == sorted(numbers)
        assert len(set(numbers)) == 5
        assert [int(n.split("-")[1]) for n in numbers] == list(range(1, 6))

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("caller_phone", "12ab"),
            ("caller_phone", ""),
            ("category", "no-such-category"),
            ("district", "atlantis"),
            ("description", "   "),
            ("type", "gossip"),
            ("urgency", "whenever"),
            ("channel", "pigeon"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_saved(self, city, field, value):
        with pytest.raises(InvalidInput) as error:
            tickets.create_ticket(city.operator, factories.intake(**{field: value}))
        assert error.value.field == field
        assert error.value.message
        assert count_tickets() == 0

    def test_department_staff_cannot_log_calls(self, city):
        with pytest.raises(PermissionDenied):
            tickets.create_ticket(city.roads_staff, factories.intake())
        assert count_tickets() == 0

    def test_a_consultation_answered_on_the_spot_is_closed_at_once(self, city):
        result = tickets.create_ticket(
            city.operator, factories.intake(type="consultation", direct_answer="办理时间为工作日 9:00-17:00。")
        )
        ticket = result.ticket
        assert ticket.status == Status.CLOSED
        assert ticket.resolution.startswith("办理时间")
        assert ticket.closed_at is not None and ticket.department is None
        assert kinds(ticket) == ["created", "direct_answer"]
        assert result.routing_queued is False

    def test_only_consultations_can_be_answered_directly(self, city):
        with pytest.raises(InvalidInput):
            tickets.create_ticket(city.operator, factories.intake(type="complaint", direct_answer="ok"))
        assert count_tickets() == 0

    def test_earlier_tickets_of_a_caller_newest_first(self, city):
        first = factories.make_ticket(city.operator)
        second = factories.make_ticket(city.operator, caller_phone="+86 138 0013 8000")
        factories.make_ticket(city.operator, caller_phone="13900139000")
        assert tickets.earlier_tickets(city.operator, "+8613800138000") == [second, first]


class TestRouting:
    def test_routes_by_the_category_default_inherited_from_the_parent(self, city):
        ticket = factories.make_routed_ticket(city.operator, category="potholes")
        assert ticket.status == Status.DISPATCHED
        assert ticket.department == city.roads
        assert ticket.dispatched_at is not None
        assert ticket.resolve_due_at > ticket.dispatched_at
        routed = ticket.events[-1]
        assert (routed.kind, routed.from_status, routed.to_status, routed.actor) == (
            "routed",
            Status.NEW,
            Status.DISPATCHED,
            None,
        )
        assert routed.data["department"] == "roads"

    def test_a_category_without_department_goes_to_the_dispatcher(self, city):
        ticket = factories.make_routed_ticket(city.operator, category="other")
        assert ticket.status == Status.PENDING_DISPATCH
        assert ticket.department is None
        assert ticket.events[-1].to_status == Status.PENDING_DISPATCH

    def test_routing_twice_routes_once(self, city):
        ticket = factories.make_ticket(city.operator)
        tickets.route(ticket.id)
        tickets.route(ticket.id)
        routed = db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "routed")
        ).all()
        assert len(routed) == 1

    def test_routing_an_unknown_id_does_nothing(self, city):
        assert tickets.route(987654) is None


class TestTransitions:
    def test_accept_then_resolve(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        tickets.accept(city.roads_staff, ticket, expected_version=ticket.version)
        assert ticket.status == Status.IN_PROGRESS and ticket.accepted_at is not None
        tickets.resolve(city.roads_staff, ticket, "已填补坑洼。", expected_version=ticket.version)
        assert ticket.status == Status.RESOLVED
        assert ticket.resolution == "已填补坑洼。"
        assert kinds(ticket) == ["created", "routed", "accepted", "resolved"]

    def test_another_department_may_not_act(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        with pytest.raises(PermissionDenied):
            tickets.accept(city.water_staff, ticket)
        with pytest.raises(PermissionDenied):
            tickets.accept(city.supervisor, ticket)
        assert ticket.status == Status.DISPATCHED

    def test_resolve_needs_acceptance_first(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        with pytest.raises(Conflict):
            tickets.resolve(city.roads_staff, ticket, "done")
        assert kinds(ticket) == ["created", "routed"]

    def test_resolve_needs_a_reply(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        tickets.accept(city.roads_staff, ticket)
        with pytest.raises(InvalidInput):
            tickets.resolve(city.roads_staff, ticket, "  ")
        assert ticket.status == Status.IN_PROGRESS

    def test_a_stale_version_is_a_conflict_and_changes_nothing(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        seen = ticket.version
        tickets.add_note(city.roads_staff, ticket, "looking")  # notes do not bump the version
        tickets.accept(city.roads_staff, ticket, expected_version=seen)
        with pytest.raises(Conflict):
            tickets.return_to_dispatch(city.roads_staff, ticket, "not ours", expected_version=seen)
        assert ticket.status == Status.IN_PROGRESS
        assert kinds(ticket) == ["created", "routed", "note", "accepted"]

    def test_return_sends_the_ticket_back_to_the_dispatcher(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        tickets.return_to_dispatch(city.roads_staff, ticket, "供水问题，不属于本单位")
        assert ticket.status == Status.PENDING_DISPATCH
        assert ticket.department is None and ticket.resolve_due_at is None
        returned = ticket.events[-1]
        assert returned.data == {"reason": "供水问题，不属于本单位", "reason_code": "other", "department": "roads"}
        with pytest.raises(InvalidInput):
            tickets.return_to_dispatch(city.roads_staff, factories.make_routed_ticket(city.operator), "")

    def test_dispatcher_dispatches_what_routing_could_not_place(self, city):
        ticket = factories.make_routed_ticket(city.operator, category="other")
        with pytest.raises(PermissionDenied):
            tickets.dispatch(city.operator, ticket, "water")
        with pytest.raises(InvalidInput):
            tickets.dispatch(city.dispatcher, ticket, "nope")
        tickets.dispatch(city.dispatcher, ticket, "water", expected_version=ticket.version)
        assert ticket.status == Status.DISPATCHED and ticket.department == city.water
        assert ticket.events[-1].actor == city.dispatcher
        assert ticket.routed_by == "dispatcher"
        with pytest.raises(InvalidInput):
            tickets.dispatch(city.dispatcher, ticket, "water")  # it is there already

    def test_notes_need_text_and_visibility(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        with pytest.raises(InvalidInput):
            tickets.add_note(city.roads_staff, ticket, "")
        with pytest.raises(PermissionDenied):
            tickets.add_note(city.water_staff, ticket, "not mine")
        tickets.add_note(city.supervisor, ticket, "请尽快处理")
        note = ticket.events[-1]
        assert (note.kind, note.from_status, note.to_status) == ("note", None, None)

    def test_events_cannot_be_edited(self, city):
        ticket = factories.make_ticket(city.operator)
        event = ticket.events[0]
        event.kind = "forged"
        with pytest.raises(RuntimeError):
            db.session.commit()
        db.session.rollback()


def test_each_transition_bumps_the_version_once(city):
    from hotline.services.clocks import calendar

    calendar.forget_cached_calendar()  # a cold cache queries mid-transition
    ticket = factories.make_ticket(city.operator)
    assert ticket.version == 1
    tickets.route(ticket.id)
    assert ticket.version == 2
    tickets.accept(city.roads_staff, ticket)
    assert ticket.version == 3
    with pytest.raises(Conflict):
        tickets.add_note(city.roads_staff, ticket, "seen an old version", expected_version=2)
    tickets.add_note(city.roads_staff, ticket, "ok", expected_version=3)
    assert ticket.version == 3
