"""The deadline actions on the ticket page: waiting on the citizen, extensions, urging; notices."""

from datetime import timedelta

import pytest

from hotline.extensions import db
from hotline.models import Notice, Status
from hotline.models.types import utcnow
from hotline.services.ticketing import deadlines, tickets
from tests import factories
from tests.web.conftest import reload, text_of, version_on_page


def _in_progress(city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    return ticket


def test_wait_on_the_citizen_and_resume(login, city):
    ticket = _in_progress(city)
    client = login(city.roads_staff)
    page = text_of(client.get(f"/tickets/{ticket.number}"))
    response = client.post(
        f"/tickets/{ticket.number}/wait",
        data={"version": version_on_page(page, "wait"), "reason": "请来电人补充门牌号"},
        follow_redirects=True,
    )
    page = text_of(response)
    assert reload(ticket).status == Status.WAITING
    assert "clocks are paused" in page
    assert "请来电人补充门牌号" in page
    client.post(f"/tickets/{ticket.number}/resume", data={"version": version_on_page(page, "resume")})
    assert reload(ticket).status == Status.IN_PROGRESS


def test_wait_without_reason_changes_nothing(login, city):
    ticket = _in_progress(city)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/wait", data={"version": ticket.version, "reason": ""}, follow_redirects=True
    )
    assert "Say what the citizen must provide." in text_of(response)
    assert reload(ticket).status == Status.IN_PROGRESS


def test_extension_requested_then_approved(login, city):
    ticket = _in_progress(city)
    due = ticket.resolve_due_at
    department = login(city.roads_staff)
    response = department.post(
        f"/tickets/{ticket.number}/extension",
        data={"version": ticket.version, "days": "两天", "reason": "需要协调施工队"},
        follow_redirects=True,
    )
    assert "Ask for a whole number of working days, at least 1." in text_of(response)
    assert deadlines.pending_extension(ticket) is None
    department.post(
        f"/tickets/{ticket.number}/extension", data={"version": ticket.version, "days": "3", "reason": "需要协调施工队"}
    )
    assert deadlines.pending_extension(ticket).days == 3
    assert "Waiting for a supervisor" in text_of(department.get(f"/tickets/{ticket.number}"))

    supervisor = login(city.supervisor)
    page = text_of(supervisor.get(f"/tickets/{ticket.number}"))
    assert "需要协调施工队" in page
    version = version_on_page(page, "extension/approve")
    supervisor.post(f"/tickets/{ticket.number}/extension/approve", data={"version": version, "note": "同意"})
    ticket = reload(ticket)
    assert ticket.extended_days == 3
    assert ticket.resolve_due_at > due
    assert deadlines.pending_extension(ticket) is None


@pytest.mark.parametrize("days", ["²", "99999999999999999999", "-1"])
def test_extension_days_that_are_no_whole_number_are_refused_not_an_error(login, city, days):
    ticket = _in_progress(city)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/extension",
        data={"version": ticket.version, "days": days, "reason": "需要协调施工队"},
        follow_redirects=True,
    )
    assert "Ask for a whole number of working days, at least 1." in text_of(response)
    assert deadlines.pending_extension(ticket) is None


def test_extension_refusal_needs_a_note(login, city):
    ticket = _in_progress(city)
    deadlines.request_extension(city.roads_staff, ticket, 2, "材料未到")
    client = login(city.supervisor)
    response = client.post(
        f"/tickets/{ticket.number}/extension/refuse",
        data={"version": ticket.version, "note": ""},
        follow_redirects=True,
    )
    assert "Say why the extension is refused." in text_of(response)
    assert deadlines.pending_extension(ticket) is not None
    client.post(f"/tickets/{ticket.number}/extension/refuse", data={"version": ticket.version, "note": "时限充足"})
    assert deadlines.pending_extension(ticket) is None
    assert reload(ticket).extended_days == 0


def test_only_supervisors_decide_and_urge(login, city):
    ticket = _in_progress(city)
    deadlines.request_extension(city.roads_staff, ticket, 2, "材料未到")
    for user in (city.roads_staff, city.operator, city.dispatcher):
        client = login(user)
        for action in ("extension/approve", "urge"):
            response = client.post(f"/tickets/{ticket.number}/{action}", data={"version": ticket.version})
            assert response.status_code == 403, (user.role, action)
    assert reload(ticket).urge_count == 0
    assert deadlines.pending_extension(ticket) is not None
    page = text_of(login(city.roads_staff).get(f"/tickets/{ticket.number}"))
    assert "/urge" not in page and "/extension/approve" not in page


def test_urge(login, city):
    ticket = _in_progress(city)
    response = login(city.supervisor).post(
        f"/tickets/{ticket.number}/urge",
        data={"version": ticket.version, "text": "请今天内答复"},
        follow_redirects=True,
    )
    assert f"Ticket {ticket.number} urged." in text_of(response)
    assert reload(ticket).urge_count == 1
    assert "请今天内答复" in text_of(login(city.roads_staff).get(f"/tickets/{ticket.number}"))


def test_notices_page_shows_the_desks_notices(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    now = utcnow()
    db.session.add_all(
        [
            Notice(kind="sla_red", body="道路工单已超期", ticket=ticket, department_id=city.roads.id, show_from=now),
            Notice(kind="sla_red", body="水务工单已超期", department_id=city.water.id, show_from=now),
            Notice(kind="urged", body="夜间通知", department_id=city.roads.id, show_from=now + timedelta(hours=8)),
        ]
    )
    db.session.commit()
    html = text_of(login(city.roads_staff).get("/notices"))
    assert "道路工单已超期" in html and ticket.number in html
    assert "水务工单已超期" not in html
    assert "夜间通知" not in html  # held until the office opens
    assert login(city.operator).get("/notices").status_code == 200
