"""Attachments (issue 18 item 5) in headless Chromium: a unit's staff member adds an after-repair
photo on the ticket page and sees its thumbnail (served, decoded by the browser) on the page and
in the timeline. Same set-up as test_end_to_end (its live server and browser fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.extensions import db
from hotline.models import Attachment
from hotline.services.ticketing import tickets
from tests import attachment_files, factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]


def test_staff_add_an_after_repair_photo_and_see_the_thumbnail(
    app,
    city,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    monkeypatch,
    tmp_path: Path,
):
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
    number = ticket.number
    db.session.close()  # no open read transaction may block the server on SQLite
    photo = tmp_path / "after.jpg"
    photo.write_bytes(attachment_files.photo_with_location())

    page = new_page(browser, "en-US")
    page.goto(f"{live_server}/tickets/{number}")
    log_in(page, "roads_staff")
    form = page.locator("form.attachment-upload")
    form.locator("input[type=file]").set_input_files(str(photo))
    form.locator("select").select_option("after")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("Attachment added")

    thumbnail = page.locator(".attachments .attachment-after img")
    expect(thumbnail).to_be_visible()
    # The browser decoded the served thumbnail: a real picture, at most 320 px.
    width = thumbnail.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert 0 < width <= 320
    expect(page.locator(".timeline-attachment_added")).to_contain_text("Photo after handling")
    expect(page.locator(".timeline-attachment_added img")).to_be_visible()
    assert db.session.scalar(db.select(Attachment.kind)) == "after"
    page.screenshot(path=str(tmp_path / "attachment.png"), full_page=True)
