"""`flask import-csv`: the NYC 311 sample imported as it is, checked against figures computed
independently from the CSV; another city's format through --map; mapping errors; search."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.services.reporting import report_figures, reports

NYC_SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "nyc311" / "311_sample.csv"
NYC_ZONE = ZoneInfo("America/New_York")


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def nyc_time(text: str) -> datetime:
    """The sample's `M/D/YY H:MM`, a New York wall-clock time, as a UTC instant."""
    return datetime.strptime(text, "%m/%d/%y %H:%M").replace(tzinfo=NYC_ZONE).astimezone(UTC)


def nyc_expectations(path: Path) -> dict:
    """From the CSV alone: the rows the stated rules refuse (an empty id, created time, agency or
    complaint type; closed before created; an id seen before), and over the others, per agency,
    the rows received, the rows with a Closed Date and the median hours from created to closed."""
    refused: set[int] = set()
    seen: set[str] = set()
    received: Counter[str] = Counter()
    hours: dict[str, list[float]] = defaultdict(list)
    created_times: list[datetime] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):  # no record of the sample spans two lines
            key, agency = row["Unique Key"].strip(), row["Agency"].strip()
            if not (key and row["Created Date"] and agency and row["Complaint Type"].strip()) or key in seen:
                refused.add(line)
                continue
            created = nyc_time(row["Created Date"])
            closed = nyc_time(row["Closed Date"]) if row["Closed Date"] else None
            if closed is not None and closed < created:
                refused.add(line)
                continue
            seen.add(key)
            received[agency.lower()] += 1
            created_times.append(created)
            if closed is not None:
                hours[agency.lower()].append((closed - created).total_seconds() / 3600)
    return {
        "rows": line - 1,
        "refused": refused,
        "received": received,
        "closed": {agency: len(values) for agency, values in hours.items()},
        "median_hours": {agency: statistics.median(values) for agency, values in hours.items()},
        "first_created": min(created_times),
        "last_created": max(created_times),
    }


@pytest.fixture
def nyc_sample() -> Path:
    if not NYC_SAMPLE.is_file():
        pytest.skip(f"the NYC 311 sample is not there: {NYC_SAMPLE} (see ../shared/data/README.md)")
    return NYC_SAMPLE


