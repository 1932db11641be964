"""Ping-pong (来回派单): dispatching a ticket back to a department that returned it needs a
reason, recorded on the event, and the misrouting report counts each such dispatch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Status, TicketEvent
from hotline.services.dispatch import ping_pong
from hotline.services.errors import InvalidInput
from hotline.services.reporting import reports
from hotline.services.ticketing import returns, tickets
from tests import factories


def returned_by_roads(city):
    """A pothole routed to roads (the category default) that roads returned: at the desk."""
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    assert ticket.status == Status.PENDING_DISPATCH
    return ticket


def dispatch_events(ticket) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(ping_pong.DISPATCH_KINDS))
    )


def test_back_to_the_returner_without_a_reason_is_refused_and_nothing_changes(city):
    ticket = returned_by_roads(city)
    version = ticket.version
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput) as refused:
            tickets.dispatch(city.dispatcher, ticket, "roads", expected_version=version, reason=reason)
        assert refused.value.field == "reason"
        assert "道路管理局" in refused.value.message  # names the department that returned it
        db.session.rollback()
    assert (ticket.status, ticket.version, ticket.department) == (Status.PENDING_DISPATCH, version, None)
    assert dispatch_events(ticket) == 0


def test_with_a_reason_it_goes_and_the_event_keeps_the_reason(city):
    ticket = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, ticket, "roads", reason="  现场核实：坑在机动车道上，属道路局。 ")
    assert (ticket.status, ticket.department) == (Status.DISPATCHED, city.roads)
    event = ticket.events[-1]
    assert event.kind == "dispatched"
    assert event.data["reason"] == "现场核实：坑在机动车道上，属道路局。"
    assert event.data["ping_pong"] is True


def test_another_department_needs_no_reason_and_keeps_one_given(city):
    ticket = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, ticket, "water")
    assert "reason" not in ticket.events[-1].data and "ping_pong" not in ticket.events[-1].data
    other = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, other, "water", reason="水管渗漏造成路面塌陷")
    assert other.events[-1].data["reason"] == "水管渗漏造成路面塌陷"
    assert "ping_pong" not in other.events[-1].data


def test_a_reassignment_back_to_the_returner_needs_a_reason_too(city):
    ticket = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, ticket, "water")
    with pytest.raises(InvalidInput) as refused:
        tickets.dispatch(city.dispatcher, ticket, "roads")  # reassigned from water back to roads
    assert refused.value.field == "reason"
    db.session.rollback()
    assert ticket.department == city.water
    tickets.dispatch(city.dispatcher, ticket, "roads", reason="水务局核实无漏水")
    assert ticket.events[-1].kind == "reassigned" and ticket.events[-1].data["ping_pong"] is True


def test_a_return_approved_after_the_window_counts(city):
    ticket = factories.make_routed_ticket(city.operator)
    ticket.dispatched_at -= timedelta(days=10)
    db.session.commit()
    tickets.return_to_dispatch(city.roads_staff, ticket, "late")  # a request for a supervisor
    # While it only waits for a supervisor, roads has not returned it.
    assert ping_pong.returned_by([ticket.id]) == {}
    returns.approve_return(city.supervisor, ticket)
    assert ping_pong.returned_by([ticket.id]) == {ticket.id: ["roads"]}
    with pytest.raises(InvalidInput):
        tickets.dispatch(city.dispatcher, ticket, "roads")


def test_a_department_never_returning_it_is_no_ping_pong(city):
    ticket = factories.make_routed_ticket(city.operator)  # with roads, which keeps it
    gas = factories.make_department("gas", "燃气公司")
    tickets.dispatch(city.dispatcher, ticket, gas.code)
    tickets.dispatch(city.dispatcher, ticket, "roads")  # back to roads, which never returned it
    assert "ping_pong" not in ticket.events[-1].data


def test_a_reason_too_long_is_refused(city):
    ticket = returned_by_roads(city)
    with pytest.raises(InvalidInput) as refused:
        tickets.dispatch(city.dispatcher, ticket, "roads", reason="因" * (ping_pong.REASON_MAX + 1))
    assert refused.value.field == "reason"
    db.session.rollback()
    assert ticket.status == Status.PENDING_DISPATCH


def test_the_misrouting_report_counts_each_ping_pong_exactly(city):
    gas = factories.make_department("gas", "燃气公司")
    # 1. roads returns it; back to roads: one ping-pong (potholes).
    once = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, once, "roads", reason="属道路局")
    # 2. roads returns it, the dispatcher sends it to water, then back to roads, roads returns
    #    it again and it goes to roads a third time: two ping-pongs (potholes).
    twice = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, twice, "water")
    tickets.dispatch(city.dispatcher, twice, "roads", reason="水务局说不是漏水")
    tickets.return_to_dispatch(city.roads_staff, twice, "还是不归我们")
    tickets.dispatch(city.dispatcher, twice, "roads", reason="领导协调：道路局办理")
    # 3. water returns a water-supply ticket; it goes to gas, then back to water: one (water-supply).
    water = factories.make_routed_ticket(city.operator, category="water-supply")
    tickets.return_to_dispatch(city.water_staff, water, "燃气管道问题")
    tickets.dispatch(city.dispatcher, water, gas.code)
    tickets.dispatch(city.dispatcher, water, "water", reason="燃气公司查无泄漏")
    # 4. Returned, then sent elsewhere only: none.
    elsewhere = returned_by_roads(city)
    tickets.dispatch(city.dispatcher, elsewhere, "water")
    # 5. Never returned, moved away and back: none.
    kept = factories.make_routed_ticket(city.operator)
    tickets.dispatch(city.dispatcher, kept, "water")
    tickets.dispatch(city.dispatcher, kept, "roads")

    day = kept.created_at.date()
    found = reports.misrouting(day, day, "UTC")
    by_rule = {row.key: row.ping_pong for row in found["rules"]}
    by_category = {row.key: row.ping_pong for row in found["categories"]}
    assert by_rule == {"category_default": 0, "dispatcher": 4}
    assert by_category == {"potholes": 3, "water-supply": 1}
    # The flag on the events says the same: the report and the events agree.
    flagged = [e for e in db.session.scalars(select(TicketEvent)) if (e.data or {}).get("ping_pong")]
    assert len(flagged) == 4
    assert {row.key: row.as_dict()["ping_pong"] for row in found["categories"]} == by_category
    # Outside the range: nothing.
    before = day - timedelta(days=3)
    assert reports.misrouting(before, before, "UTC") == {"rules": [], "categories": []}
