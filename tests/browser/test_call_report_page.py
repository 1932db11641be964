"""The phone line's figures (接通率) in headless Chromium: a supervisor opens the calls report
from the reports' tabs, reads the totals of a known call log, and switches to the table per
hour; then the same page in Chinese.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to pytest's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.extensions import db
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.call_log import RANGE, build_known_log

pytestmark = [pytest.mark.browser]


def test_supervisor_reads_the_phone_lines_figures(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    build_known_log(city)
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite
    print(f"screenshots in {tmp_path}")

    page = new_page(browser, "en-US")
    page.goto(f"{live_server}/reports/misrouting?{RANGE}")
    log_in(page, "supervisor")
    # The reports' tab keeps the dates (the menu's entry of the same name does not; until the
    # stylesheet applies, the menu's closed dropdown counts as visible too).
    page.locator("main").get_by_role("link", name="Phone line", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/reports/calls\?{RANGE}$"))
    total = page.locator("#calls tfoot tr[data-key='total'] td")
    expect(total.nth(1)).to_have_text("7")  # offered
    expect(total.nth(3)).to_have_text("57.1%")  # answer rate
    expect(total.nth(5)).to_have_text("42.9%")  # answered within 15 s
    expect(total.nth(6)).to_have_text("2")  # abandoned
    expect(page.locator("#calls tbody tr")).to_have_count(2)  # two days
    page.screenshot(path=str(tmp_path / "01-calls-per-day.png"), full_page=True)

    page.select_option("#group_by", "hour")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#calls tbody tr")).to_have_count(3)
    expect(page.locator("#calls tbody tr[data-key='2026-11-25T10:00'] td").nth(1)).to_have_text("5")
    page.screenshot(path=str(tmp_path / "02-calls-per-hour.png"), full_page=True)
    page.context.close()

    page = new_page(browser, "zh-CN")
    page.goto(f"{live_server}/reports/calls?{RANGE}&group_by=operator")
    log_in(page, "supervisor")
    expect(page.locator("#calls thead")).to_contain_text("接通率")
    expect(page.locator("#calls thead")).to_contain_text("15秒接通率")
    expect(page.locator("#calls tbody tr[data-key=''] td").first).to_have_text("无话务员")
    page.screenshot(path=str(tmp_path / "03-calls-per-operator-zh.png"), full_page=True)
    page.context.close()
