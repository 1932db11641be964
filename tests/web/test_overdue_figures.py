"""One definition of "overdue now" (services/clocks/overdue.py): the dashboard's headline figure, the
overdue list (督办) and the reports API count the same tickets, built here around the edges:
a deadline exactly now, a clock paused before and after its deadline, an extension, a merged
duplicate, a missed accept deadline, a returned ticket, an old ticket, an imported one. Imported
open tickets keep their old deadline, count, and are marked and filterable on the list."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.models.types import utcnow
from hotline.services.clocks import overdue
from hotline.services.history_import import importing
from hotline.services.history_import.import_mapping import build_mapping
from hotline.services.ticketing import deadlines, merging, tickets
from tests import factories
from tests.web.conftest import text_of


def _accepted(city, due: datetime, **changes) -> Ticket:
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    ticket.resolve_due_at = due
    ticket.resolve_amber_at = due - timedelta(hours=10)
    for name, value in changes.items():
        setattr(ticket, name, value)
    db.session.commit()
    return ticket


def _import(tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "oldcity.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Unique Key", "Created Date", "Closed Date", "Due Date", "Agency", "Complaint Type", "Status"])
        writer.writerows(rows)
    columns = "id=Unique Key,created=Created Date,closed=Closed Date,due=Due Date,department=Agency,"
    columns += "category=Complaint Type,status=Status"
    mapping = build_mapping(None, [columns], "%Y-%m-%d %H:%M", "UTC", "oldcity", path, default_tz="Asia/Shanghai")
    result = importing.import_csv(path, mapping)
    assert result.errors == [] and result.imported == len(rows)


def _edges(city, tmp_path: Path) -> dict[str, Ticket]:
    """Tickets on each side of the definition, by what they are; those named overdue_* count."""
    now = utcnow()
    made = {
        "overdue_plain": _accepted(city, now - timedelta(hours=1)),
        "not_yet": _accepted(city, now + timedelta(minutes=5)),
        # Waiting on the citizen: the clock stood still where the pause began.
        "paused_before_deadline": _accepted(
            city, now - timedelta(hours=1), status=Status.WAITING, paused_at=now - timedelta(hours=2)
        ),
        "overdue_paused_after_deadline": _accepted(
            city, now - timedelta(hours=3), status=Status.WAITING, paused_at=now - timedelta(hours=1)
        ),
    }
    extended = _accepted(city, now + timedelta(hours=1))
    deadlines.request_extension(city.roads_staff, extended, 3, "需要协调施工队")
    deadlines.approve_extension(city.supervisor, extended, "同意")
    made["extended"] = extended
    duplicate = _accepted(city, now - timedelta(hours=5))
    parent = factories.make_routed_ticket(city.operator)
    merging.merge_into(city.dispatcher, duplicate, parent.number)
    made["merged"] = duplicate
    accept_late = factories.make_routed_ticket(city.operator)
    accept_late.accept_due_at = now - timedelta(minutes=20)
    db.session.commit()
    made["accept_late"] = accept_late
    returned = _accepted(city, now - timedelta(hours=2))
    tickets.return_to_dispatch(city.roads_staff, returned, "不归我们")
    made["returned"] = returned
    made["overdue_old"] = _accepted(city, now - timedelta(days=50), created_at=now - timedelta(days=60))
    old = (now - timedelta(days=400)).strftime("%Y-%m-%d %H:%M")
    passed = (now - timedelta(days=390)).strftime("%Y-%m-%d %H:%M")
    ahead = (now + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    _import(
        tmp_path,
        [
            ["N1", old, "", passed, "DOT", "Street Light Condition", "Open"],
            ["N2", old, "", ahead, "DOT", "Street Light Condition", "Open"],
            ["N3", old, passed, passed, "DOT", "Street Light Condition", "Closed"],
        ],
    )
    made["overdue_imported"] = db.session.scalar(db.select(Ticket).where(Ticket.external_id == "N1"))
    made["imported_ahead"] = db.session.scalar(db.select(Ticket).where(Ticket.external_id == "N2"))
    made["imported_closed"] = db.session.scalar(db.select(Ticket).where(Ticket.external_id == "N3"))
    db.session.expire_all()
    return made


def _card(html: str) -> int:
    part = html[html.index('data-card="overdue_open"') :]
    return int(re.sub(r"<[^>]+>", "", re.search(r'card-value">(.*?)</div>', part, re.S).group(1)).strip())


def _rows(html: str) -> dict[str, tuple[str, str | None]]:
    """number -> (level, imported source or None) of the list's rows."""
    part = html[html.index('id="late"') :]
    part = part[: part.index("</table>")]
    found = {}
    for attributes in re.findall(r"<tr ([^>]*data-number[^>]*)>", part):
        number = re.search(r'data-number="([^"]+)"', attributes).group(1)
        level = re.search(r'data-level="([^"]+)"', attributes).group(1)
        source = re.search(r'data-imported="([^"]+)"', attributes)
        found[number] = (level, source.group(1) if source else None)
    return found