def test_the_nyc_sample_imports_as_it_is_and_reports_what_the_csv_says(runner, nyc_sample):
    expected = nyc_expectations(nyc_sample)
    assert expected["rows"] == 6765 and sum(expected["closed"].values()) == 2441  # the data README's figures

    result = runner.invoke(args=["import-csv", str(nyc_sample), "--preset", "nyc311"])
    assert result.exit_code == 0, result.output
    refused_lines = {
        int(line.split(":")[0].removeprefix("line ")) for line in result.output.splitlines() if line.startswith("line ")
    }
    assert refused_lines == expected["refused"]
    imported = 6765 - len(expected["refused"])
    assert (
        f"6765 rows read: {imported} imported, 0 already imported, {len(expected['refused'])} refused" in result.output
    )
    assert "created 19 departments" in result.output
    assert ticket_count() == imported
    # Nothing waits for routing or texting; the old statuses map onto Hotline's.
    statuses = dict(db.session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
    assert statuses[Status.CLOSED] >= sum(expected["closed"].values())
    assert set(statuses) <= {Status.CLOSED, Status.DISPATCHED, Status.IN_PROGRESS}

    # The exact report, read from the tickets, over the hotline's local days (Asia/Shanghai unless
    # configured otherwise) that cover every imported ticket.
    zone = report_figures.timezone()
    first, last = (expected[key].astimezone(zone).date() for key in ("first_created", "last_created"))
    rows = {row.key: row for row in reports.report(first, last, "department", exact=True)}
    assert set(rows) == set(expected["received"])
    for agency, row in rows.items():
        assert row.received == expected["received"][agency], agency
        assert row.resolved == expected["closed"].get(agency, 0), agency
        median = expected["median_hours"].get(agency)
        assert row.resolve_p50_hours == (None if median is None else round(median, 2)), agency

    # The default report reads the day rows that the import refreshed: the same counts, and
    # medians within one minute or 1 % (plus the report's rounding to 0.01 hour).
    assert report_figures.pending_days() == 0
    for row in reports.report(first, last, "department"):
        assert row.approximate
        assert row.resolved == expected["closed"].get(row.key, 0), row.key
        median = expected["median_hours"].get(row.key)
        if median is None:
            assert row.resolve_p50_hours is None
        else:
            assert abs(row.resolve_p50_hours - median) <= max(1 / 60, 0.01 * median) + 0.005, row.key

    # A second run of the same file imports nothing twice.
    again = runner.invoke(args=["import-csv", str(nyc_sample), "--preset", "nyc311"])
    assert again.exit_code == 0, again.output
    assert (
        f"6765 rows read: 0 imported, {imported} already imported, {len(expected['refused'])} refused" in again.output
    )
    assert "created 0 departments, 0 categories, 0 districts" in again.output
    assert ticket_count() == imported


OTHER_CITY = [
    ["Nr", "Eingang", "Erledigt", "Frist", "Amt", "Thema", "Unterthema", "Text", "Stand"],  # line 1
    [
        "K-100",
        "01.03.2024 09:15",
        "04.03.2024 11:00",
        "08.03.2024 09:15",
        "TIEFBAU",
        "Straße",
        "Schlagloch",
        "Loch vor Nr. 4",
        "erledigt",
    ],
    ["K-101", "31.02.2024 10:00", "", "", "TIEFBAU", "Straße", "Schlagloch", "bad date", "offen"],  # 3
    ["K-102", "05.03.2024 10:00", "04.03.2024 10:00", "", "TIEFBAU", "Straße", "", "closed before created", "erledigt"],
    ["K-103", "05.03.2024 10:00", "", "", "", "Straße", "", "no department", "offen"],  # 5
    ["K-100", "06.03.2024 10:00", "", "", "TIEFBAU", "Straße", "", "the id of line 2 again", "offen"],  # 6
    ["K-104", "06.03.2024 10:00", "", "", "GRUEN", "Park", "Bank kaputt", "Bank im\nStadtpark", "in progress"],
    ["K-105", "07.03.2024 10:00", "", "", "GRUEN", "Park", "", "", "offen"],  # 9, after a two-line record
    ["K-106", "07.03.2024 25:00", "", "", "GRUEN", "Park", "", "no such hour", "offen"],  # 10
]
OTHER_COLUMNS = "id=Nr,created=Eingang,closed=Erledigt,due=Frist,department=Amt,category=Thema,"
OTHER_COLUMNS += "subcategory=Unterthema,description=Text,status=Stand"


def write_other_city(path: Path, rows: list[list[str]] = OTHER_CITY) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def other_city_args(
    path: Path, *extra: str, columns: str = OTHER_COLUMNS, tz: str = "Europe/Berlin", source: str = "altstadt"
) -> list[str]:
    return [
        *("import-csv", str(path), "--map", columns, "--date-format", "%d.%m.%Y %H:%M"),
        *("--tz", tz, "--source", source, "--delimiter", ";", *extra),
    ]


def test_another_citys_export_with_bad_rows(runner, tmp_path):
    path = write_other_city(tmp_path / "Altstadt Export.csv")
    result = runner.invoke(args=other_city_args(path))
    assert result.exit_code == 0, result.output
    assert "importing Altstadt Export.csv as source altstadt (times %d.%m.%Y %H:%M in Europe/Berlin)" in result.output
    assert "8 rows read: 3 imported, 0 already imported, 5 refused" in result.output
    assert "line 3: Eingang '31.02.2024 10:00' is not a time in the format %d.%m.%Y %H:%M" in result.output
    assert "line 4: Erledigt (04.03.2024 10:00) is before Eingang (05.03.2024 10:00)" in result.output
    assert "line 5: Amt is empty" in result.output
    assert "line 6: Nr K-100 appears earlier in the file (line 2)" in result.output
    assert "line 10: Eingang '07.03.2024 25:00' is not a time" in result.output
    done = db.session.scalar(select(Ticket).where(Ticket.number == "altstadt-K-100"))
    assert (done.status, done.external_id, done.description) == (Status.CLOSED, "K-100", "Loch vor Nr. 4")
    assert done.created_at == datetime(2024, 3, 1, 8, 15, tzinfo=UTC)
    assert done.resolved_at == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
    assert done.category.path_name == "Straße / Schlagloch"
    assert db.session.scalar(select(Ticket.status).where(Ticket.external_id == "K-104")) == Status.IN_PROGRESS
    assert db.session.scalar(select(Ticket.description).where(Ticket.external_id == "K-105")) == "Park"
    again = runner.invoke(args=other_city_args(path))
    # The repeated K-100 of line 6 now finds its ticket and counts as already imported: the
    # importer keeps no list of the ids it read (memory stays bounded), it asks the database.
    assert "8 rows read: 0 imported, 4 already imported, 4 refused" in again.output
    assert again.exit_code == 0
    assert ticket_count() == 3


def test_a_dry_run_saves_nothing(runner, tmp_path):
    result = runner.invoke(args=other_city_args(write_other_city(tmp_path / "x.csv"), "--dry-run"))
    assert result.exit_code == 0, result.output
    assert "dry run, nothing saved: 8 rows read: 3 imported" in result.output
    assert "would create 2 departments, 4 categories, 0 districts" in result.output
    assert ticket_count() == 0


def test_more_than_fifty_errors_are_summed_up(runner, tmp_path):
    rows = [OTHER_CITY[0]] + [[f"B-{n}", "never", "", "", "AMT", "Thema", "", "", ""] for n in range(60)]
    result = runner.invoke(args=other_city_args(write_other_city(tmp_path / "bad.csv", rows)))
    assert result.output.count("is not a time in the format") == 50
    assert "... and 10 more" in result.output
    # Not one row could be used: most likely the format is wrong, so the command fails.
    assert result.exit_code == 1
    assert "no row could be imported" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": OTHER_COLUMNS.replace("=Eingang", "=Received")}, "column 'Received' (for created) is not in"),
        ({"columns": OTHER_COLUMNS + ",owner=Amt"}, "unknown key 'owner'; the keys are: id, created"),
        ({"columns": OTHER_COLUMNS + ",created"}, "'created' is not KEY=COLUMN"),
        ({"columns": OTHER_COLUMNS + ",created=Frist"}, "the key 'created' is given twice"),
        ({"tz": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"source": "alt-stadt"}, "'alt-stadt' is not a source name"),
    ],
)
def test_a_mapping_that_cannot_be_used_imports_nothing(runner, tmp_path, options, message):
    result = runner.invoke(args=other_city_args(write_other_city(tmp_path / "x.csv"), **options))
    assert result.exit_code == 1
    assert message in result.output
    assert ticket_count() == 0


