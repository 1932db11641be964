"""Lists that grow with the years count their total only up to a bound (listing.COUNT_CAP) and
read a page down an index: the operators' ticket list and a department's workbench tabs. Small
bounds here stand for 10,000 at scale; every ticket is still reached, once, in the list's order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.extensions import db
from hotline.models import Status, TicketAssist
from hotline.models.types import utcnow
from hotline.services.platform import listing
from hotline.web import tickets as ticket_pages
from tests import factories
from tests.web.conftest import text_of


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(ticket_pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(listing, "COUNT_CAP", 3)


def _numbers(html: str, known: list[str]) -> list[str]:
    """The known ticket numbers in the page's order."""
    found = sorted((html.index(f">{number}<"), number) for number in known if f">{number}<" in html)
    return [number for _at, number in found]


def _page_links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r"[?&]page=(\d+)", html.replace("&amp;", "&"))}


def test_ticket_list_counts_up_to_the_cap_and_pages_through_every_ticket(login, city, small_pages):
    now = utcnow()
    made = []
    for age in range(7):
        ticket = factories.make_routed_ticket(city.operator)
        ticket.created_at = now - timedelta(hours=age)
        made.append(ticket.number)  # newest first
    db.session.commit()
    client = login(city.dispatcher)

    first = text_of(client.get("/tickets"))
    assert _numbers(first, made) == made[:2]
    assert "More than 3 tickets" in first  # counted no further than the cap (COUNT(*) counted all 7)
    assert "7 tickets" not in first
    assert max(_page_links(first)) == 3  # the counted pages and the next one

    seen = []
    for page in range(1, 6):
        html = text_of(client.get(f"/tickets?page={page}"))
        seen += _numbers(html, made)
        if page == 4:  # past the cap the count goes on as far as the page: now it is exact
            assert "7 tickets" in html and "More than" not in html
            assert 5 not in _page_links(html)
    assert seen == made  # each ticket once, newest first

    # Filters keep working with the bounded count.
    by_department = text_of(client.get("/tickets?department=roads&status=dispatched&page=4"))
    assert _numbers(by_department, made) == made[6:]


def _finish(ticket, created_at, status=Status.CLOSED) -> None:
    ticket.status = status
    ticket.created_at = created_at
    ticket.accepted_at = created_at
    ticket.resolved_at = created_at + timedelta(hours=1)
    ticket.resolve_due_at = created_at + timedelta(days=5)  # long past: not "time left"


def test_workbench_all_tab_lists_open_by_deadline_then_finished_newest_first(login, city, small_pages):
    now = utcnow()
    # Open ones: the one due sooner first.
    later = factories.make_routed_ticket(city.operator)
    sooner = factories.make_routed_ticket(city.operator)
    sooner.resolve_due_at = now + timedelta(hours=2)
    later.resolve_due_at = now + timedelta(days=3)
    # Finished ones, of the roads department or assisted by it (协办), logged over the years.
    finished = []
    for days in (30, 400, 10, 700):
        ticket = factories.make_routed_ticket(city.operator)
        _finish(ticket, now - timedelta(days=days))
        finished.append((days, ticket.number))
    assisted = factories.make_routed_ticket(city.operator, category="water-supply")
    _finish(assisted, now - timedelta(days=200), Status.RESOLVED)
    db.session.add(TicketAssist(ticket_id=assisted.id, department_id=city.roads.id))
    finished.append((200, assisted.number))
    merged = factories.make_routed_ticket(city.operator)
    _finish(merged, now - timedelta(days=50), Status.MERGED)
    finished.append((50, merged.number))
    other = factories.make_routed_ticket(city.operator, category="water-supply")  # not the roads' at all
    _finish(other, now - timedelta(days=5))
    db.session.commit()
    newest_first = [number for _days, number in sorted(finished)]
    expected = [sooner.number, later.number, *newest_first]
    known = [*expected, other.number]
    client = login(city.roads_staff)

    first = text_of(client.get("/tickets?tab=all"))
    assert _numbers(first, known) == expected[:2]
    # Badges: open tabs exact; finished tickets counted up to the cap (3), then "+".
    assert re.search(r"All\s*<span[^>]*>5\+</span>", first)
    assert re.search(r"Open\s*<span[^>]*>2</span>", first)
    assert re.search(r"Resolved\s*<span[^>]*>3\+</span>", first)

    seen = []
    for page in range(1, 6):
        seen += _numbers(text_of(client.get(f"/tickets?tab=all&page={page}")), known)
    assert seen == expected  # each once: open by deadline, then finished newest first, merged too

    done = []
    for page in range(1, 4):
        done += _numbers(text_of(client.get(f"/tickets?tab=done&page={page}")), known)
    assert done == [number for number in newest_first if number != merged.number]
    assert other.number not in done


def test_workbench_open_tab_counts_exactly_past_the_cap(login, city, small_pages):
    made = [factories.make_routed_ticket(city.operator).number for _ in range(5)]
    html = text_of(login(city.roads_staff).get("/tickets?tab=dispatched&page=3"))
    assert re.search(r"To accept\s*<span[^>]*>5</span>", html)
    assert len(_numbers(html, made)) == 1  # the fifth, on the third page of two


def test_number_search_finds_a_prefix_in_either_case_and_only_it(login, city):
    made = [factories.make_routed_ticket(city.operator).number for _ in range(3)]
    day = made[0][:9]  # "YYYYMMDD-": every ticket of the day
    client = login(city.dispatcher)
    assert _numbers(text_of(client.get(f"/tickets?q={day}")), made) == made[::-1]
    assert _numbers(text_of(client.get(f"/tickets?q={made[1]}")), made) == [made[1]]
    assert _numbers(text_of(client.get(f"/tickets?q={made[1][:-1].lower()}")), made) == made[::-1]
    # LIKE's wildcards are plain characters in a number.
    assert _numbers(text_of(client.get(f"/tickets?q={day[:8]}%25")), made) == []
    assert _numbers(text_of(client.get(f"/tickets?q={day[:8]}_")), made) == []
