"""The routing-rule form's assisting departments (issue 16 leftover): the searchable
multi-select of the dispatch desk (static/multiselect.js), not a Ctrl-click list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import RoutingRule
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_rule_form_chooses_assisting_departments_by_search(app, city, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    factories.make_department("gas", "燃气公司")
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite
    page = new_page(browser, locale="en")
    page.goto(f"{live_server}/login")
    log_in(page, "admin")
    page.goto(f"{live_server}/admin/routing-rules/new")
    form = page.locator("form.rule-form")
    expect(form.locator("select[name=assisting]")).to_be_hidden()  # the script took it over
    search = form.locator(".multiselect-search")
    options = form.locator(".multiselect-option")
    search.fill("燃气")
    expect(options).to_have_count(1)
    search.press("Enter")
    search.fill("water")  # by code too
    expect(options).to_have_count(1)
    search.press("Enter")
    search.fill("没有这个")
    expect(form.locator(".multiselect-options")).to_contain_text("No department matches.")
    search.fill("")
    expect(form.locator(".multiselect-chip")).to_have_count(2)
    form.locator(".multiselect-chip").filter(has_text="水务局").get_by_role("button").click()
    expect(form.locator(".multiselect-chip")).to_have_count(1)
    search.press("Escape")
    form.locator("input[name=name]").fill("燃气协办")
    form.locator("input[name=priority]").fill("5")
    form.locator("select[name=department]").select_option("roads")
    form.locator("textarea[name=keywords]").fill("燃气")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_be_visible()
    db.session.expire_all()
    rule = db.session.scalar(select(RoutingRule).where(RoutingRule.name == "燃气协办"))
    assert rule is not None
    assert sorted(d.code for d in rule.assisting) == ["gas"]