def test_without_a_preset_or_a_map_or_a_file(runner, tmp_path):
    path = write_other_city(tmp_path / "x.csv")
    result = runner.invoke(args=["import-csv", str(path)])
    assert result.exit_code == 1 and "--preset NAME or --map" in result.output
    result = runner.invoke(args=["import-csv", str(tmp_path / "missing.csv"), "--preset", "nyc311"])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(args=["import-csv", str(path), "--preset", "nyc311"])
    assert result.exit_code == 1 and "column 'Unique Key' (for id) is not in the file's header" in result.output
    assert ticket_count() == 0


def test_imported_tickets_are_found_by_their_old_id(runner, tmp_path, city, login, api):
    # The departments and categories the hotline already has are found by code and by name.
    rows = [
        OTHER_CITY[0],
        ["77123", "01.03.2019 09:15", "", "08.03.2019 09:15", "ROADS", "城乡建设", "道路坑洼", "人民路有坑", "offen"],
        ["77124", "01.03.2019 09:20", "", "", "water", "供水", "", "停水", "offen"],
    ]
    result = runner.invoke(args=other_city_args(write_other_city(tmp_path / "x.csv", rows)))
    assert "2 imported" in result.output, result.output
    assert "created 0 departments, 0 categories" in result.output
    pothole = db.session.scalar(select(Ticket).where(Ticket.external_id == "77123"))
    assert (pothole.department_id, pothole.category_id) == (city.roads.id, city.potholes.id)

    page = login(city.supervisor).get("/tickets?q=77123").get_data(as_text=True)
    assert "altstadt-77123" in page and "altstadt-77124" not in page
    assert "altstadt-77124" in login(city.supervisor).get("/tickets?q=altstadt-7712").get_data(as_text=True)

    department = login(city.roads_staff)
    ticket_page = department.get("/tickets/altstadt-77123")
    assert ticket_page.status_code == 200
    assert "人民路有坑" in ticket_page.get_data(as_text=True)
    # Its deadline passed in the old system years ago: it keeps it, is on the workbench, and is
    # overdue now, marked as imported on the overdue list.
    assert pothole.resolve_due_at == datetime(2019, 3, 8, 8, 15, tzinfo=UTC)
    assert "altstadt-77123" in department.get("/tickets").get_data(as_text=True)
    overdue = login(city.supervisor).get("/supervision/overdue")
    listed = overdue.get_data(as_text=True)
    assert overdue.status_code == 200 and 'data-level="overdue" data-imported="altstadt"' in listed

    response = api(city.supervisor).get("/api/v1/tickets/altstadt-77123")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["number"], body["status"], body["department"], body["category"]) == (
        "altstadt-77123",
        "dispatched",
        "roads",
        "potholes",
    )
    assert body["dispatched_at"] is None and body["accept_due_at"] is None
    assert [(e["kind"], e["actor"], e["data"]["id"]) for e in body["events"]] == [("imported", None, "77123")]
    assert api(city.water_staff).get("/api/v1/tickets/altstadt-77123").status_code == 404  # not theirs


