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


def test_a_supervisor_draws_an_area_and_sees_the_tickets_inside(app, city, live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    geo_city.load()
    inside = [
        factories.make_routed_ticket(city.operator, lat=39.906, long=116.406, address="人民路南口"),
        factories.make_routed_ticket(city.operator, lat=39.907, long=116.408, category="water-supply"),
    ]
    outside = factories.make_routed_ticket(city.operator, lat=39.914, long=116.414)
    page = new_page(browser, locale="en")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/login")
    log_in(page, "supervisor")
    page.goto(f"{live_server}/maps/city")
    expect(page.locator("#map path.map-ticket")).to_have_count(3)

    def click_at(lat: float, long: float) -> None:
        point = page.evaluate(
            f"() => document.getElementById('map').leafletMap.latLngToContainerPoint([{lat}, {long}])"
        )
        page.locator("#map").click(position={"x": point["x"], "y": point["y"]})

    # A bow tie first: its edges cross, and the server says so; the drawing stays to try again.
    page.click("#area-start")
    # South-west, north-west, south-east, then north-east: the last edge crosses the second.
    for lat, long in ((39.905, 116.405), (39.915, 116.405), (39.905, 116.415), (39.915, 116.415)):
        click_at(lat, long)
    expect(page.locator("#area-status")).to_contain_text("4 points")
    expect(page.locator("#map path.area-draft")).to_have_count(1)
    page.fill("#area-name", "人民路坑洼")
    page.click("#area-save")
    expect(page.locator("#area-error")).to_contain_text("cross each other")
    page.click("#area-undo")  # the north-east corner: the triangle south-west of the diagonal is left
    expect(page.locator("#area-status")).to_contain_text("3 points")
    page.click("#area-save")

    expect(page.locator("#area-count")).to_have_attribute("data-count", "2")
    expect(page.locator("#area-count")).to_contain_text("2 tickets inside")
    for ticket in inside:
        expect(page.locator(f"#area-tickets tr[data-number='{ticket.number}']")).to_have_count(1)
    expect(page.locator(f"#area-tickets tr[data-number='{outside.number}']")).to_have_count(0)
    expect(page.locator("#map path.map-area")).to_have_count(1)
    # The dashboard's filters apply to the area's tickets too.
    page.select_option("#map-category", "water-supply")
    page.click(".map-filters button[type=submit]")
    expect(page.locator("#area-count")).to_have_attribute("data-count", "1")
    page.click("#area-delete")
    expect(page.locator("#area-list")).to_have_count(0)
    assert errors == []
