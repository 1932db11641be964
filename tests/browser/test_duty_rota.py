"""The duty rota page in a browser (issue 17 item 4): the unit lead adds a weekly rule and a
dated shift, sees who is on duty this week, and removes the shift; a wrong end time is refused
with a message and nothing saved. Same set-up as test_end_to_end (live server, browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import DutyPattern, DutyShift, Role
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_unit_lead_keeps_the_rota_on_its_page(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    lead = factories.make_user(Role.DEPARTMENT, city.roads, username="roads_lead")
    lead.is_unit_lead = True
    lead.display_name = "李值班"
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite
    print(f"screenshots in {tmp_path}")

    page = new_page(browser, "zh-CN")
    page.goto(f"{live_server}/duty/")
    log_in(page, "roads_lead")
    expect(page.locator("h1")).to_contain_text("道路管理局")

    # A weekly rule: the lead on working-day nights.
    page.select_option("#pattern-user", "roads_lead")
    page.select_option("#pattern-kind", "workday")
    page.fill("#pattern-starts", "18:00")
    page.fill("#pattern-ends", "09:00")
    page.locator("#add-pattern button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#duty-patterns")).to_contain_text("18:00–09:00")
    expect(page.locator("#duty-week")).to_contain_text("李值班")
    assert count(DutyPattern) == 1

    # A shift that ends before it starts: refused, nothing saved.
    page.select_option("#shift-user", "roads_staff")
    page.fill("#shift-starts", "2030-01-05T18:00")
    page.fill("#shift-ends", "2030-01-05T08:00")
    page.fill("#shift-phone", "13900139000")
    page.locator("#add-shift button[type=submit]").click()
    expect(page.locator(".alert-danger")).to_contain_text("结束时间必须晚于开始时间")
    assert count(DutyShift) == 0

    page.select_option("#shift-user", "roads_staff")
    page.fill("#shift-starts", "2030-01-05T18:00")
    page.fill("#shift-ends", "2030-01-06T09:00")
    page.fill("#shift-phone", "13900139000")
    page.locator("#add-shift button[type=submit]").click()
    expect(page.locator("#duty-shifts")).to_contain_text("2030-01-05 18:00")
    page.screenshot(path=str(tmp_path / "zh-duty-rota.png"), full_page=True)
    assert count(DutyShift) == 1

    page.locator("#duty-shifts button[type=submit]").click()
    expect(page.locator("#duty-shifts")).to_contain_text("暂无指定日期班次")
    assert count(DutyShift) == 0

    # Another unit's staff may not see it.
    other = new_page(browser, "zh-CN")
    response = None
    other.goto(f"{live_server}/duty/roads")
    log_in(other, "water_staff")
    response = other.goto(f"{live_server}/duty/roads")
    assert response is not None and response.status == 403
