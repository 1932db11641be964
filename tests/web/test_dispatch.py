import re
from datetime import timedelta

from hotline.extensions import db
from hotline.models import Status
from hotline.models.types import utcnow
from hotline.services.ticketing import tickets
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
    # Each waiting ticket has its card; the others may appear in a card's list of likely duplicates.
    cards = [number for number in re.findall(r'id="waiting-([\d-]+)"', html)]
    assert cards == [older.number, stuck.number, newer.number]
    assert dispatched.number not in cards
    assert fresh.number not in cards
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


def _card(html: str, number: str) -> str:
    start = html.index(f'id="waiting-{number}"')
    end = html.find('id="waiting-', start + 10)
    return html[start : end if end != -1 else len(html)]


def test_the_desk_shows_the_suggested_department_with_its_confidence(login, city, monkeypatch):
    from hotline.services.dispatch import suggestions

    def fake(text, limit=3):
        return [suggestions.Suggestion("water", 0.82), suggestions.Suggestion("nowhere", 0.1)]

    ticket = factories.make_routed_ticket(city.operator, category="other", description="家里没水了")
    monkeypatch.setattr(suggestions, "suggest", fake)
    monkeypatch.setattr(suggestions, "suggest_for_ticket", lambda ticket: fake(ticket.description), raising=False)
    card = _card(text_of(login(city.dispatcher).get("/dispatch")), ticket.number)
    assert 'data-department="water"' in card and "水务局 · 82%" in card
    assert "nowhere" not in card  # an unknown department is not offered
    # With no category default, the best suggestion is preselected.
    assert '<option value="water" selected>' in card


def test_the_desk_works_when_the_model_fails(login, city, monkeypatch):
    from hotline.services.dispatch import suggestions

    def broken(*args, **kwargs):
        raise RuntimeError("model file missing")

    ticket = factories.make_routed_ticket(city.operator, category="other")
    monkeypatch.setattr(suggestions, "suggest", broken)
    monkeypatch.setattr(suggestions, "suggest_for_ticket", broken, raising=False)
    response = login(city.dispatcher).get("/dispatch")
    assert response.status_code == 200
    assert "No suggestion" in _card(text_of(response), ticket.number)


def test_the_desk_lists_likely_duplicates_and_merges_with_one_click(login, city):
    original = factories.make_routed_ticket(city.operator, description="人民路路灯不亮，晚上很黑")
    duplicate = factories.make_routed_ticket(
        city.operator, category="other", description="人民路路灯不亮，晚上很黑，请尽快修"
    )
    unrelated = factories.make_routed_ticket(
        city.operator, category="water-supply", caller_phone="13912345678", description="小区停水"
    )
    client = login(city.dispatcher)
    card = _card(text_of(client.get("/dispatch")), duplicate.number)
    assert f'data-number="{original.number}"' in card
    assert f'data-number="{unrelated.number}"' not in card
    assert "same caller" in card and "similar description" in card
    response = client.post(
        f"/tickets/{duplicate.number}/merge",
        data={"version": duplicate.version, "into": original.number, "next": "/dispatch"},
    )
    assert response.status_code == 302 and response.location == "/dispatch"
    merged = reload(duplicate)
    assert merged.status == Status.MERGED and merged.parent_id == original.id
    html = text_of(client.get("/dispatch"))
    assert f"Ticket {duplicate.number} merged into {original.number}." in html
    assert f'id="waiting-{duplicate.number}"' not in html


