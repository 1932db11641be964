"""The operators' console in headless Chromium: a call that comes in while the page is open
appears by polling, with the caller's earlier tickets; "answer" opens the intake form
pre-filled, and the ticket logged there is linked to the call.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to pytest's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Call, Ticket
from hotline.services.citizens import calls
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]


def test_a_ringing_call_is_answered_into_the_intake_form(app, city, live_server, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    earlier = factories.make_ticket(city.operator, category="water-supply", description="上月小区停水")
    earlier_number = earlier.number
    db.session.commit()
    db.session.close()  # no open read transaction may block the server's writes on SQLite

    page = new_page(browser)
    print(f"screenshots in {tmp_path}")

    page.goto(f"{live_server}/console/")
    log_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#live-empty")).to_be_visible()
    expect(page.locator("nav .nav-link.active")).to_have_text("来电面板")

    # The call comes in while the page is open: the next poll shows it.
    calls.log_call("CA" + "7" * 32, "+8613800138000", "+8653112345")
    db.session.close()
    row = page.locator("#live-calls li[data-sid='CA" + "7" * 32 + "']")
    expect(row).to_be_visible()
    expect(row.locator(".call-phone")).to_have_text("13800138000")
    expect(row.locator(".call-status")).to_have_text("振铃中")
    expect(row.locator(".call-history")).to_contain_text(earlier_number)
    expect(row.locator(".call-elapsed")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(page.locator("#live-empty")).to_be_hidden()
    expect(page.locator("#console-status")).to_contain_text("已刷新")
    page.screenshot(path=str(tmp_path / "01-console-ringing.png"), full_page=True)

    row.locator("button.answer-button").click()
    expect(page).to_have_url(re.compile(r"/tickets/new\?phone=13800138000&call=CA7+$"))
    expect(page.locator("#caller_phone")).to_have_value("13800138000")
    expect(page.locator("#caller-history")).to_contain_text(earlier_number)
    expect(page.locator("#intake-form input[name=call]")).to_have_value("CA" + "7" * 32)
    page.fill("#caller_name", "王先生")
    page.select_option("#type", "complaint")
    page.select_option("#category", "potholes")
    page.fill("#description", "人民路路灯不亮已经一周。")
    page.screenshot(path=str(tmp_path / "02-intake-from-call.png"), full_page=True)
    page.click("#intake-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
    number = page.url.rsplit("/", 1)[1]

    call = db.session.scalar(select(Call).where(Call.call_sid == "CA" + "7" * 32))
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert call.ticket_id == ticket.id and call.answered_at is not None
    db.session.close()

    # Back on the console the call is on the line, with its ticket; once it ends, it leaves.
    page.goto(f"{live_server}/console/")
    expect(row.locator(".call-status")).to_have_text("通话中")
    expect(row).to_contain_text(number)
    call = db.session.scalar(select(Call).where(Call.call_sid == "CA" + "7" * 32))
    calls.end_call(call, "completed")
    db.session.close()
    expect(row).to_have_count(0)
    expect(page.locator("#live-empty")).to_be_visible()
    page.context.close()
