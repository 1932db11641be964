"""Screenshots of pages that had none (issue 16): the administrator creates a user and resets a
password in the UI; the SLA policy list and form show when each clock would fall for a ticket
dispatched now; the supervisor's calls report (接通率). Each page is checked for what it shows
and its screenshot kept in the test's output folder (printed), in English and Chinese.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.extensions import db
from hotline.models import User
from hotline.services.clocks import policies
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.call_log import RANGE, build_known_log

pytestmark = [pytest.mark.browser]

NEW_PASSWORD = "river lantern quietly 42 pavement"


def test_admin_and_report_pages_have_screenshots(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    policy = policies.create_policy(
        city.admin,
        {
            "category": "potholes",
            "urgency": "normal",
            "accept_amount": 2,
            "accept_unit": "working_hours",
            "resolve_amount": 3,
            "resolve_unit": "working_days",
            "return_window_days": 1,
            "max_extension_days": 5,
        },
    )
    policy_id = policy.id
    build_known_log(city)
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite
    print(f"screenshots in {tmp_path}")

    def shot(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    for language, locale in (("en", "en-US"), ("zh", "zh-CN")):
        page = new_page(browser, locale)
        page.goto(f"{live_server}/admin/users/new")
        log_in(page, "admin")
        expect(page.locator("#new-user-form")).to_be_visible()
        shot(page, f"{language}-01-create-user")

        # Create a department user, then reset the password of the user just made.
        username = f"clerk-{language}"
        page.fill("#username", username)
        page.fill("#display_name", "王小明")
        page.select_option("#role", "department")
        page.select_option("#department", "water")
        page.fill("#password", NEW_PASSWORD)
        page.fill("#reason", "新入职")
        page.locator("#new-user-form button[type=submit]").click()
        expect(page.locator(".alert-success")).to_contain_text(username)
        expect(page.locator("#reset-password")).to_be_visible()
        shot(page, f"{language}-02-user-created")
        page.fill("#reset-reason", "忘记密码")
        page.locator("#reset-password button[type=submit]").click()
        password = page.locator("#new-password")
        expect(password).to_be_visible()
        assert len(password.inner_text().strip()) >= 12
        shot(page, f"{language}-03-password-reset")
        db.session.expire_all()
        assert db.session.scalar(db.select(User).where(User.username == username)).department.code == "water"

        # The SLA policies: each with when its clocks would fall for a ticket dispatched now.
        page.goto(f"{live_server}/admin/sla-policies/")
        expect(page.locator(".clock-preview").first).to_be_visible()
        expect(page.locator("#clock-preview-note")).to_be_visible()
        shot(page, f"{language}-04-sla-policies")
        page.goto(f"{live_server}/admin/sla-policies/{policy_id}/edit")
        expect(page.locator("#clock-preview")).to_be_visible()
        shot(page, f"{language}-05-sla-policy-preview")
        page.context.close()

        page = new_page(browser, locale)
        page.goto(f"{live_server}/reports/calls?{RANGE}")
        log_in(page, "supervisor")
        total = page.locator("#calls tfoot tr[data-key='total'] td")
        expect(total.nth(1)).to_have_text("7")  # offered (tests/call_log.py)
        shot(page, f"{language}-06-calls-report")
        page.context.close()
