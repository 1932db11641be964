from hotline.models import Status
from hotline.services import tickets
from tests import factories


def test_full_path(city):
    ticket = factories.make_ticket(city.operator)
    assert ticket.status == Status.NEW
    assert ticket.caller_phone == "+8613800138000"
    tickets.route(ticket.id)
    assert ticket.status == Status.DISPATCHED
    assert ticket.department == city.roads
    tickets.accept(city.roads_staff, ticket)
    tickets.resolve(city.roads_staff, ticket, "已修复")
    assert ticket.status == Status.RESOLVED
    assert [e.kind for e in ticket.events] == ["created", "routed", "accepted", "resolved"]
