"""Routing rules (派单目录), assisting departments, reassignment, returns and their window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from hotline import labels
from hotline.extensions import db
from hotline.models import ReturnRequest, RoutingOutcome, Status, TicketAssist
from hotline.services.accounts import access
from hotline.services.dispatch import routing
from hotline.services.errors import Conflict, InvalidInput, PermissionDenied
from hotline.services.ticketing import assists, returns, tickets
from tests import factories


def rule(**fields):
    return routing.save_rule({"department": "water", **fields})


class TestRules:
    def test_the_first_matching_rule_by_priority_wins(self, city):
        rule(priority=20, keywords=["坑"], department="water", name="second")
        first = rule(priority=10, category="infrastructure", keywords=["路面"], department="water", name="first")
        ticket = factories.make_routed_ticket(city.operator)  # potholes: a child of infrastructure
        assert ticket.department == city.water
        assert ticket.routed_by == "rule" and ticket.routing_rule_id == first.id
        data = ticket.events[-1].data
        assert data["by"] == "rule" and data["rule"] == {"id": first.id, "priority": 10, "name": "first"}
        assert "reason" not in data  # a code, put into words for the reader: no text in one language
        with force_locale("en"):
            assert labels.routing_reason(data) == f"rule {first.id} (priority 10) first"
        with force_locale("zh_CN"):
            assert labels.routing_reason(data) == f"派单规则 {first.id}（优先级 10）first"

    @pytest.mark.parametrize(
        "fields",
        [
            {"district": "west"},
            {"type": "praise"},
            {"urgency": "urgent"},
            {"keywords": ["燃气", "漏水"]},
            {"category": "water-supply"},
            {"active": False},
        ],
    )
    def test_every_given_condition_must_hold(self, city, fields):
        rule(**fields)
        ticket = factories.make_routed_ticket(city.operator)
        assert ticket.routed_by == "category_default" and ticket.department == city.roads

    def test_a_keyword_may_name_the_place(self, city):
        """A street office's rule: the district and the names of its roads (issue 17)."""
        street = factories.make_department("east-xingfu", "幸福街街道办事处")
        rule(district="east", keywords=["幸福街"], department="east-xingfu", name="street")
        on_its_road = factories.make_routed_ticket(city.operator, address="幸福街 12 号")
        elsewhere = factories.make_routed_ticket(city.operator, address="解放路 3 号")
        assert on_its_road.department == street and on_its_road.routed_by == "rule"
        assert elsewhere.department == city.roads and elsewhere.routed_by == "category_default"

    def test_all_conditions_holding_routes_with_assisting_departments(self, city):
        helper = factories.make_department("police", "公安局")
        rule(
            district="east",
            type="complaint",
            urgency="normal",
            keywords=["大坑"],
            category="potholes",
            department="roads",
            assisting=["police", "water"],
        )
        ticket = factories.make_routed_ticket(city.operator)
        assert ticket.routed_by == "rule"
        assert {a.department for a in assists.of_ticket(ticket)} == {helper, city.water}
        assert ticket.events[-1].data["assisting"] == ["police", "water"]

    def test_no_rule_and_no_default_goes_to_the_desk(self, city):
        ticket = factories.make_routed_ticket(city.operator, category="other")
        assert ticket.status == Status.PENDING_DISPATCH
        assert ticket.events[-1].data["by"] == "none"

    def test_trying_a_sample_against_an_unsaved_rule_set(self, city):
        sample = {"category": "potholes", "district": "east", "description": "小区里燃气泄漏"}
        assert routing.try_rules(sample).by == "category_default"
        decision = routing.try_rules(
            sample,
            [
                {"priority": 5, "keywords": ["路灯"], "department": "water"},
                {"priority": 1, "keywords": ["燃气"], "department": "water", "name": "gas"},
            ],
        )
        assert decision.by == "rule" and decision.rule.name == "gas"
        assert [step["matched"] for step in decision.trace] == [True]  # the priority-1 rule is tried first
        with pytest.raises(InvalidInput):
            routing.try_rules(sample, [{"department": "nowhere"}])
        with pytest.raises(InvalidInput):
            routing.try_rules({"description": "no category"})

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"department": None}, "department"),
            ({"priority": "high"}, "priority"),
            ({"keywords": "燃气"}, "keywords"),
            ({"category": "nope"}, "category"),
            ({"type": "gossip"}, "type"),
            ({"assisting": ["water"]}, "assisting"),  # the lead cannot assist
        ],
    )
    def test_invalid_rules_are_refused(self, city, fields, field):
        with pytest.raises(InvalidInput) as error:
            routing.save_rule({"department": "water", **fields})
        assert error.value.field == field
        assert routing.list_rules() == []


