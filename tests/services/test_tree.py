"""Units in a tree (issue 17, items 1 and 2): sending down (下派), returning up (回退), review
(审核), units needing no review, visibility along the chain, handlers (承办人)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.extensions import db
from hotline.models import HoldOutcome, Status, TicketHold
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.services.ticketing import lifecycle, tickets, tree
from tests import factories


class Tree:
    """roads (the city's unit) > east street > east community; roads > west street."""

    def __init__(self, city) -> None:
        self.city = city
        self.east = self._unit("roads-east", city.roads)
        self.west = self._unit("roads-west", city.roads)
        self.community = self._unit("roads-east-c1", self.east)
        self.east_staff = factories.make_user("department", self.east, username="east_staff")
        self.east_other = factories.make_user("department", self.east, username="east_other")
        self.west_staff = factories.make_user("department", self.west, username="west_staff")
        self.community_staff = factories.make_user("department", self.community, username="community_staff")

    @staticmethod
    def _unit(code, parent):
        unit = factories.make_department(code, f"单位 {code}")
        unit.parent = parent
        db.session.commit()
        return unit

    def accepted(self):
        ticket = factories.make_routed_ticket(self.city.operator)
        return tickets.accept(self.city.roads_staff, ticket)

    def sent_to_east(self):
        return tree.subdispatch(self.city.roads_staff, self.accepted(), "roads-east", note="请现场核实")


@pytest.fixture
def units(city):
    return Tree(city)


class TestSendingDown:
    def test_the_deadline_is_capped_by_the_senders_and_defaults_to_the_margin_before_it(self, app, units):
        ticket = units.accepted()
        own = ticket.resolve_due_at
        with pytest.raises(InvalidInput) as error:
            tree.subdispatch(units.city.roads_staff, ticket, "roads-east", own + timedelta(minutes=1))
        assert error.value.field == "due"
        assert ticket.holder_id is None and ticket.status == Status.IN_PROGRESS
        tree.subdispatch(units.city.roads_staff, ticket, "roads-east")
        margin = timedelta(hours=app.config["HOTLINE_SUBDISPATCH_MARGIN_HOURS"])
        assert [(link.department.code, link.due) for link in tree.chain(ticket)] == [
            ("roads", own),
            ("roads-east", max(own - margin, min(own, ticket.events[-1].at + timedelta(hours=1)))),
        ]
        assert ticket.status == Status.DISPATCHED and ticket.holder == units.east
        # Further down: no later than the street's own deadline.
        tickets.accept(units.east_staff, ticket)
        street_due = tree.own_due(ticket)
        with pytest.raises(InvalidInput):
            tree.subdispatch(units.east_staff, ticket, "roads-east-c1", street_due + timedelta(seconds=1))
        tree.subdispatch(units.east_staff, ticket, "roads-east-c1", street_due)
        assert [link.department.code for link in tree.chain(ticket)] == ["roads", "roads-east", "roads-east-c1"]

    def test_only_to_a_direct_sub_unit(self, units):
        ticket = units.accepted()
        with pytest.raises(InvalidInput) as error:
            tree.subdispatch(units.city.roads_staff, ticket, "roads-east-c1")  # a grandchild
        assert error.value.field == "department"
        with pytest.raises(InvalidInput):
            tree.subdispatch(units.city.roads_staff, ticket, "water")
        assert ticket.holder_id is None

    def test_a_unit_without_sub_units_is_not_offered_it(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        assert "subdispatch" in lifecycle.allowed(units.east_staff, ticket)
        ticket = tree.subdispatch(units.east_staff, ticket, "roads-east-c1")
        tickets.accept(units.community_staff, ticket)
        assert "subdispatch" not in lifecycle.allowed(units.community_staff, ticket)
        with pytest.raises(PermissionDenied):
            tree.subdispatch(units.community_staff, ticket, "roads-east")

    def test_the_sub_unit_signs_and_the_citys_accept_time_stays(self, units):
        ticket = units.sent_to_east()
        first = ticket.accepted_at
        with pytest.raises(PermissionDenied):  # roads no longer holds it
            tickets.accept(units.city.roads_staff, ticket)
        tickets.accept(units.east_staff, ticket)
        assert ticket.status == Status.IN_PROGRESS and ticket.accepted_at == first

    def test_a_stale_version_is_a_conflict_and_nothing_is_kept(self, units):
        ticket = units.accepted()
        with pytest.raises(Conflict):
            tree.subdispatch(units.city.roads_staff, ticket, "roads-east", expected_version=ticket.version - 1)
        db.session.rollback()
        assert ticket.holder_id is None and db.session.query(TicketHold).count() == 0


class TestVisibility:
    def test_the_chain_sees_it_another_street_does_not(self, units):
        ticket = units.sent_to_east()
        for person in (units.city.roads_staff, units.east_staff, units.east_other):
            assert access.ticket_for(person, ticket.number) is ticket
        for person in (units.west_staff, units.community_staff, units.city.water_staff):
            with pytest.raises(NotFound):
                access.ticket_for(person, ticket.number)
        tickets.accept(units.east_staff, ticket)
        tree.subdispatch(units.east_staff, ticket, "roads-east-c1")
        assert access.can_see(units.community_staff, ticket) and access.can_see(units.city.roads_staff, ticket)
        assert not access.can_see(units.west_staff, ticket)

    def test_a_unit_that_returned_it_up_no_longer_sees_it(self, units):
        ticket = units.sent_to_east()
        with pytest.raises(InvalidInput) as error:
            tree.return_up(units.east_staff, ticket, "  ")
        assert error.value.field == "reason"
        tree.return_up(units.east_staff, ticket, "不属于本街道辖区")
        assert ticket.holder_id is None and ticket.status == Status.IN_PROGRESS
        assert ticket.events[-1].kind == "returned_up" and ticket.events[-1].data["reason"] == "不属于本街道辖区"
        assert not access.can_see(units.east_staff, ticket)
        hold = db.session.query(TicketHold).filter_by(ticket_id=ticket.id).one()
        assert (hold.outcome, hold.ended_at is not None) == (HoldOutcome.RETURNED_UP, True)

    def test_only_the_citys_unit_returns_it_to_the_desk_and_a_reassignment_ends_the_chain(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        with pytest.raises(PermissionDenied):
            tickets.return_to_dispatch(units.east_staff, ticket, "不归我们管")
        assert "return" not in lifecycle.allowed(units.east_staff, ticket)
        tickets.dispatch(units.city.dispatcher, ticket, "water")
        assert ticket.holder_id is None and tree.chain(ticket)[0].department.code == "water"
        assert not access.can_see(units.east_staff, ticket)


class TestReview:
    def test_a_reply_from_below_waits_for_review_then_resolves_for_the_city(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        tickets.resolve(units.east_staff, ticket, "已修复路面。")
        assert ticket.status == Status.IN_PROGRESS and ticket.resolution is None
        assert ticket.holder_id is None  # roads holds it again, to review
        assert "review" in lifecycle.allowed(units.city.roads_staff, ticket)
        assert "review" not in lifecycle.allowed(units.east_staff, ticket)
        tree.review(units.city.roads_staff, ticket, True, "")
        assert ticket.status == Status.RESOLVED and ticket.resolution == "已修复路面。"
        assert ticket.events[-1].kind == "resolved" and ticket.events[-1].data["reviewed"] is True
        assert lifecycle.open_holds(ticket) == []

    def test_a_refused_reply_goes_back_down_with_its_reason(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        tickets.resolve(units.east_staff, ticket, "已处理。")
        with pytest.raises(InvalidInput) as error:
            tree.review(units.city.roads_staff, ticket, False, "")
        assert error.value.field == "reason"
        tree.review(units.city.roads_staff, ticket, False, "答复未说明整改时限")
        assert ticket.holder == units.east and ticket.handler == units.east_staff
        assert ticket.events[-1].kind == "reply_refused"
        assert lifecycle.pending_reply(ticket) is None
        with pytest.raises(PermissionDenied):
            tree.review(units.city.roads_staff, ticket, True, "")  # roads no longer holds it

    def test_a_deep_reply_climbs_review_by_review(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        tree.subdispatch(units.east_staff, ticket, "roads-east-c1")
        tickets.accept(units.community_staff, ticket)
        tickets.resolve(units.community_staff, ticket, "社区已协调解决。")
        assert ticket.holder == units.east
        with pytest.raises(Conflict):  # a reply waits: not sent down again meanwhile
            tree.subdispatch(units.east_staff, ticket, "roads-east-c1")
        tree.review(units.east_staff, ticket, True, "")
        assert ticket.status == Status.IN_PROGRESS and ticket.holder_id is None
        assert ticket.events[-1].kind == "reply_approved"
        tree.review(units.city.roads_staff, ticket, True, "")
        assert ticket.status == Status.RESOLVED and ticket.resolution == "社区已协调解决。"

    def test_a_unit_needing_no_review_resolves_for_the_city(self, units):
        units.east.needs_review = False
        db.session.commit()
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        tickets.resolve(units.east_staff, ticket, "已修复。")
        assert ticket.status == Status.RESOLVED and ticket.events[-1].kind == "resolved"
        assert lifecycle.open_holds(ticket) == []


class TestHandlers:
    def test_the_first_to_accept_handles_it(self, units):
        ticket = units.sent_to_east()
        assert ticket.handler is None  # roads' handler stays above
        tickets.accept(units.east_other, ticket)
        assert ticket.handler == units.east_other
        tree.return_up(units.east_other, ticket, "不属于本街道")
        assert ticket.handler == units.city.roads_staff  # back to the one who handled it above

    def test_only_the_lead_assigns_and_only_to_the_holding_unit(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        with pytest.raises(PermissionDenied):
            tree.assign(units.east_staff, ticket, "east_other")
        assert "assign" not in lifecycle.allowed(units.east_staff, ticket)
        lead = factories.make_user("department", units.east, username="east_lead")
        lead.is_unit_lead = True
        db.session.commit()
        assert "assign" in lifecycle.allowed(lead, ticket)
        for wrong in ("west_staff", "nobody", "roads_staff"):
            with pytest.raises(InvalidInput) as error:
                tree.assign(lead, ticket, wrong)
            assert error.value.field == "handler"
        tree.assign(lead, ticket, "east_other")
        assert ticket.handler == units.east_other and ticket.events[-1].data["from_handler"] == "east_staff"
        roads_lead = units.city.roads_staff
        roads_lead.is_unit_lead = True
        db.session.commit()
        with pytest.raises(PermissionDenied):  # a lead above does not name handlers below
            tree.assign(roads_lead, ticket, "roads_staff")

    def test_the_due_is_never_before_now(self, units):
        ticket = units.accepted()
        with pytest.raises(InvalidInput):
            tree.subdispatch(units.city.roads_staff, ticket, "roads-east", utcnow() - timedelta(hours=1))
        with pytest.raises(InvalidInput):
            tree.subdispatch(units.city.roads_staff, ticket, "roads-east", "tomorrow")


class TestWorkbench:
    def test_the_unit_above_follows_what_it_sent_down(self, units):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        later = ticket.events[-1].at
        rows = tree.sent_down(units.city.roads_staff, later)
        assert [(row.ticket, row.holder, row.level) for row in rows] == [(ticket, units.east, "")]
        assert tree.sent_down(units.city.roads_staff, rows[0].due)[0].level == "red"
        assert tree.sent_down(units.east_staff) == []  # the street holds it: nothing sent down
        tree.subdispatch(units.east_staff, ticket, "roads-east-c1")
        assert [row.holder for row in tree.sent_down(units.east_staff)] == [units.community]
        assert [row.holder for row in tree.sent_down(units.city.roads_staff)] == [units.community]
        assert tree.sent_down(units.west_staff) == []

    def test_my_tickets_and_the_leads_view_of_loads(self, units, login):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        assert tree.my_tickets(units.east_staff) == [ticket] and tree.my_tickets(units.east_other) == []
        lead = factories.make_user("department", units.east, username="east_lead")
        with pytest.raises(PermissionDenied):
            tree.loads(lead)
        lead.is_unit_lead = True
        db.session.commit()
        found = {
            (load.person.username if load.person else None): (load.open, load.overdue) for load in tree.loads(lead)
        }
        assert found == {"east_lead": (0, 0), "east_other": (0, 0), "east_staff": (1, 0)}
        late = tree.own_due(ticket) + timedelta(seconds=1)
        assert {load.person.username: load.overdue for load in tree.loads(lead, late)}["east_staff"] == 1
        page = login(lead).get("/units/load")
        assert page.status_code == 200 and 'data-handler="east_staff"' in page.get_data(as_text=True)
        assert login(units.east_staff).get("/units/load").status_code == 403
        mine = login(units.east_staff).get("/tickets/mine").get_data(as_text=True)
        assert ticket.number in mine
        sent = login(units.city.roads_staff).get("/tickets/sent-down").get_data(as_text=True)
        assert ticket.number in sent and units.east.name in sent

    def test_the_ticket_page_shows_the_chain_and_the_cards(self, units, login):
        ticket = units.sent_to_east()
        page = login(units.city.roads_staff).get(f"/tickets/{ticket.number}").get_data(as_text=True)
        assert 'id="holders"' in page and 'data-department="roads-east"' in page
        assert "return-up-card" not in page and "subdispatch-card" not in page  # the street holds it
        page = login(units.east_staff).get(f"/tickets/{ticket.number}").get_data(as_text=True)
        assert "return-up-card" in page
        client = login(units.east_staff)
        client.post(f"/tickets/{ticket.number}/accept", data={"version": ticket.version})
        client.post(f"/tickets/{ticket.number}/resolve", data={"version": ticket.version, "resolution": "已修复。"})
        page = login(units.city.roads_staff).get(f"/tickets/{ticket.number}").get_data(as_text=True)
        assert 'id="pending-reply"' in page and "已修复。" in page

    def test_the_unit_whose_reply_waits_still_sees_the_ticket_on_its_page(self, units, login):
        ticket = units.sent_to_east()
        tickets.accept(units.east_staff, ticket)
        tickets.resolve(units.east_staff, ticket, "已修复。")
        assert access.can_see(units.east_staff, ticket)  # as `visible_tickets` lets it in
        assert lifecycle.allowed(units.east_staff, ticket) == ["notes"]
        assert login(units.east_staff).get(f"/tickets/{ticket.number}").status_code == 200

    def test_the_street_workbench_lists_what_was_sent_down_to_it_not_as_assisting(self, units, login):
        ticket = units.sent_to_east()
        page = login(units.east_staff).get("/tickets?tab=dispatched").get_data(as_text=True)
        assert ticket.number in page and 'id="tree-nav"' in page
        assert ">协办单位<" not in page
