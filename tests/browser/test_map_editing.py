"""Editing on the maps, in headless Chromium (issue 18 items 2 and 4): the operator clicks the
intake map and the point, the district, the unit handling the place and the nearby duplicates
follow; a click outside the city is refused in words. Maps draw offline (no tile server).

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed."""

from __future__ import annotations

import pytest

from tests import factories, geo_city
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]


def test_clicking_the_intake_map_sets_the_point_and_the_district(app, city, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    geo_city.load()
    pothole = factories.make_routed_ticket(
        city.operator,
        caller_phone="13912345678",
        district=None,
        address="人民路北口",
        description="车开过去很颠，轮胎都要坏了",
        lat=geo_city.EAST[0] + 0.0003,
        long=geo_city.EAST[1],
    )
    page = new_page(browser, locale="en")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/login")
    log_in(page, "operator")
    page.goto(f"{live_server}/tickets/new?phone=13700137000")
    expect(page.locator("#intake-map[data-ready=true]")).to_have_count(1)
    page.select_option("#district", "")
    expect(page.locator("#lat")).to_have_value("")

    # A click outside every district: refused in words, nothing set.
    page.locator("#intake-map").click(position={"x": 3, "y": 3})
    expect(page.locator("#intake-map-error")).to_contain_text("outside the city")
    expect(page.locator("#lat")).to_have_value("")

    # A click on 人民路 (the second place by name): the point, the district, the unit, the duplicates.
    page.locator("#intake-map path.map-place").nth(1).click(force=True)
    expect(page.locator("#district")).to_have_value("east")
    expect(page.locator("#intake-map-error")).to_be_hidden()
    expect(page.locator("#point-unit")).to_contain_text("人民路")
    expect(page.locator("#point-unit")).to_contain_text("道路管理局")
    assert abs(float(page.input_value("#lat")) - geo_city.EAST[0]) < 0.0002
    assert abs(float(page.input_value("#long")) - geo_city.EAST[1]) < 0.0002
    expect(page.locator("#point-shown")).to_be_visible()
    expect(page.locator("#intake-map path.intake-pin")).to_have_count(1)
    expect(page.locator(f"#likely-duplicates .duplicate[data-number='{pothole.number}']")).to_be_visible()
    assert errors == []