def test_the_nyc_samples_open_requests_past_their_due_date_are_overdue_now(runner, nyc_sample, api, city):
    """The city's own export would label them OVERDUE: open (no Closed Date, not closed) with a
    Due Date that has passed. Counted from the CSV alone; after the import the overdue figure
    (services/clocks/overdue.py, the dashboard's and the API's) counts exactly those, all imported."""
    from hotline.models.types import utcnow
    from hotline.services.clocks import overdue

    expected = nyc_expectations(nyc_sample)
    now = utcnow()
    late: set[str] = set()
    with nyc_sample.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if line in expected["refused"] or row["Closed Date"] or row["Status"].strip().lower() == "closed":
                continue
            if row["Due Date"] and nyc_time(row["Due Date"]) < now:
                late.add(row["Unique Key"].strip())
    assert len(late) > 800  # 2018's requests: every open one with a due date is long overdue

    result = runner.invoke(args=["import-csv", str(nyc_sample), "--preset", "nyc311"])
    assert result.exit_code == 0, result.output
    counted = overdue.overdue_now(utcnow())
    assert (counted.total, counted.imported) == (len(late), len(late))
    found = set(db.session.scalars(select(Ticket.external_id).where(overdue.overdue_condition(utcnow()))))
    assert found == late
    figure = api(city.supervisor).get("/api/v1/reports/overdue").get_json()
    assert (figure["overdue_now"], figure["imported"]) == (len(late), len(late))
