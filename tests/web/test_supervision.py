"""The supervisor's overdue list (督办): red and amber tickets, most overdue first, urging, and the
extension requests and late returns waiting for a decision."""

import re
from datetime import timedelta

from hotline.extensions import db
from hotline.models import ExtensionRequest, ReturnRequest, Status
from hotline.models.types import utcnow
from hotline.services.ticketing import deadlines, returns, tickets
from tests import factories
from tests.web.conftest import reload, text_of


def _late(city, hours_over: float):
    """A ticket in progress whose resolve deadline passed `hours_over` hours ago (negative: not yet)."""
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    ticket.resolve_due_at = utcnow() - timedelta(hours=hours_over)
    ticket.resolve_amber_at = ticket.resolve_due_at - timedelta(hours=10)
    db.session.commit()
    return ticket


def _numbers(html: str, table: str) -> list[str]:
    part = html[html.index(f'id="{table}"') :]
    part = part[: part.index("</table>")]
    return re.findall(r'data-number="([\d-]+)"', part)


def test_only_supervisors_and_administrators(login, client, city):
    assert client.get("/supervision/overdue").status_code == 302
    for user in (city.operator, city.dispatcher, city.roads_staff):
        assert login(user).get("/supervision/overdue").status_code == 403
    for user in (city.supervisor, city.admin):
        assert login(user).get("/supervision/overdue").status_code == 200


def test_red_then_amber_most_overdue_first(login, city):
    a_little = _late(city, 1)
    long_ago = _late(city, 30)
    amber = _late(city, -2)  # due in two hours, past its amber point
    on_time = factories.make_routed_ticket(city.operator)
    resolved = _late(city, 5)
    tickets.resolve(city.roads_staff, resolved, "已处理")
    html = text_of(login(city.supervisor).get("/supervision/overdue"))
    assert _numbers(html, "late") == [long_ago.number, a_little.number, amber.number]
    assert on_time.number not in html and resolved.number not in html
    row = html[html.index(f'data-number="{long_ago.number}"') :]
    row = row[: row.index("</tr>")]
    assert "table-danger" in html[html.rindex("<tr", 0, html.index(f'data-number="{long_ago.number}"')) :][:80]
    assert "道路管理局" in row and "overdue" in row and "Resolve by" in row
    amber_row = html[html.rindex("<tr", 0, html.index(f'data-number="{amber.number}"')) :]
    assert "table-warning" in amber_row[:80]
    assert " left" in amber_row[: amber_row.index("</tr>")]


def test_a_ticket_not_accepted_in_time_is_red(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    ticket.accept_due_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    html = text_of(login(city.supervisor).get("/supervision/overdue"))
    assert _numbers(html, "late") == [ticket.number]
    assert "Accept by" in html


def test_urge_from_the_list_comes_back_to_it(login, city):
    ticket = _late(city, 3)
    client = login(city.supervisor)
    response = client.post(
        f"/tickets/{ticket.number}/urge", data={"version": ticket.version, "next": "/supervision/overdue"}
    )
    assert response.status_code == 302
    assert response.location == "/supervision/overdue"
    assert reload(ticket).urge_count == 1
    html = text_of(client.get("/supervision/overdue"))
    assert f"Ticket {ticket.number} urged." in html
    row = html[html.index(f'data-number="{ticket.number}"') :]
    assert '<td class="text-end">1</td>' in row[: row.index("</tr>")]


def test_pending_extension_is_decided_from_the_list(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    deadlines.request_extension(city.roads_staff, ticket, 3, "需要协调施工队")
    client = login(city.supervisor)
    html = text_of(client.get("/supervision/overdue"))
    assert _numbers(html, "extensions") == [ticket.number]
    assert "需要协调施工队" in html
    assert f'formaction="/tickets/{ticket.number}/extension/approve"' in html
    # Refusing needs a note; nothing changes without one.
    response = client.post(
        f"/tickets/{ticket.number}/extension/refuse",
        data={"version": ticket.version, "note": "", "next": "/supervision/overdue"},
        follow_redirects=True,
    )
    assert "Say why the extension is refused." in text_of(response)
    assert deadlines.pending_extension(ticket) is not None
    response = client.post(
        f"/tickets/{ticket.number}/extension/approve",
        data={"version": ticket.version, "note": "同意", "next": "/supervision/overdue"},
    )
    assert response.location == "/supervision/overdue"
    assert reload(ticket).extended_days == 3
    assert db.session.scalars(db.select(ExtensionRequest)).one().status == ExtensionRequest.APPROVED
    assert "No extension request is waiting." in text_of(client.get("/supervision/overdue"))


def test_late_return_is_decided_from_the_list(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    ticket.dispatched_at -= timedelta(days=20)  # long past the return window
    db.session.commit()
    returns.return_to_dispatch(city.roads_staff, ticket, "应由水务局办理", reason_code="not_our_remit")
    client = login(city.supervisor)
    html = text_of(client.get("/supervision/overdue"))
    assert _numbers(html, "return-requests") == [ticket.number]
    assert "应由水务局办理" in html and "不属于本单位职责" in html
    response = client.post(
        f"/tickets/{ticket.number}/return/refuse",
        data={"version": ticket.version, "note": "属于你单位", "next": "/supervision/overdue"},
    )
    assert response.location == "/supervision/overdue"
    assert db.session.scalars(db.select(ReturnRequest)).one().status == ReturnRequest.REFUSED
    assert reload(ticket).status == Status.DISPATCHED
    assert "No late return is waiting." in text_of(client.get("/supervision/overdue"))
