"""Routing by where it happened (issue 18 item 2): a rule may ask for the unit that handles the
gazetteer place at the ticket's point (the street office, 街道); services/city/where.py finds the
place nearest the point within 200 m that has a unit."""

from __future__ import annotations

import pytest

from hotline.services.city import where
from hotline.services.dispatch import routing
from hotline.services.errors import InvalidInput
from tests import factories, geo_city

# Two street offices of the east district, each with its road; a landmark with no unit.
PLACES = """name,kind,lat,long,district,unit
人民路,road,39.9100,116.4100,east,east-renmin
幸福街,road,39.9150,116.4150,east,east-xingfu
东湖公园,landmark,39.9120,116.4120,east,
西单广场,landmark,39.9050,116.3850,west,
"""
RENMIN = (39.9100, 116.4100)
XINGFU = (39.9150, 116.4150)


@pytest.fixture
def streets(city):
    offices = {
        "renmin": factories.make_department("east-renmin", "人民路街道办事处"),
        "xingfu": factories.make_department("east-xingfu", "幸福街街道办事处"),
    }
    geo_city.load(places=PLACES)
    return offices


def test_a_rule_on_the_place_unit_routes_the_tickets_of_its_places(city, streets):
    rule = routing.save_rule({"department": "east-xingfu", "place_unit": "east-xingfu", "name": "幸福街"})
    assert routing.rule_json(rule)["place_unit"] == "east-xingfu"
    # Picked from the gazetteer (the place's own point), or clicked on the map 60 m away.
    picked = factories.make_routed_ticket(city.operator, lat=XINGFU[0], long=XINGFU[1])
    clicked = factories.make_routed_ticket(city.operator, lat=XINGFU[0] + 0.0005, long=XINGFU[1])
    assert picked.department == streets["xingfu"] and picked.routed_by == "rule"
    assert clicked.department == streets["xingfu"] and clicked.routing_rule_id == rule.id
    # The other street office's road, a point far from every place, and no point at all: not this rule.
    other = factories.make_routed_ticket(city.operator, lat=RENMIN[0], long=RENMIN[1])
    far = factories.make_routed_ticket(city.operator, lat=39.9010, long=116.4190)
    nowhere = factories.make_routed_ticket(city.operator)
    for ticket in (other, far, nowhere):
        assert ticket.department == city.roads and ticket.routed_by == "category_default"


def test_the_nearest_place_with_a_unit_within_200_m(city, streets):
    # 东湖公园 (no unit) is nearer to this point than 人民路, whose unit is the one found.
    found = where.handling_place(39.9112, 116.4112)
    assert found is not None and found[0].name == "人民路" and 150 < found[1] < 200
    assert where.handling_unit_id(39.9112, 116.4112) == streets["renmin"].id
    nearer = where.handling_place(39.9140, 116.4140)  # 幸福街 140 m away, 人民路 560 m
    assert nearer is not None and nearer[0].name == "幸福街"
    assert where.handling_place(39.9010, 116.4190) is None
    assert where.handling_unit_id(None, None) is None
    described = where.describe(*XINGFU)
    assert described.district.code == "east" and described.unit == streets["xingfu"] and described.distance_m == 0


def test_the_trace_names_the_place_condition_and_a_sample_without_a_point_fails_it(city, streets):
    decision = routing.try_rules(
        {"category": "potholes", "description": "路面坑"}, [{"department": "water", "place_unit": "east-renmin"}]
    )
    assert decision.by == "category_default"
    assert decision.trace[0]["failed"] == "place_unit"


def test_an_unknown_unit_is_refused(city, streets):
    with pytest.raises(InvalidInput) as error:
        routing.save_rule({"department": "water", "place_unit": "nowhere"})
    assert error.value.field == "place_unit"
    assert routing.list_rules() == []


def test_the_place_is_looked_up_only_when_a_rule_asks(city, streets, monkeypatch):
    calls = []
    real = where.handling_unit_id
    monkeypatch.setattr(where, "handling_unit_id", lambda *point: calls.append(point) or real(*point))
    routing.save_rule({"department": "water", "keywords": ["燃气"]})
    factories.make_routed_ticket(city.operator, lat=RENMIN[0], long=RENMIN[1])
    assert calls == []
    routing.save_rule({"department": "water", "place_unit": "east-xingfu", "priority": 200})
    routing.save_rule({"department": "water", "place_unit": "east-renmin", "priority": 300})
    ticket = factories.make_routed_ticket(city.operator, lat=RENMIN[0], long=RENMIN[1])
    assert calls == [RENMIN] and ticket.department == city.water  # once for both rules
