"""The citizen's own web report at phone size (issue 18 item 6), in headless Chromium at 390 px: the
citizen proves a phone with the code texted by the fake Twilio, reports a broken streetlight with
a pin on the map and a photo it marks public, gets the number by text, sees the ticket on /status
and, after the unit answers (driven through the services), the answer and the photo (re-encoded,
without the EXIF location it was taken with) on the public board. Screenshots are kept in the
test's output folder (printed).

Same set-up as test_end_to_end (its live server and browser fixtures); texts are sent by calling
the outbox, as a worker would; no Redis needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services.citizens import outbox
from hotline.services.platform import queueing
from hotline.services.ticketing import tickets
from tests import attachment_files, factories, fake_twilio, geo_city
from tests.browser.test_end_to_end import TIMEOUT_MS, browser, live_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

PHONE = "+8613900139000"


def texts_to(fake) -> list[str]:
    for message_id in outbox.due_ids():
        outbox.send(message_id)
    return [m["Body"] for m in fake.messages() if m["To"] == PHONE]


def test_a_citizen_reports_a_broken_streetlight_from_a_phone(
    app,
    city,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    monkeypatch,
    tmp_path: Path,
):
    from playwright.sync_api import expect

    factories.make_category("streetlights", city.roads, city.infrastructure, name="路灯")
    geo_city.load()
    monkeypatch.setattr(queueing, "enqueue_send", lambda message_id: False)
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)
    print(f"screenshots in {tmp_path}")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The strict content security policy breaks nothing on the citizen's pages (as test_csp checks the desks').
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))

    def shot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    with fake_twilio.running(app, monkeypatch) as fake:
        page.goto(f"{live_server}/report")
        expect(page.locator("h1")).to_have_text("反映问题")
        shot("01-phone")
        page.fill("#phone", "139 0013 9000")
        page.click("#step-phone [type=submit]")
        expect(page.locator("#step-code")).to_be_visible()
        code = re.search(r"\d{6}", texts_to(fake)[-1]).group(0)
        page.fill("#code", code)
        shot("02-code")
        page.click("#step-code form[action='/report/verify'] [type=submit]")
        expect(page.locator("#step-report")).to_be_visible()
        # The page fits the phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.select_option("#topic", "streetlight")
        page.fill("#description", "人民路口的路灯坏了，晚上一片漆黑。")
        box = page.locator("#report-map").bounding_box()
        # The city's two districts side by side: the right half of the map is the east district.
        page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5)
        expect(page.locator("#point-shown")).to_be_visible()
        expect(page.locator("#report-map path.report-pin")).to_have_count(1)
        assert page.input_value("#lat") and page.input_value("#long")
        page.check("#public")
        photo = tmp_path / "streetlight.jpg"
        photo.write_bytes(attachment_files.photo_with_location())  # taken with the phone's location
        page.set_input_files("#photos", str(photo))
        expect(page.locator("#photos_public")).not_to_be_checked()  # private unless the citizen says so
        page.check("#photos_public")
        shot("03-report-with-pin")
        page.click("#step-report form[action='/report'] [type=submit]")
        expect(page.locator("#report-done")).to_be_visible()
        number = page.locator(".report-number").inner_text()
        shot("04-received")

        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.channel == "web" and ticket.district_id == city.east.id
        kept = db.session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
        assert (kept.kind, kept.public, kept.filename) == ("photo", True, "streetlight.jpg")
        assert any(number in body for body in texts_to(fake))  # the number, by text

    page.goto(f"{live_server}/status")
    page.fill("#number", number)
    page.fill("#digits", "9000")
    page.click("form[action='/status'] [type=submit]")
    expect(page.locator("#result-title")).to_contain_text(number)
    shot("05-status")

    # The roads department takes it and answers, through the services.
    routed = tickets.route(ticket.id)
    tickets.accept(city.roads_staff, routed)
    tickets.resolve(city.roads_staff, routed, "路灯已更换，今晚恢复照明，感谢您的反映。")

    page.goto(f"{live_server}/board")
    entry = page.locator(".board-entry").first
    expect(entry.locator(".board-request")).to_contain_text("人民路口的路灯坏了")
    expect(entry.locator(".board-answer")).to_contain_text("路灯已更换，今晚恢复照明")
    # The photo beside the request: a real picture the browser decoded, served without its location.
    thumbnail = entry.locator(".board-photos img")
    expect(thumbnail).to_have_count(1)
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert 0 < thumbnail.evaluate("img => img.naturalWidth") <= 320
    served = page.request.get(f"{live_server}{entry.locator('.board-photos a').get_attribute('href')}")
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert not attachment_files.gps_of(served.body()) and not attachment_files.has_exif(served.body())
    expect(entry).not_to_contain_text(number)
    expect(entry).not_to_contain_text("9000")
    shot("06-board")
    assert errors == []
    context.close()
