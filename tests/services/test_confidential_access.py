"""Who sees a confidential ticket (保密件), role by role, in both forms of the rule:
`access.visible_tickets` (queries) and `access.can_see` (a loaded ticket) must agree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, Status, Ticket
from hotline.services.accounts import access
from hotline.services.errors import NotFound
from hotline.services.ticketing import tickets
from tests import factories


def sees(user, ticket: Ticket) -> bool:
    """Both forms of the rule, which must agree."""
    listed = ticket.id in set(db.session.scalars(access.visible_tickets(user).with_only_columns(Ticket.id)))
    assert access.can_see(user, ticket) == listed, (user, ticket)
    return listed


@pytest.fixture
def other_operator(city):
    return factories.make_user(Role.OPERATOR, username="operator2")


@pytest.fixture
def secret_new(city):
    return factories.make_ticket(city.operator, confidential=True)  # not routed yet: new


@pytest.fixture
def secret_pending(city):
    return tickets.route(factories.make_ticket(city.operator, confidential=True, category="other").id)


@pytest.fixture
def secret_with_roads(city):
    return factories.make_routed_ticket(city.operator, confidential=True)


def test_the_states_are_what_the_tests_think(secret_new, secret_pending, secret_with_roads):
    assert (secret_new.status, secret_pending.status, secret_with_roads.status) == (
        Status.NEW,
        Status.PENDING_DISPATCH,
        Status.DISPATCHED,
    )


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_confidential_ticket(city, who, secret_new, secret_pending, secret_with_roads):
    user = getattr(city, who)
    assert all(sees(user, t) for t in (secret_new, secret_pending, secret_with_roads))


def test_the_operator_who_logged_it_sees_it_in_every_state(city, secret_new, secret_pending, secret_with_roads):
    assert all(sees(city.operator, t) for t in (secret_new, secret_pending, secret_with_roads))


def test_other_operators_do_not(other_operator, secret_new, secret_pending, secret_with_roads):
    assert not any(sees(other_operator, t) for t in (secret_new, secret_pending, secret_with_roads))


def test_dispatchers_see_it_only_while_it_awaits_dispatch(city, secret_new, secret_pending, secret_with_roads):
    assert sees(city.dispatcher, secret_new)
    assert sees(city.dispatcher, secret_pending)
    assert not sees(city.dispatcher, secret_with_roads)
    # Returned to the desk, it is theirs to place again.
    tickets.return_to_dispatch(city.roads_staff, secret_with_roads, "不归我局管")
    assert secret_with_roads.status == Status.PENDING_DISPATCH
    assert sees(city.dispatcher, secret_with_roads)


def test_the_department_holding_it_and_those_assisting_see_it(city, secret_pending):
    assert not sees(city.roads_staff, secret_pending)
    assert not sees(city.water_staff, secret_pending)
    tickets.dispatch(city.dispatcher, secret_pending, "roads", assisting=["water"])
    assert sees(city.roads_staff, secret_pending)
    assert sees(city.water_staff, secret_pending)  # 协办: they do part of the work


def test_other_departments_do_not(city, secret_with_roads):
    assert sees(city.roads_staff, secret_with_roads)
    assert not sees(city.water_staff, secret_with_roads)


def test_ordinary_tickets_keep_the_old_rules(city, other_operator):
    ticket = factories.make_routed_ticket(city.operator)
    for user in (city.operator, other_operator, city.dispatcher, city.roads_staff, city.supervisor, city.admin):
        assert sees(user, ticket)
    assert not sees(city.water_staff, ticket)


def test_ticket_for_says_not_found_to_those_who_may_not_see(city, other_operator, secret_with_roads):
    for user in (other_operator, city.dispatcher, city.water_staff):
        with pytest.raises(NotFound):
            access.ticket_for(user, secret_with_roads.number)
    assert access.ticket_for(city.roads_staff, secret_with_roads.number) == secret_with_roads


def test_lists_leave_them_out(city, other_operator, secret_with_roads):
    plain = factories.make_routed_ticket(city.operator)
    numbers = set(db.session.scalars(access.visible_tickets(other_operator).with_only_columns(Ticket.number)))
    assert plain.number in numbers and secret_with_roads.number not in numbers
    everyone = set(db.session.scalars(select(Ticket.number)))
    assert set(db.session.scalars(access.visible_tickets(city.supervisor).with_only_columns(Ticket.number))) == everyone
