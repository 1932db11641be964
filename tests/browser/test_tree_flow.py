"""Units in a tree in headless Chromium (issue 17): the district sends a ticket down to a street
office, the street's handler signs for it and replies, the district approves the reply; the
chain of units shows on the ticket page meanwhile."""

from __future__ import annotations

import re

import pytest

from hotline.extensions import db
from hotline.services.ticketing import tickets
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]


def test_district_sends_down_street_replies_district_approves(app, city, live_server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    street = factories.make_department("roads-east", "东城街道办事处")
    street.parent = city.roads
    db.session.commit()
    factories.make_user("department", street, username="east_staff")
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
    number = ticket.number
    db.session.close()
    page = new_page(browser)

    def log_out() -> None:
        page.click("#account-menu")
        page.click("form[action='/logout'] button")

    page.goto(f"{live_server}/tickets/{number}")
    log_in(page, "roads_staff")
    expect(page).to_have_url(re.compile(f"/tickets/{number}$"))
    page.click("#subdispatch-card summary")
    page.select_option("#subdispatch-department", "roads-east")
    page.fill("#subdispatch-note", "请街道现场核实")
    page.click(f"form[action='/tickets/{number}/subdispatch'] button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("已下派至 东城街道办事处")
    expect(page.locator("#holders .holder")).to_have_count(2)
    expect(page.locator("#holders .holder").nth(1)).to_contain_text("东城街道办事处")
    page.screenshot(path=str(tmp_path / "sent-down.png"), full_page=True)
    page.goto(f"{live_server}/tickets/sent-down")
    expect(page.locator("#sent-down")).to_contain_text(number)
    log_out()

    page.goto(f"{live_server}/tickets/{number}")
    log_in(page, "east_staff")
    page.click(f"form[action='/tickets/{number}/accept'] button")
    expect(page.locator(".alert-success")).to_contain_text(f"工单 {number} 已签收")
    expect(page.locator("#handler")).to_contain_text("east_staff")
    page.fill("#resolution", "街道已现场处理，路面已修复。")
    page.click(f"form[action='/tickets/{number}/resolve'] button")
    log_out()

    page.goto(f"{live_server}/tickets/{number}")
    log_in(page, "roads_staff")
    expect(page.locator("#pending-reply")).to_contain_text("街道已现场处理，路面已修复。")
    page.click("#pending-reply button[value=approve]")
    expect(page.locator(".alert-success")).to_contain_text("审核通过")
    expect(page.locator(".timeline")).to_contain_text("已下派")
    expect(page.locator(".timeline")).to_contain_text("街道已现场处理")
    page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
