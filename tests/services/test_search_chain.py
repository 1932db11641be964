"""Search along the chain of units (issue 17): a ticket sent down (下派) to a street office is
found by the street's staff, as they may see it; once it goes back up (回退) they no longer find
it. On PostgreSQL the index walk keeps to the searcher's scope, so the ticket's scopes must name
every unit of its open chain, not only the unit the city dispatched it to."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Role
from hotline.services.search import search_index, ticket_search
from hotline.services.search.ticket_search import Filters, search
from hotline.services.ticketing import tickets, tree
from tests import factories


@pytest.fixture(params=["as tuned", "through the index"])
def paths(request, monkeypatch):
    """As tests/services/test_search_index.py: as tuned, and forced through the index."""
    if request.param == "through the index":
        monkeypatch.setattr(ticket_search, "SELECTIVE", 0)
        monkeypatch.setattr(search_index, "RECENT", 1)
    return request.param


def found(actor, words: str) -> list[str]:
    return [hit.ticket.number for hit in search(actor, words, Filters(), per_page=100).hits]


def test_a_street_finds_the_ticket_sent_down_to_it_until_it_goes_back_up(city, paths) -> None:
    street = factories.make_department("roads-east", "东城街道办事处")
    other = factories.make_department("roads-west", "西城街道办事处")
    street.parent = other.parent = city.roads
    db.session.commit()
    street_staff = factories.make_user(Role.DEPARTMENT, street, username="east_staff")
    other_staff = factories.make_user(Role.DEPARTMENT, other, username="west_staff")
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator, description="井盖缺失很危险"))
    assert found(street_staff, "井盖缺失") == []

    tree.subdispatch(city.roads_staff, ticket, "roads-east", note="请街道核实")
    assert found(street_staff, "井盖缺失") == [ticket.number]
    assert found(city.roads_staff, "井盖缺失") == [ticket.number]
    assert found(other_staff, "井盖缺失") == []

    tickets.accept(street_staff, ticket)
    tree.return_up(street_staff, ticket, "不属于本街道管辖")
    assert found(street_staff, "井盖缺失") == []
    assert found(city.roads_staff, "井盖缺失") == [ticket.number]
