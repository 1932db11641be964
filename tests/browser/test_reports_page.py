"""The reports dashboard in headless Chromium: a supervisor opens it, sees the charts and the
table, clicks a figure, lands on the list of that many tickets, and downloads the Excel
export, which openpyxl opens.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to pytest's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hotline.extensions import db
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.web.report_data import END, START, make_data

pytestmark = [pytest.mark.browser]


def test_supervisor_drills_down_and_exports(app, city, live_server, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    data = make_data(city)
    numbers = {data.on_time.number, data.late.number, data.overdue.number}
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite

    page = new_page(browser, "en-US", accept_downloads=True)
    print(f"screenshots in {tmp_path}")

    page.goto(f"{live_server}/reports/response-times?from={START}&to={END}")
    log_in(page, "supervisor")
    expect(page).to_have_url(re.compile(rf"/reports/response-times\?from={START}&to={END}$"))

    # Charts drawn on the server, and the table per department.
    expect(page.locator("#chart-received svg")).to_be_visible()
    expect(page.locator("#chart-rates svg")).to_be_visible()
    roads = page.locator("#table-volumes tr[data-department='roads']")
    expect(roads.locator("td[data-col='received']")).to_have_text("3")
    expect(roads.locator("td[data-col='resolved']")).to_have_text("2")
    # The rates are one tab away.
    page.click("#tab-rates")
    rates = page.locator("#table-rates tr[data-department='roads']")
    expect(rates.locator("td[data-col='resolved_on_time_rate']")).to_be_visible()
    expect(rates.locator("td[data-col='resolved_on_time_rate']")).to_have_text("50.0%")
    page.screenshot(path=str(tmp_path / "01-dashboard.png"), full_page=True)

    # A figure opens the tickets behind it: as many as it says.
    page.click("#tab-volumes")
    roads.locator("td[data-col='received'] a").click()
    expect(page).to_have_url(re.compile(r"/reports/tickets\?.*measure=received"))
    expect(page.locator("#ticket-total")).to_have_text("3 tickets")
    expect(page.locator("#drill-tickets tbody tr")).to_have_count(3)
    listed = set(page.locator("#drill-tickets tbody tr").evaluate_all("rows => rows.map(r => r.dataset.number)"))
    assert listed == numbers
    page.screenshot(path=str(tmp_path / "02-tickets.png"), full_page=True)

    # Back on the dashboard, the Excel export downloads and opens.
    page.click("#back-to-report")
    expect(page.locator("#chart-received svg")).to_be_visible()
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert download.suggested_filename == f"hotline-report-department-{START}-{END}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert table["roads"]["Received"] == 3
    assert table["roads"]["Resolved on time"] == 0.5
    page.context.close()
