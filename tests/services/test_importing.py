"""Importing ticket history from CSV (services/history_import/importing.py): reading rows, times, statuses,
reference data, refusals with line numbers, re-runs, and what imported tickets do not trigger."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Category, Department, District, Notice, OutboundMessage, Status, Ticket, TicketEvent
from hotline.services.citizens import survey
from hotline.services.history_import import importing
from hotline.services.history_import.import_mapping import (
    Mapping,
    MappingError,
    build_mapping,
    read_time,
    source_from_file,
    ticket_number,
)
from hotline.services.ticketing import deadlines, recovery, tickets

HEADER = ["Ref", "Opened", "Finished", "Deadline", "Office", "Office name", "Topic", "Subtopic", "State", "Area"]
COLUMNS = "id=Ref,created=Opened,closed=Finished,due=Deadline,department=Office,department_name=Office name,"
COLUMNS += "category=Topic,subcategory=Subtopic,status=State,district=Area"


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def mapping(path: Path, columns: str = COLUMNS, **options) -> Mapping:
    return build_mapping(
        options.get("preset"),
        [columns] if columns else [],
        options.get("date_format", "%d.%m.%Y %H:%M"),
        options.get("tz", "Europe/Berlin"),
        options.get("source", "oldcrm"),
        path,
        default_tz="Asia/Shanghai",
    )


def run(path: Path, **options) -> importing.ImportResult:
    dry_run = options.pop("dry_run", False)
    return importing.import_csv(path, mapping(path, **options), dry_run=dry_run)


def row(ref: str, opened: str = "01.03.2024 09:00", finished: str = "", **values: str) -> list[str]:
    return [
        ref,
        opened,
        finished,
        values.get("due", ""),
        values.get("office", "PARKS"),
        values.get("office_name", "Parks Office"),
        values.get("topic", "Trees"),
        values.get("subtopic", "Fallen tree"),
        values.get("state", "Open"),
        values.get("area", "North"),
    ]


def by_ref(ref: str) -> Ticket:
    return db.session.scalar(select(Ticket).where(Ticket.source == "oldcrm", Ticket.external_id == ref))


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


# --- times --------------------------------------------------------------------------------


def test_times_are_local_to_the_zone_and_stored_in_utc(tmp_path):
    berlin = mapping(tmp_path / "x.csv")
    assert read_time("01.07.2024 12:00", berlin) == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)  # summer: +2
    assert read_time("01.12.2024 12:00", berlin) == datetime(2024, 12, 1, 11, 0, tzinfo=UTC)  # winter: +1
    iso = mapping(tmp_path / "x.csv", date_format=None, tz="America/New_York")
    assert read_time("2024-03-01 10:00", iso) == datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    assert read_time("2024-03-01T10:00:00+02:00", iso) == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)  # its own offset
    assert read_time("2024-03-01", iso) == datetime(2024, 3, 1, 5, 0, tzinfo=UTC)
    # The hour repeated in autumn is its first occurrence (daylight time, fold=0) ...
    assert read_time("2024-11-03 01:30", iso) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    # ... and a time skipped in spring is read with the offset from before the change.
    assert read_time("2024-03-10 02:30", iso) == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        read_time("31.02.2024 10:00", berlin)


# --- numbers and sources ------------------------------------------------------------------


def test_numbers_keep_the_old_id_and_never_look_like_hotline_numbers():
    assert ticket_number("nyc311", "40611598") == "nyc311-40611598"
    hashed = {ticket_number("oldcrm", "2019/00123"), ticket_number("oldcrm", "x" * 40)}
    for number in hashed:
        assert number.startswith("oldcrm~") and len(number) == 32
    assert len(hashed) == 2
    assert ticket_number("oldcrm", "2019/00123") == ticket_number("oldcrm", "2019/00123")  # stable
    hotline_number = re.compile(r"\d{8}-\d{6}")
    assert not hotline_number.fullmatch(ticket_number("a", "20261125-000001"))


def test_source_names_are_checked_and_derived_from_the_file_name(tmp_path):
    assert source_from_file(Path("Old System 2019.csv")) == "old_system_2019"
    assert source_from_file(Path("311_sample.csv")) == "csv_311_sample"
    for bad in ("20261125", "old-crm", "Old", "a" * 17):
        with pytest.raises(MappingError, match="--source"):
            mapping(tmp_path / "x.csv", source=bad)
    with pytest.raises(MappingError, match="--tz"):
        mapping(tmp_path / "x.csv", tz="Mars/Olympus")


# --- statuses, fields, events -------------------------------------------------------------


def test_statuses_times_and_the_import_event(tmp_path):
    path = write_csv(
        tmp_path / "crm.csv",
        [
            row("A1", "01.03.2024 09:00", "01.03.2024 15:30", due="05.03.2024 18:00", state="Open"),
            row("A2", state="Closed"),
            row("A3", state="Started"),
            row("A4", state="Assigned", due="02.03.2024 09:00"),
            row("A5", state=""),
        ],
    )
    result = run(path)
    assert (result.imported, result.already_imported, result.errors) == (5, 0, [])
    closed = by_ref("A1")
    assert closed.number == "oldcrm-A1" and closed.source == "oldcrm"
    assert closed.status == Status.CLOSED
    assert closed.created_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert closed.resolved_at == closed.closed_at == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
    assert closed.resolve_due_at == datetime(2024, 3, 5, 17, 0, tzinfo=UTC)
    assert (closed.dispatched_at, closed.accepted_at, closed.created_by_id, closed.caller_phone) == (
        None,
        None,
        None,
        "",
    )
    # No Hotline clock was started for the history.
    assert (closed.accept_due_at, closed.resolve_amber_at, closed.sla_terms, closed.sla_level) == (None, None, None, "")
    assert (closed.type, closed.channel) == ("report", "other")
    assert closed.description == "Trees: Fallen tree"
    (event,) = closed.events
    assert (event.kind, event.actor_id, event.from_status, event.to_status) == ("imported", None, None, "closed")
    assert event.data == {"source": "oldcrm", "id": "A1", "status": "Open", "file": "crm.csv", "line": 2}
    closed_without_time = by_ref("A2")
    assert (closed_without_time.status, closed_without_time.resolved_at) == (Status.CLOSED, None)
    assert by_ref("A3").status == Status.IN_PROGRESS
    for ref in ("A4", "A5"):
        ticket = by_ref(ref)
        assert ticket.status == Status.DISPATCHED and ticket.department.code == "parks"
        assert ticket.dispatched_at is None
    # An open ticket keeps the deadline that passed in the old system: it is overdue now.
    passed = by_ref("A4")
    assert passed.resolve_due_at == datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    assert "due" not in passed.events[0].data


def test_an_open_ticket_keeps_a_deadline_still_ahead(tmp_path):
    ahead = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    due = ahead.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y %H:%M")
    assert run(write_csv(tmp_path / "crm.csv", [row("A6", due=due)])).imported == 1
    ticket = by_ref("A6")
    assert ticket.resolve_due_at == ahead and "due" not in ticket.events[0].data
    assert (ticket.resolve_amber_at, ticket.accept_due_at, ticket.sla_terms) == (None, None, None)


def test_departments_categories_and_districts_are_found_or_created(tmp_path):
    existing = Department(code="water", name="Water Board")
    db.session.add(existing)
    db.session.commit()
    path = write_csv(
        tmp_path / "crm.csv",
        [
            row("B1", office="WATER", office_name="Water"),  # by code, lower-cased
            row("B2", office="Water Board"),  # by name
            row("B3", office="PARKS", office_name="Parks - North unit"),
            row("B4", office="PARKS", office_name="Parks Office"),
            row("B5", office="PARKS", office_name="Parks Office", area="Unspecified"),
            row("B6", topic="Trees", subtopic=""),
            row("B7", topic="Noise", subtopic="Fallen tree", area="South Bank"),
        ],
    )
    result = run(path)
    assert (result.imported, result.errors) == (7, [])
    assert by_ref("B1").department_id == by_ref("B2").department_id == existing.id
    assert db.session.get(Department, existing.id).name == "Water Board"  # an existing name is kept
    parks = by_ref("B3").department
    assert parks.code == "parks" and parks.name == "Parks Office"  # the name most rows used
    assert result.departments_created == 1
    assert by_ref("B5").district_id is None
    assert by_ref("B7").district.code == "south-bank" and by_ref("B7").district.name == "South Bank"
    assert result.districts_created == 2
    trees = by_ref("B6").category
    assert trees.name == "Trees" and trees.parent_id is None
    fallen = by_ref("B1").category
    assert (fallen.name, fallen.parent_id) == ("Fallen tree", trees.id)
    # The same descriptor under another complaint type is another category.
    noise_fallen = by_ref("B7").category
    assert noise_fallen.id != fallen.id and noise_fallen.parent.name == "Noise"
    assert result.categories_created == 4
    codes = db.session.scalars(select(Category.code)).all()
    assert all(len(code) <= 64 for code in codes)
    # A second run, from another file with the same names, finds everything (codes are stable).
    fallen.name = "Fallen trees (renamed)"
    db.session.commit()
    again = run(write_csv(tmp_path / "more.csv", [row("B8"), row("B9", topic="Noise", area="South Bank")]))
    assert (again.imported, again.categories_created, again.departments_created, again.districts_created) == (
        2,
        0,
        0,
        0,
    )
    assert by_ref("B8").category_id == fallen.id
    assert db.session.scalar(select(func.count()).select_from(District)) == 2


def test_names_that_are_not_codes_get_derived_codes_found_again_by_the_next_run(tmp_path):
    rows = [row("J1", office="水务局", office_name="市水务局", topic="供水", subtopic="停水", area="东城区")]
    first = run(write_csv(tmp_path / "a.csv", rows))
    assert (first.imported, first.departments_created, first.districts_created) == (1, 1, 1)
    water = by_ref("J1").department
    assert water.name == "市水务局" and re.fullmatch(r"x-[0-9a-f]{8}", water.code)
    water.name = "Water Authority"  # renamed by an administrator
    db.session.commit()
    second = run(
        write_csv(tmp_path / "b.csv", [row("J2", office="水务局", topic="供水", subtopic="停水", area="东城区")])
    )
    assert (second.imported, second.departments_created, second.categories_created, second.districts_created) == (
        1,
        0,
        0,
        0,
    )
    assert by_ref("J2").department_id == water.id and by_ref("J2").category_id == by_ref("J1").category_id


def test_a_preset_with_a_composed_description_and_channels(tmp_path):
    header = ["Unique Key", "Created Date", "Closed Date", "Agency", "Agency Name", "Complaint Type", "Descriptor"]
    header += ["Location Type", "Status", "Due Date", "Incident Address", "Borough", "Open Data Channel Type"]
    header += ["Resolution Description"]
    rows = [
        [
            "1",
            "10/21/18 0:00",
            "10/21/18 0:59",
            "NYPD",
            "NYPD",
            "Noise",
            "Loud Music",
            "Street",
            "Closed",
            "",
            "1 MAIN ST",
        ]
        + ["BRONX", "PHONE", "Officers responded."],
        ["2", "10/21/18 1:00", "", "DOT", "DOT", "Pothole", "", "", "Open", "", "A" * 400, "Unspecified", "ONLINE"]
        + ["Inspection scheduled."],
        ["3", "10/21/18 1:00", "", "DOT", "DOT", "Pothole", "", "", "Open", "", "", "", "MOBILE", ""],
        ["4", "10/21/18 1:00", "", "DOT", "DOT", "Pothole", "", "", "Open", "", "", "", "UNKNOWN", ""],
    ]
    path = write_csv(tmp_path / "nyc.csv", rows, header)
    result = importing.import_csv(path, build_mapping("nyc311", [], None, None, None, path, default_tz="Asia/Shanghai"))
    assert (result.source, result.imported, result.errors) == ("nyc311", 4, [])
    first, second, third, fourth = (
        db.session.scalar(select(Ticket).where(Ticket.external_id == ref)) for ref in "1234"
    )
    assert first.created_at == datetime(2018, 10, 21, 4, 0, tzinfo=UTC)  # New York, daylight time
    assert first.description == "Noise: Loud Music (Street)"
    assert (first.resolution, first.address, first.district.name) == ("Officers responded.", "1 MAIN ST", "BRONX")
    assert [t.channel for t in (first, second, third, fourth)] == ["phone", "web", "mobile", "other"]
    assert second.description == "Pothole" and len(second.address) == 300  # shortened, not refused
    # The old answer of a ticket still open is kept in the import event, not as a reply.
    assert second.resolution is None and second.events[0].data["resolution"] == "Inspection scheduled."


# --- refusals -----------------------------------------------------------------------------


def test_bad_rows_are_refused_with_their_line_and_the_rest_imports(tmp_path):
    path = tmp_path / "crm.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)  # line 1
        writer.writerow(row("C1"))  # 2
        writer.writerow(row("C2", "31.02.2024 10:00"))  # 3: no such day
        writer.writerow(row("C3", "02.03.2024 10:00", "01.03.2024 10:00"))  # 4: closed before created
        writer.writerow(row("C4", office=""))  # 5
        writer.writerow(row("", topic="Trees"))  # 6
        writer.writerow(row("C5", topic=""))  # 7
        writer.writerow(row("C1"))  # 8: the id of line 2 again
        writer.writerow(row("C6", due="soon"))  # 9
        writer.writerow(row("C7", subtopic="two\nlines"))  # 10-11: one record
        writer.writerow(row("C8")[:4])  # 12: cut short
        writer.writerow(row("X" * 65))  # 13
        handle.write("\n")  # 14: blank, skipped
        writer.writerow(row("C9"))  # 15
    path.write_bytes(path.read_bytes() + b"C10,01.03.2024 09:00,,,PARKS,Parks \xff,Trees,,Open,North\n")  # 16
    result = run(path)
    assert [line for line, _ in result.errors] == [3, 4, 5, 6, 7, 8, 9, 12, 13, 16]
    reasons = dict(result.errors)
    assert reasons[3] == "Opened '31.02.2024 10:00' is not a time in the format %d.%m.%Y %H:%M"
    assert reasons[4] == "Finished (01.03.2024 10:00) is before Opened (02.03.2024 10:00)"
    assert reasons[5] == "Office is empty"
    assert reasons[6] == "Ref is empty"
    assert reasons[7] == "Topic is empty"
    assert reasons[8] == "Ref C1 appears earlier in the file (line 2)"
    assert reasons[9].startswith("Deadline 'soon' is not a time")
    assert reasons[12] == "has 4 fields where the header has 10: a broken line?"
    assert reasons[13] == "Ref is longer than 64 characters"
    assert "not readable text" in reasons[16]
    assert (result.rows, result.imported) == (13, 3)
    assert {t.external_id for t in db.session.scalars(select(Ticket))} == {"C1", "C7", "C9"}
    assert by_ref("C7").category.name == "two\nlines"
    imported_line = db.session.scalar(
        select(TicketEvent.data).join(Ticket).where(Ticket.external_id == "C9", TicketEvent.kind == "imported")
    )
    assert imported_line["line"] == 15


def test_a_repeated_id_in_a_later_batch_is_refused_not_taken_as_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 2)
    path = write_csv(tmp_path / "crm.csv", [row("D1"), row("D2"), row("D3"), row("D1"), row("D2")])
    result = run(path)
    assert (result.imported, result.already_imported) == (3, 0)
    assert result.errors == [
        (5, "Ref D1 appears earlier in the file (line 2)"),
        (6, "Ref D2 appears earlier in the file (line 3)"),
    ]


def test_a_second_run_imports_nothing_twice_and_an_interrupted_one_continues(tmp_path):
    first_part = write_csv(tmp_path / "crm.csv", [row("E1"), row("E2", "bad date")])
    result = run(first_part)
    assert (result.imported, len(result.errors)) == (1, 1)
    whole = write_csv(tmp_path / "crm.csv", [row("E1"), row("E2", "bad date"), row("E3"), row("E4")])
    result = run(whole)
    assert (result.imported, result.already_imported, [line for line, _ in result.errors]) == (2, 1, [3])
    result = run(whole)
    assert (result.imported, result.already_imported, len(result.errors)) == (0, 3, 1)
    assert ticket_count() == 3
    # Another source may use the same ids.
    assert run(whole, source="othercrm").imported == 3


def test_a_dry_run_checks_everything_and_saves_nothing(tmp_path):
    path = write_csv(tmp_path / "crm.csv", [row("F1"), row("F2"), row("F1"), row("F3", "never")])
    result = run(path, dry_run=True)
    assert (result.dry_run, result.imported, result.departments_created, result.categories_created) == (
        True,
        2,
        1,
        2,
    )
    assert [line for line, _ in result.errors] == [4, 5]
    assert ticket_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_a_file_or_mapping_that_cannot_be_used(tmp_path):
    path = write_csv(tmp_path / "crm.csv", [row("G1")])
    with pytest.raises(MappingError, match="column 'Opened at' \\(for created\\) is not in the file's header"):
        run(path, columns=COLUMNS.replace("created=Opened", "created=Opened at"))
    with pytest.raises(MappingError, match="unknown key 'owner'"):
        run(path, columns=COLUMNS + ",owner=Office")
    with pytest.raises(MappingError, match="must name a column for: department"):
        run(path, columns="id=Ref,created=Opened,category=Topic")
    with pytest.raises(MappingError, match="--preset NAME or --map"):
        run(path, columns="")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(MappingError, match="empty"):
        run(empty)
    twice = write_csv(tmp_path / "twice.csv", [row("G2") + ["x"]], [*HEADER, "Ref"])
    with pytest.raises(MappingError, match="appears 2 times"):
        run(twice)
    with pytest.raises(MappingError, match="--encoding"):
        importing.import_csv(path, mapping(path), encoding="klingon")
    assert ticket_count() == 0


# --- what imported tickets do not set off -------------------------------------------------


def test_imported_tickets_are_not_routed_swept_or_texted(tmp_path):
    now = datetime.now(UTC)
    opened = (now - timedelta(days=400)).strftime("%d.%m.%Y %H:%M")
    passed = (now - timedelta(days=395)).strftime("%d.%m.%Y %H:%M")
    ahead = (now + timedelta(days=2)).strftime("%d.%m.%Y %H:%M")
    path = write_csv(
        tmp_path / "crm.csv",
        [row("H1", opened, due=passed), row("H2", opened, state="Started", due=ahead), row("H3", opened, due=ahead)],
    )
    assert run(path).imported == 3
    assert recovery.requeue().waiting == 0  # the sweep re-enqueues only new tickets
    # No amber time: never a candidate for the deadline sweep, even once the deadline passed.
    for moment in (now, now + timedelta(days=3)):
        assert deadlines.sweep_deadlines(moment) == {"amber": 0, "red": 0}
    assert survey.close_unrated() == 0
    overdue = by_ref("H1")
    assert tickets.route(overdue.id).status == Status.DISPATCHED  # routing leaves non-new tickets alone
    assert len(overdue.events) == 1
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
