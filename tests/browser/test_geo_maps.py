"""Where it happened, in headless Chromium (issue 18): the operator finds an address in the
gazetteer from the keyboard, the district fills itself and a nearby ticket about the same pothole
is offered as a duplicate; the unit's staff see the ticket on their map, and the supervisor's
map shows it. Maps draw offline: no tile server, the district outlines are the background.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed."""

from __future__ import annotations

import pytest

from tests import factories, geo_city
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]


def test_gazetteer_nearby_duplicate_and_the_maps(app, city, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    geo_city.load()
    # Another caller reported the same pothole on 人民路 earlier, in other words.
    pothole = factories.make_routed_ticket(
        city.operator,
        caller_phone="13912345678",
        address="人民路北口",
        description="车开过去很颠，轮胎都要坏了",
        lat=geo_city.EAST[0] + 0.0003,
        long=geo_city.EAST[1],
    )

    page = new_page(browser)
    page.goto(f"{live_server}/login")
    log_in(page, "operator")
    page.goto(f"{live_server}/tickets/new?phone=13700137000")
    page.fill("#address", "")
    page.focus("#address")
    page.keyboard.insert_text("人民")
    expect(page.locator("#place-matches [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#address")).to_have_value("人民路")
    expect(page.locator("#district")).to_have_value("east")
    assert page.input_value("#lat") == str(geo_city.EAST[0])
    duplicate = page.locator(f"#likely-duplicates .duplicate[data-number='{pothole.number}']")
    expect(duplicate).to_be_visible()
    expect(duplicate).to_contain_text("33")  # metres away, 相距 33 米

    staff = new_page(browser)
    staff.goto(f"{live_server}/login")
    log_in(staff, "roads_staff")
    errors = []
    staff.on("pageerror", lambda error: errors.append(str(error)))
    staff.goto(f"{live_server}/maps/unit")
    expect(staff.locator(f"#map path.map-ticket[data-number='{pothole.number}']")).to_have_count(1)
    expect(staff.locator("#map path.leaflet-interactive")).to_have_count(2 + 3 + 1)  # outlines, places, ticket
    assert errors == []

    supervisor = new_page(browser)
    supervisor.goto(f"{live_server}/login")
    log_in(supervisor, "supervisor")
    supervisor.goto(f"{live_server}/maps/city")
    marker = supervisor.locator(f"#map path.map-ticket[data-number='{pothole.number}']")
    expect(marker).to_have_count(1)
    marker.click(force=True)
    expect(supervisor.locator(".leaflet-popup-content a")).to_have_attribute("href", f"/tickets/{pothole.number}")