def test_dashboard_list_and_api_count_the_same_tickets(login, api, city, tmp_path):
    made = _edges(city, tmp_path)
    now = utcnow()
    expected = {made[name].number for name in made if name.startswith("overdue_")}
    counted = overdue.overdue_now(now)
    assert (counted.total, counted.imported) == (len(expected), 1)
    assert {t.number for t in made.values() if overdue.is_overdue(t, now)} == expected  # Python = SQL

    client = login(city.supervisor)
    listed = _rows(text_of(client.get("/supervision/overdue")))
    overdue_rows = {number for number, (level, _source) in listed.items() if level == "overdue"}
    dashboard = text_of(client.get("/reports/response-times?range=30d"))
    figure = api(city.supervisor).get("/api/v1/reports/overdue").get_json()
    assert _card(dashboard) == len(overdue_rows) == figure["overdue_now"] == len(expected) == 4
    assert overdue_rows == expected
    assert figure["imported"] == 1 and datetime.fromisoformat(figure["at"]).tzinfo is not None
    # The list says the same number, and shows the other late tickets apart.
    page = text_of(client.get("/supervision/overdue"))
    assert f'data-total="{len(expected)}"' in page and 'data-imported="1"' in page
    assert listed[made["accept_late"].number][0] == "accept_late"
    for name in ("not_yet", "paused_before_deadline", "extended", "merged", "returned", "imported_ahead"):
        assert listed.get(made[name].number, ("", None))[0] != "overdue", name
    # The dashboard's tables count the same definition among the tickets logged in the period:
    # not the one logged 60 days ago nor the one imported 400 days ago.
    assert "Logged in the period: 2." in dashboard and "Imported: 1." in dashboard


def test_imported_open_tickets_are_marked_and_filtered(login, city, tmp_path):
    made = _edges(city, tmp_path)
    client = login(city.supervisor)
    listed = _rows(text_of(client.get("/supervision/overdue")))
    imported = made["overdue_imported"]
    assert listed[imported.number] == ("overdue", "oldcity")
    assert imported.resolve_due_at is not None and imported.source == "oldcity"
    page = text_of(client.get("/supervision/overdue?imported=imported"))
    assert set(_rows(page)) == {imported.number}
    assert "Imported from oldcity" in page
    others = _rows(text_of(client.get("/supervision/overdue?imported=hotline")))
    assert imported.number not in others and made["overdue_plain"].number in others
    assert all(source is None for _level, source in others.values())
    response = client.get("/supervision/overdue?imported=maybe")
    assert response.status_code == 400
    assert "“maybe” is not one of: all, imported, hotline." in text_of(response)


def test_a_deadline_exactly_now_is_not_passed_and_an_extension_moves_it(city):
    due = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    ticket = _accepted(city, due)
    assert overdue.overdue_now(due).total == 0 and not overdue.is_overdue(ticket, due)
    later = due + timedelta(microseconds=1)
    assert overdue.overdue_now(later).total == 1 and overdue.is_overdue(ticket, later)
    ticket.extended_days, ticket.resolve_due_at = 3, due + timedelta(days=3)  # as an approved extension leaves it
    db.session.commit()
    assert overdue.overdue_now(later).total == 0 and not overdue.is_overdue(ticket, later)


def test_resuming_a_ticket_that_was_overdue_leaves_it_overdue(city):
    now = utcnow()
    ticket = _accepted(city, now - timedelta(days=2))
    deadlines.wait_on_citizen(city.roads_staff, ticket, "请补充照片")
    due = ticket.resolve_due_at
    deadlines.resume(city.roads_staff, ticket)
    assert ticket.resolve_due_at == due  # not moved to the moment it resumed
    assert overdue.is_overdue(ticket, utcnow())