class TestAssistingDepartments:
    def test_helpers_see_the_ticket_add_their_part_and_the_lead_resolves(self, city):
        rule(category="potholes", department="roads", assisting=["water"])
        ticket = factories.make_routed_ticket(city.operator)
        assert access.can_see(city.water_staff, ticket)
        visible = db.session.scalars(access.visible_tickets(city.water_staff)).all()
        assert visible == [ticket]
        with pytest.raises(PermissionDenied):
            tickets.accept(city.water_staff, ticket)  # only the lead department works the ticket
        with pytest.raises(PermissionDenied):
            assists.mark_done(city.roads_staff, ticket, "we are the lead")
        assists.mark_done(city.water_staff, ticket, "已关闭附近水阀")
        with pytest.raises(Conflict):
            assists.mark_done(city.water_staff, ticket, "again")
        assert assists.of_ticket(ticket)[0].status == TicketAssist.DONE
        assert ticket.events[-1].kind == "assist_done"


class TestReassignAndReturn:
    def test_reassignment_is_counted_against_the_routing(self, city):
        made = rule(category="potholes", department="roads")
        ticket = factories.make_routed_ticket(city.operator)
        tickets.dispatch(city.dispatcher, ticket, "water", assisting=["roads"])
        assert ticket.department == city.water and ticket.events[-1].kind == "reassigned"
        outcome = db.session.scalar(select(RoutingOutcome))
        assert (outcome.kind, outcome.routed_by, outcome.rule_id, outcome.department_id) == (
            "reassigned",
            "rule",
            made.id,
            city.roads.id,
        )

    def test_a_return_within_the_window_goes_back_at_once(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        reasons = [r.code for r in returns.reasons()]
        assert "not_our_remit" in reasons
        with pytest.raises(InvalidInput):
            tickets.return_to_dispatch(city.roads_staff, ticket, "wrong", reason_code="bogus")
        tickets.return_to_dispatch(city.roads_staff, ticket, "属于供水", reason_code="not_our_remit")
        assert ticket.status == Status.PENDING_DISPATCH
        outcome = db.session.scalar(select(RoutingOutcome))
        assert (outcome.kind, outcome.routed_by) == ("returned", "category_default")

    def test_after_the_window_a_supervisor_decides(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        ticket.dispatched_at -= timedelta(days=10)
        db.session.commit()
        tickets.return_to_dispatch(city.roads_staff, ticket, "其实不归我们管", reason_code="not_our_remit")
        assert ticket.status == Status.DISPATCHED  # still with the department
        assert returns.pending_request(ticket).reason_code == "not_our_remit"
        with pytest.raises(Conflict):
            tickets.return_to_dispatch(city.roads_staff, ticket, "again")
        with pytest.raises(PermissionDenied):
            returns.approve_return(city.dispatcher, ticket)
        returns.approve_return(city.supervisor, ticket)
        assert ticket.status == Status.PENDING_DISPATCH
        returned = ticket.events[-1]
        assert returned.kind == "returned" and returned.data["approved_by"] == "supervisor"

    def test_a_refused_late_return_keeps_the_ticket(self, city):
        ticket = factories.make_routed_ticket(city.operator)
        ticket.dispatched_at -= timedelta(days=10)
        db.session.commit()
        tickets.return_to_dispatch(city.roads_staff, ticket, "late")
        returns.refuse_return(city.supervisor, ticket, "属于你单位职责，请继续办理")
        assert ticket.status == Status.DISPATCHED
        assert db.session.scalar(select(ReturnRequest.status)) == ReturnRequest.REFUSED
        with pytest.raises(Conflict):
            returns.approve_return(city.supervisor, ticket)


def test_misrouting_report_counts_against_the_routing(city):
    from datetime import date

    from hotline.services.reporting import reports

    made = rule(category="potholes", department="roads", name="坑洼规则")
    kept = factories.make_routed_ticket(city.operator)
    returned = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, returned, "not ours")
    tickets.dispatch(city.dispatcher, returned, "water")
    reassigned = factories.make_routed_ticket(city.operator, category="water-supply")
    tickets.dispatch(city.dispatcher, reassigned, "roads")
    today = kept.created_at.date()
    found = reports.misrouting(date(today.year, today.month, today.day), today, "UTC")
    rules = {m.key: m for m in found["rules"]}
    assert (rules[f"rule:{made.id}"].routed, rules[f"rule:{made.id}"].returned) == (2, 1)
    assert rules[f"rule:{made.id}"].rate == 0.5
    assert (rules["category_default"].routed, rules["category_default"].reassigned) == (1, 1)
    assert rules["dispatcher"].routed == 2 and rules["dispatcher"].rate == 0
    categories = {m.key: m for m in found["categories"]}
    assert (categories["potholes"].routed, categories["potholes"].returned) == (3, 1)
