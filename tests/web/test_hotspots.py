"""The hotspot pages (热点): the top of each window, a hotspot with its tickets, and the forms
to name, follow, dismiss and assign it as a proactive case."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Hotspot, HotspotStatus, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.hotspot_detection import hotspots
from tests.services.test_hotspots import LAMPS, NOISE, log
from tests.web.conftest import text_of, ticket_count


def detected(city, window: str = "day") -> Hotspot:
    now = utcnow()
    log(city, NOISE, "east", at=now, address="幸福小区")
    hotspots.detect(window, now)
    return db.session.scalars(select(Hotspot).where(Hotspot.window_kind == window)).one()


def test_only_supervisors_and_administrators(login, client, city):
    hotspot = detected(city)
    assert client.get("/hotspots").status_code == 302  # to the login page
    for user in (city.operator, city.dispatcher, city.roads_staff):
        member = login(user)
        assert member.get("/hotspots").status_code == 403
        assert member.get(f"/hotspots/{hotspot.id}").status_code == 403
        assert member.post(f"/hotspots/{hotspot.id}/assign", data={"department": "roads"}).status_code == 403
    for user in (city.supervisor, city.admin):
        assert login(user).get("/hotspots").status_code == 200
    assert db.session.get(Hotspot, hotspot.id).status == HotspotStatus.OPEN


def test_the_menu_links_the_hotspots_for_supervisors_only(login, city):
    assert 'href="/hotspots"' in text_of(login(city.supervisor).get("/hotspots"))
    assert 'href="/hotspots"' not in text_of(login(city.operator).get("/tickets"))


def test_the_list_shows_each_window_largest_first(login, city):
    now = utcnow()
    log(city, NOISE, "east", at=now)
    log(city, LAMPS, "west", category="infrastructure", at=now)
    for window in ("day", "week"):
        hotspots.detect(window, now)
    client = login(city.supervisor)
    html = text_of(client.get("/hotspots?window=week"))
    rows = re.findall(r'data-hotspot="(\d+)"', html)
    found = db.session.scalars(
        select(Hotspot).where(Hotspot.window_kind == "week").order_by(Hotspot.ticket_count.desc())
    ).all()
    assert rows == [str(h.id) for h in found] and [h.ticket_count for h in found] == [5, 4]
    assert found[0].label in html and "东城区" in html and "西城区" in html and "New" in html
    assert "No hotspot in this window." in text_of(client.get("/hotspots?window=month"))
    response = client.get("/hotspots?window=year", follow_redirects=True)
    assert "Unknown window “year”" in text_of(response)


def test_the_hotspot_page_lists_its_tickets_with_links(login, city):
    hotspot = detected(city)
    html = text_of(login(city.supervisor).get(f"/hotspots/{hotspot.id}"))
    numbers = db.session.scalars(select(Ticket.number)).all()
    assert len(numbers) == 5
    for number in numbers:
        assert f'href="/tickets/{number}"' in html
    assert "5 tickets" in html and hotspot.label in html
    assert login(city.supervisor).get("/hotspots/999999").status_code == 404


def test_tickets_are_paginated(login, city, monkeypatch):
    from hotline.web import hotspots as pages

    hotspot = detected(city)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    client = login(city.supervisor)
    first = re.findall(r'href="/tickets/([\d-]+)"', text_of(client.get(f"/hotspots/{hotspot.id}")))
    third = re.findall(r'href="/tickets/([\d-]+)"', text_of(client.get(f"/hotspots/{hotspot.id}?page=3")))
    assert len(first) == 2 and len(third) == 1 and not set(first) & set(third)


def test_name_follow_and_unfollow(login, city):
    hotspot = detected(city)
    client = login(city.supervisor)
    response = client.post(f"/hotspots/{hotspot.id}/name", data={"name": "幸福小区夜间施工"}, follow_redirects=True)
    assert "Named “幸福小区夜间施工”." in text_of(response)
    assert "幸福小区夜间施工" in text_of(client.get("/hotspots?window=day"))
    response = client.post(f"/hotspots/{hotspot.id}/name", data={"name": "长" * 101}, follow_redirects=True)
    assert "longer than 100 characters" in text_of(response)
    assert db.session.get(Hotspot, hotspot.id).name == "幸福小区夜间施工"

    response = client.post(f"/hotspots/{hotspot.id}/follow", follow_redirects=True)
    assert "You follow this hotspot." in text_of(response)
    listing = text_of(client.get("/hotspots?window=week"))
    assert 'id="followed"' in listing and f'data-hotspot="{hotspot.id}"' in listing
    assert 'id="followed"' not in text_of(login(city.admin).get("/hotspots"))  # followed by whom: per user
    client.post(f"/hotspots/{hotspot.id}/unfollow")
    db.session.expire_all()
    assert not db.session.get(Hotspot, hotspot.id).followers


def test_assign_creates_and_shows_the_proactive_case(login, city):
    hotspot = detected(city)
    client = login(city.supervisor)
    response = client.post(
        f"/hotspots/{hotspot.id}/assign", data={"department": "roads", "note": "夜间巡查"}, follow_redirects=True
    )
    html = text_of(response)
    db.session.expire_all()
    case = db.session.scalars(select(Ticket).where(Ticket.channel == "proactive")).one()
    assert f"Proactive case {case.number} created and dispatched to 道路管理局." in html
    assert 'id="proactive-case"' in html and f'href="/tickets/{case.number}"' in html
    assert 'id="assign-form"' not in html  # assigned once
    assert case.status == Status.DISPATCHED and case.department == city.roads
    ticket_page = text_of(client.get(f"/tickets/{case.number}"))
    assert "Proactive case" in ticket_page  # the channel's label
    # Department staff see the case on their workbench like any other ticket.
    assert case.number in text_of(login(city.roads_staff).get("/tickets"))


def test_assign_refuses_bad_input_with_a_message(login, city):
    hotspot = detected(city)
    client = login(city.supervisor)
    before = ticket_count()
    for data, message in (
        ({"department": ""}, "department is required."),
        ({"department": "nope"}, "Unknown department “nope”."),
        ({"department": "roads", "note": "x" * 2001}, "The note is longer than 2000 characters."),
    ):
        response = client.post(f"/hotspots/{hotspot.id}/assign", data=data, follow_redirects=True)
        assert response.status_code == 200 and message in text_of(response), data
    assert ticket_count() == before
    assert db.session.get(Hotspot, hotspot.id).status == HotspotStatus.OPEN


def test_dismiss_then_reopen(login, city):
    hotspot = detected(city)
    client = login(city.admin)
    assert "Hotspot dismissed." in text_of(client.post(f"/hotspots/{hotspot.id}/dismiss", follow_redirects=True))
    response = client.post(f"/hotspots/{hotspot.id}/assign", data={"department": "roads"}, follow_redirects=True)
    assert "dismissed" in text_of(response) and ticket_count() == 5
    assert "Hotspot reopened." in text_of(client.post(f"/hotspots/{hotspot.id}/reopen", follow_redirects=True))
    response = client.post(f"/hotspots/{hotspot.id}/reopen", follow_redirects=True)
    assert "Only a dismissed hotspot can be reopened." in text_of(response)


def test_forms_need_the_csrf_token(app, login, city):
    hotspot = detected(city)
    client = login(city.supervisor)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get(f"/hotspots/{hotspot.id}").get_data(as_text=True)
        assert html.count('method="post"') == html.count('name="csrf_token"')
        assert client.post(f"/hotspots/{hotspot.id}/assign", data={"department": "roads"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.get(Hotspot, hotspot.id).status == HotspotStatus.OPEN


def test_the_pages_render_in_chinese(login, city):
    hotspot = detected(city)
    hotspots.follow(city.supervisor, hotspot)
    city.supervisor.locale = "zh_CN"
    db.session.commit()
    client = login(city.supervisor)
    for url in ("/hotspots", "/hotspots?window=week", f"/hotspots/{hotspot.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-CN"' in text_of(response) and hotspot.label in text_of(response)
