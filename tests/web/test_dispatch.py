from datetime import timedelta

from hotline.extensions import db
from hotline.models import Status
from hotline.models.types import utcnow
from hotline.services import tickets
from tests import factories
from tests.web.conftest import reload, text_of


def test_queue_lists_waiting_tickets_oldest_first(login, city):
    newer = factories.make_routed_ticket(city.operator, category="other")
    older = factories.make_routed_ticket(city.operator, category="other")
    older.created_at = utcnow() - timedelta(hours=2)
    dispatched = factories.make_routed_ticket(city.operator)
    stuck = factories.make_ticket(city.operator)  # never routed: Redis was down
    stuck.created_at = utcnow() - timedelta(minutes=30)
    fresh = factories.make_ticket(city.operator)  # its routing job is probably just running
    db.session.commit()
    html = text_of(login(city.dispatcher).get("/dispatch"))
    assert html.index(older.number) < html.index(stuck.number) < html.index(newer.number)
    assert dispatched.number not in html
    assert fresh.number not in html
    assert "Routing delayed" in html


def test_queue_shows_the_return_reason(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "路灯归城管局管")
    html = text_of(login(city.dispatcher).get("/dispatch"))
    assert ticket.number in html
    assert "路灯归城管局管" in html


def test_dispatch_from_the_queue_comes_back_to_the_queue(login, city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    client = login(city.dispatcher)
    assert ticket.number in text_of(client.get("/dispatch"))
    response = client.post(
        f"/tickets/{ticket.number}/dispatch",
        data={"version": ticket.version, "department": "roads", "next": "/dispatch"},
    )
    assert response.status_code == 302
    assert response.location == "/dispatch"
    assert reload(ticket).status == Status.DISPATCHED
    html = text_of(client.get("/dispatch"))
    assert f"Ticket {ticket.number} dispatched to 道路管理局." in html
    assert f'href="/tickets/{ticket.number}"' not in html


def test_next_must_be_local(login, city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    response = login(city.dispatcher).post(
        f"/tickets/{ticket.number}/dispatch",
        data={"version": ticket.version, "department": "roads", "next": "https://evil.example/"},
    )
    assert response.location == f"/tickets/{ticket.number}"