def test_merge_into_a_typed_number_is_checked(login, city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    client = login(city.dispatcher)
    for into, message in (
        ("20000101-999999", "No ticket 20000101-999999."),
        ("", "Give the number of the ticket to merge into."),
        (ticket.number, "A ticket cannot be merged into itself."),
    ):
        response = client.post(
            f"/tickets/{ticket.number}/merge",
            data={"version": ticket.version, "into": into, "next": "/dispatch"},
            follow_redirects=True,
        )
        assert message in text_of(response), into
    assert reload(ticket).status == Status.PENDING_DISPATCH
    response = login(city.operator).post(
        f"/tickets/{ticket.number}/merge", data={"version": ticket.version, "into": "x"}
    )
    assert response.status_code == 403


def test_dispatch_from_the_desk_with_assisting_departments(login, city):
    from hotline.models import TicketAssist

    parks = factories.make_department("parks", "园林局")
    ticket = factories.make_routed_ticket(city.operator, category="other")
    client = login(city.dispatcher)
    card = _card(text_of(client.get("/dispatch")), ticket.number)
    assert 'name="assisting"' in card and "multiple" in card
    response = client.post(
        f"/tickets/{ticket.number}/dispatch",
        data={"version": ticket.version, "department": "roads", "assisting": ["water", "parks"], "next": "/dispatch"},
    )
    assert response.location == "/dispatch"
    ticket = reload(ticket)
    assert ticket.department == city.roads
    helpers = db.session.scalars(db.select(TicketAssist).where(TicketAssist.ticket_id == ticket.id)).all()
    assert sorted(a.department.code for a in helpers) == ["parks", "water"]
    assert parks.id in {a.department_id for a in helpers}
    # The lead department cannot also assist: refused, nothing changes.
    other = factories.make_routed_ticket(city.operator, category="other")
    response = client.post(
        f"/tickets/{other.number}/dispatch",
        data={"version": other.version, "department": "roads", "assisting": ["roads"], "next": "/dispatch"},
        follow_redirects=True,
    )
    assert "The lead department cannot also assist." in text_of(response)
    assert reload(other).status == Status.PENDING_DISPATCH


def test_a_returned_ticket_is_not_offered_back_to_its_department(login, city):
    ticket = factories.make_routed_ticket(city.operator)  # category default: roads
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们")
    card = _card(text_of(login(city.dispatcher).get("/dispatch")), ticket.number)
    assert '<option value="roads" selected>' not in card


def test_dispatching_back_to_the_returner_warns_and_asks_for_a_reason(login, city):
    ticket = factories.make_routed_ticket(city.operator)  # potholes: roads
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    client = login(city.dispatcher)
    html = text_of(client.get("/dispatch"))
    card = html[html.index(f'id="waiting-{ticket.number}"') :]
    assert 'data-returned-by="roads"' in card
    assert "Returned by 道路管理局. Dispatching it back to them needs a reason." in card
    assert f'name="reason" id="reason-{ticket.id}"' in card

    url = f"/tickets/{ticket.number}/dispatch"
    refused = client.post(url, data={"version": ticket.version, "department": "roads", "next": "/dispatch"})
    assert refused.status_code == 302
    assert reload(ticket).status == Status.PENDING_DISPATCH
    message = "道路管理局 returned this ticket before: give a reason to dispatch it to them again."
    assert message in text_of(client.get("/dispatch"))

    data = {"version": ticket.version, "department": "roads", "reason": "现场核实属道路局", "next": "/dispatch"}
    assert client.post(url, data=data).status_code == 302
    assert reload(ticket).status == Status.DISPATCHED
    page = text_of(login(city.supervisor).get(f"/tickets/{ticket.number}"))
    assert "Back to a department that returned it" in page and "现场核实属道路局" in page
    report = text_of(login(city.supervisor).get("/reports/misrouting"))
    row = re.search(r'<tr data-key="dispatcher"[^>]*>(.*?)</tr>', report, re.S).group(1)
    assert re.findall(r"<td[^>]*>\s*(\d+)\s*</td>", row)[-1] == "1"  # the ping-pong column


def test_the_ticket_page_asks_for_the_reason_too(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, ticket, "不归我们管")
    html = text_of(login(city.dispatcher).get(f"/tickets/{ticket.number}"))
    assert 'data-returned-by="roads"' in html and f'id="reason-{ticket.id}"' in html
    assert "dispatch.js" in html and "multiselect.js" in html
    assert "data-searchable" in html  # the assisting departments: a searchable list with JS, plain without


def test_no_warning_for_a_ticket_never_returned(login, city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    html = text_of(login(city.dispatcher).get("/dispatch"))
    card = html[html.index(f'id="waiting-{ticket.number}"') :]
    assert "data-returned-by" not in card and 'name="reason"' not in card
    assert f'<select name="assisting" id="assisting-{ticket.id}"' in card and "multiple" in card


def test_the_desk_proposes_the_ticket_to_keep_when_merging(login, city):
    # Same caller and category: likely duplicates. `older` waits at the desk; `newer` too.
    older = factories.make_routed_ticket(city.operator, category="other", description="小区门口路灯不亮")
    newer = factories.make_routed_ticket(city.operator, category="other", description="小区门口的路灯坏了")
    older.created_at = newer.created_at - timedelta(hours=5)
    db.session.commit()
    client = login(city.dispatcher)
    html = text_of(client.get("/dispatch"))
    newer_card = html[html.index(f'id="waiting-{newer.number}"') :]
    older_card = html[html.index(f'id="waiting-{older.number}"') : html.index(f'id="waiting-{newer.number}"')]
    # On the newer one's card: keep the older, merge this one into it, preselected in the form.
    assert f"Suggested: keep {older.number} (logged earlier) and merge this ticket into it." in newer_card
    assert f'name="into" id="into-{newer.id}"' in newer_card
    assert re.search(rf'id="into-{newer.id}"[^>]*value="{older.number}"', newer_card)
    assert "merge-into-other btn-primary proposed" in newer_card
    # On the older one's card: keep it, and merge the newer one into it, one click.
    assert f"Suggested: keep this ticket (logged earlier) and merge {newer.number} into it." in older_card
    assert f'action="/tickets/{newer.number}/merge"' in older_card
    assert re.search(rf'id="into-{older.id}"[^>]*value=""', older_card)

    form = older_card[older_card.index(f'action="/tickets/{newer.number}/merge"') :]
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = client.post(
        f"/tickets/{newer.number}/merge", data={"version": version, "into": older.number, "next": "/dispatch"}
    )
    assert response.status_code == 302
    assert reload(newer).status == Status.MERGED and newer.parent_id == older.id


def test_the_ticket_page_proposes_the_ticket_a_department_works(login, city):
    worked = factories.make_routed_ticket(city.operator, description="人民路有个大坑")  # with roads
    waiting = factories.make_routed_ticket(city.operator, category="potholes", description="人民路的大坑")
    tickets.return_to_dispatch(city.roads_staff, waiting, "重复")
    waiting.created_at = worked.created_at - timedelta(hours=1)  # older, but nobody works it
    db.session.commit()
    html = text_of(login(city.dispatcher).get(f"/tickets/{waiting.number}"))
    hint = f"Suggested: keep {worked.number} (a department is already working it) and merge this ticket into it."
    assert hint in html
    assert re.search(rf'id="merge-into"[^>]*value="{worked.number}"', html)


def test_the_desk_shows_its_cards_a_page_at_a_time_oldest_first(login, city, monkeypatch):
    from hotline.web import dispatch

    monkeypatch.setattr(dispatch, "DESK_PAGE_SIZE", 2)
    waiting = [factories.make_routed_ticket(city.operator, category="other") for _ in range(3)]
    for hours, ticket in zip((3, 2, 1), waiting, strict=True):
        ticket.created_at = utcnow() - timedelta(hours=hours)
    db.session.commit()
    client = login(city.dispatcher)
    first = text_of(client.get("/dispatch"))
    assert re.findall(r'id="waiting-([\d-]+)"', first) == [waiting[0].number, waiting[1].number]
    assert "3 tickets, oldest first" in first  # all of them, not the page's
    assert re.search(r'class="page-link" href="\s*/dispatch\?page=2"', first)
    second = text_of(client.get("/dispatch?page=2"))
    assert re.findall(r'id="waiting-([\d-]+)"', second) == [waiting[2].number]
    # Dispatching from the second page comes back to it.
    assert re.search(r'name="next"[^>]*value="/dispatch\?page=2"', second)
