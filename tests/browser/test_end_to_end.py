"""End to end in headless Chromium: a call is logged, routed by a real RQ worker,
accepted and resolved by the department, and counted in the supervisor's report.

The session app is served from a thread (the test database is a file, or
PostgreSQL, so both threads see the same data); the browser speaks Chinese.
Screenshots of each step go to pytest's tmp dir (printed on failure).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from hotline.extensions import db, jobs
from hotline.models import Status, Ticket
from hotline.services.reporting import report_figures
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.workers import empty_queue

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.worker]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 15_000


def new_page(browser, locale: str = "zh-CN", **options):
    """A page in a fresh context (no cookies) at a laptop's size, with the tests' timeout."""
    context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def log_in(page, username: str) -> None:
    """Fill the login form the page shows (the locale switch has a submit button of its own)."""
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.click("form[action='/login'] button[type=submit]")


def need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not available: install it at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def run_worker() -> None:
    """Run the queued jobs here, as a worker process would, until the queue is empty."""
    from rq import SimpleWorker

    SimpleWorker([jobs.queue], connection=jobs.connection).work(burst=True)


def test_call_to_report(redis_url, app, city, live_server, browser, tmp_path: Path):
    from playwright.sync_api import expect

    assert jobs.queue is not None, "TEST_REDIS_URL is set but the app has no queue"
    empty_queue(jobs.queue)  # jobs and handed-over ids left by other tests name tickets that no longer exist
    earlier = factories.make_ticket(city.operator, category="water-supply", description="上月小区停水")
    earlier_number, roads_id = earlier.number, city.roads.id  # the worker's session.remove() detaches rows
    db.session.commit()
    db.session.close()  # no open read transaction may block the server's writes on SQLite

    page = new_page(browser)
    shots = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{next(shots):02d}-{name}.png"), full_page=True)

    def log_out() -> None:
        page.click("#account-menu")  # logging out is in the menu named by the user
        page.click("form[action='/logout'] button")
        expect(page).to_have_url(re.compile(r"/login$"))

    print(f"screenshots in {tmp_path}")

    # The CTI system opens the intake form with the caller's number; the operator logs in first.
    page.goto(f"{live_server}/tickets/new?phone=13800138000")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/tickets/new\?phone=13800138000$"))
    expect(page.locator("#caller_phone")).to_have_value("13800138000")
    expect(page.locator("#caller-history")).to_contain_text(earlier_number)
    # Typing another number refreshes the history (debounced script), then back again.
    page.fill("#caller_phone", "13912345678")
    expect(page.locator("#caller-history")).to_contain_text("该号码没有历史工单")
    page.fill("#caller_phone", "138 0013 8000")
    expect(page.locator("#caller-history")).to_contain_text(earlier_number)
    page.fill("#caller_name", "王先生")
    page.select_option("#type", "complaint")
    page.select_option("#category", "potholes")
    page.select_option("#district", "east")
    page.fill("#address", "东城区人民路 12 号")
    page.fill("#description", "人民路与解放路交叉口路面塌陷，晚上很危险，请尽快处理。")
    shot("intake-form")
    page.click("#intake-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator(".alert-success")).to_contain_text(f"工单 {number} 已受理")
    expect(page.locator("h1 + .badge")).to_have_text("新建")
    shot("ticket-logged")
    log_out()

    # The routing job runs on a real RQ worker and sends the ticket to the roads department.
    run_worker()
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    assert ticket.status == Status.DISPATCHED
    assert ticket.department_id == roads_id
    db.session.close()

    # The department signs for it on its workbench and replies.
    log_in(page, "roads_staff")
    expect(page).to_have_url(re.compile(r"/tickets$"))
    row = page.locator("tr", has=page.locator(f"a:text-is('{number}')"))
    expect(row).to_contain_text("138****8000")
    expect(page.locator("body")).not_to_contain_text("13800138000")
    shot("workbench")
    row.locator("a", has_text=number).click()
    expect(page).to_have_url(re.compile(f"/tickets/{number}$"))
    page.click(f"form[action='/tickets/{number}/accept'] button")
    expect(page.locator(".alert-success")).to_contain_text(f"工单 {number} 已签收")
    page.fill("#resolution", "已安排养护队修复路面，并设置了警示标志。")
    shot("accepted")
    page.click(f"form[action='/tickets/{number}/resolve'] button")
    expect(page.locator(".alert-success")).to_contain_text(f"工单 {number} 已办结")
    expect(page.locator(".timeline")).to_contain_text("已安排养护队修复路面")
    shot("resolved")
    log_out()

    # The supervisor's report counts it, once the sweep has refreshed the day's figures.
    report_figures.refresh_dirty()
    db.session.close()
    log_in(page, "supervisor")
    expect(page).to_have_url(re.compile(r"/reports/response-times$"))
    roads = page.locator("#table-volumes tr[data-department='roads']")
    expect(roads.locator("td").nth(0)).to_have_text("道路管理局")
    expect(roads.locator("td[data-col='received']")).to_have_text("1")
    expect(roads.locator("td[data-col='resolved']")).to_have_text("1")
    rates = page.locator("#table-rates tr[data-department='roads']")
    expect(rates.locator("td[data-col='resolved_on_time_rate']")).to_have_text("100.0%")
    shot("report")

    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    assert ticket.status == Status.RESOLVED
    assert [event.kind for event in ticket.events] == ["created", "routed", "accepted", "resolved"]
    page.context.close()
