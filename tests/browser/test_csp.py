"""The content security policy breaks no page: every desk's pages, opened in headless Chromium
by the role that uses them, log no CSP violation, and their scripts still run.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for

from hotline.extensions import db
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

# (role, endpoint, arguments): the pages each role works in; "{number}" is the test ticket.
PAGES = [
    ("operator", "intake.new_ticket", {"phone": "13800138000"}),
    ("operator", "console.index", {}),
    ("operator", "tickets.index", {}),
    ("operator", "tickets.show", {"number": "{number}"}),
    ("dispatcher", "dispatch.queue", {}),
    ("roads_staff", "tickets.index", {}),
    ("roads_staff", "tickets.show", {"number": "{number}"}),
    ("supervisor", "reports.response_times", {}),
    ("supervisor", "reports.misrouting", {}),
    ("supervisor", "supervision.overdue", {}),
    ("supervisor", "supervision.failed_logins", {}),
    ("supervisor", "tickets.views", {"number": "{number}"}),
    ("supervisor", "search.index", {"q": "路面"}),
    ("supervisor", "knowledge.index", {}),
    ("supervisor", "hotspots.index", {}),
    ("admin", "rules.index", {}),
    ("admin", "policies.index", {}),
    ("admin", "admin_calendar.index", {}),
    ("admin", "outbox.index", {}),
    ("admin", "admin_users.index", {}),
    ("admin", "admin_users.log", {}),
]
CSP_WORDS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


def _watcher(violations: list[str], role: str, page):
    def watch(message) -> None:
        if any(word in message.text for word in CSP_WORDS):
            violations.append(f"{role} {page.url}: {message.text}")

    return watch


def test_no_page_breaks_under_the_policy(app, city, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    ticket = factories.make_routed_ticket(city.operator)
    number = ticket.number
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite

    with app.test_request_context():
        pages = []
        for role, endpoint, args in PAGES:
            if endpoint not in app.view_functions:  # a desk another change has not added (yet)
                continue
            values = {k: v.format(number=number) for k, v in args.items()}
            pages.append((role, url_for(endpoint, **values)))
    assert len(pages) >= 15

    violations: list[str] = []
    for role in dict.fromkeys(role for role, _ in pages):
        page = new_page(browser, "en-US")
        page.on("console", _watcher(violations, role, page))
        page.goto(f"{live_server}/login")
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
        log_in(page, role)
        expect(page).not_to_have_url(re.compile(r"/login"))
        for page_role, path in pages:
            if page_role != role:
                continue
            response = page.goto(f"{live_server}{path}")
            assert response is not None and response.status == 200, (role, path)
            assert "default-src 'self'" in response.headers["content-security-policy"]
            # Bootstrap's script ran (a dropdown opens), so scripts from 'self' are allowed.
            assert page.evaluate("typeof window.bootstrap") == "object", (role, path)
        if role == "operator":
            # The intake page's own script fetches the caller's history as the number is typed.
            page.goto(f"{live_server}/tickets/new")
            page.fill("#caller_phone", "13800138000")
            expect(page.locator("#caller-history")).to_contain_text(number)
        if role == "admin":
            page.goto(f"{live_server}/tickets")
            page.click("text=Administration")
            expect(page.locator("a.dropdown-item[href='/admin/users/']")).to_be_visible()
        page.context.close()
    assert violations == []
