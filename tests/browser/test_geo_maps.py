"""Where it happened, in headless Chromium: issue 18's first "Done when", the whole story.

A citizen's Open311 client (`civicbot`) files a pothole with `lat`/`long` and a `media_url`
(its photo on the app's photo host, which the city lists; fetched and kept, not public); later an operator
logs a call about the same pothole: finds the address in the gazetteer from the keyboard, the
district fills itself, the earlier request is offered as a nearby duplicate, and the call is
logged with the photo the caller sent. A dispatcher merges the new ticket into the earlier one on
its page (operators may log calls, not merge them). The roads department's staff see the ticket
on their map, open it, add an after-repair photo they mark public, and resolve; the supervisor's
map shows it. A reader (`georeport`) reads the request back: its point, and a `media_url` only
once a photo is public, serving the photo without the EXIF location it was taken with. Maps
draw offline: no tile server, the district outlines are the background.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed (routing
is run through the services, as a worker would). Screenshots go to the test's output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from civicbot import Endpoint, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Status, Ticket
from hotline.services.accounts.users import issue_token
from hotline.services.platform import queueing
from hotline.services.ticketing import tickets
from tests import attachment_files, geo_city, media_server
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

POTHOLE_POINT = (geo_city.EAST[0] + 0.0003, geo_city.EAST[1])  # 33 m north of 人民路's gazetteer point


@pytest.fixture
def media_host():
    """The photo host of the citizen's app, where its client's `media_url` points."""
    with media_server.running() as host:
        yield host


def test_gazetteer_nearby_duplicate_merged_and_the_maps(
    app,
    city,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    monkeypatch,
    tmp_path: Path,
    media_host,
):
    from playwright.sync_api import expect

    geo_city.load()
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)  # routed below, as a worker would
    print(f"screenshots in {tmp_path}")
    open311 = f"{live_server}/open311/v2"

    # A citizen's Open311 client files the pothole with its point and its photo's URL.
    media_host.files["/photos/pothole.jpg"] = attachment_files.photo_with_location()
    monkeypatch.setitem(app.config, "HOTLINE_OPEN311_MEDIA_HOSTS", media_host.host)
    filer = Open311Client(
        Endpoint(id="hotline", name="12345 Hotline", base_url=open311, write=True),
        transport=HttpTransport(timeout=10, rate_limiter=RateLimiter(min_interval=0)),
    )
    sent = filer.create_request(
        "potholes",
        dry_run=False,
        confirm="SEND",
        api_key=issue_token(city.operator),
        validate_remote=True,
        lat=POTHOLE_POINT[0],
        lng=POTHOLE_POINT[1],  # civicbot spells it lng and sends the spec's `long`
        description="车开过去很颠，轮胎都要坏了",
        phone="13912345678",
        media_url=media_host.url("/photos/pothole.jpg"),
    )
    (answer,) = sent.response
    pothole = answer["service_request_id"]
    db.session.expire_all()
    tickets.route(db.session.scalar(select(Ticket.id).where(Ticket.number == pothole)))
    reader = GeoReport(open311)
    read = reader.get_service_request(pothole)
    assert (float(read["lat"]), float(read["long"])) == POTHOLE_POINT
    assert read["media_url"] is None  # no photo is public yet
    (citizens,) = db.session.scalars(select(Attachment)).all()  # the photo, fetched and kept
    assert (citizens.ticket.number, citizens.source, citizens.public) == (pothole, "open311", False)
    db.session.close()  # no open read transaction may block the server's writes on SQLite

    # The operator logs a call about the same pothole, with the photo the caller sent.
    page = new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/login")
    log_in(page, "operator")
    page.goto(f"{live_server}/tickets/new?phone=13700137000")
    page.select_option("#type", "complaint")
    page.select_option("#category", "potholes")
    page.fill("#address", "")
    page.focus("#address")
    page.keyboard.insert_text("人民")
    expect(page.locator("#place-matches [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#address")).to_have_value("人民路")
    expect(page.locator("#district")).to_have_value("east")
    assert page.input_value("#lat") == str(geo_city.EAST[0])
    page.fill("#description", "人民路上有个大坑，刚才差点摔倒。")
    duplicate = page.locator(f"#likely-duplicates .duplicate[data-number='{pothole}']")
    expect(duplicate).to_be_visible()
    expect(duplicate).to_contain_text("33")  # metres away, 相距 33 米
    caller_photo = tmp_path / "caller.jpg"
    caller_photo.write_bytes(attachment_files.photo_with_location())
    page.set_input_files("#files", str(caller_photo))
    page.screenshot(path=str(tmp_path / "01-intake.png"), full_page=True)
    page.click("#intake-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("-")  # the new ticket's page, titled by its number
    logged = page.url.rsplit("/", 1)[-1]
    assert logged != pothole
    expect(page.locator(".attachments img")).to_have_count(1)  # the caller's photo, kept with it

    # A dispatcher merges the new ticket into the earlier one, on its page.
    desk = new_page(browser)
    desk.goto(f"{live_server}/tickets/{logged}")
    log_in(desk, "dispatcher")
    desk.locator("details:has(#merge-into) > summary").click()  # "Merge into another ticket"
    desk.fill("#merge-into", pothole)
    desk.locator(f"form[action='/tickets/{logged}/merge'] button[type=submit]").click()
    expect(desk.locator(".alert-success")).to_contain_text(pothole)
    expect(desk.locator(".merged-into")).to_contain_text(pothole)

    # The roads department's staff see it on their map, open it, add an after-repair photo
    # they mark public, and resolve.
    staff = new_page(browser)
    staff.on("pageerror", lambda error: errors.append(str(error)))
    staff.goto(f"{live_server}/login")
    log_in(staff, "roads_staff")
    staff.goto(f"{live_server}/maps/unit")
    marker = staff.locator(f"#map path.map-ticket[data-number='{pothole}']")
    expect(marker).to_have_count(1)
    expect(staff.locator("#map path.leaflet-interactive")).to_have_count(2 + 3 + 1)  # outlines, places, ticket
    staff.screenshot(path=str(tmp_path / "02-unit-map.png"), full_page=True)
    marker.click(force=True)
    staff.locator(".leaflet-popup-content a").click()
    expect(staff).to_have_url(f"{live_server}/tickets/{pothole}")
    staff.click(f"form[action='/tickets/{pothole}/accept'] button")
    after = tmp_path / "after.jpg"
    after.write_bytes(attachment_files.photo_with_location())
    upload = staff.locator("form.attachment-upload")
    upload.locator("input[type=file]").set_input_files(str(after))
    upload.locator("select").select_option("after")
    upload.locator("input[type=checkbox]").check()  # may be shown publicly
    upload.locator("button[type=submit]").click()
    expect(staff.locator(".attachments .attachment-after img")).to_be_visible()
    staff.fill("#resolution", "已填平人民路的坑洼并压实，感谢反映。")
    staff.click(f"form[action='/tickets/{pothole}/resolve'] button")
    expect(staff.locator(".status-badge").first).to_contain_text("已办结")
    staff.screenshot(path=str(tmp_path / "03-resolved.png"), full_page=True)

    # The supervisor's map shows it (all tickets, not only open ones: it is resolved now).
    supervisor = new_page(browser)
    supervisor.on("pageerror", lambda error: errors.append(str(error)))
    supervisor.goto(f"{live_server}/login")
    log_in(supervisor, "supervisor")
    supervisor.goto(f"{live_server}/maps/city?scope=all")
    marker = supervisor.locator(f"#map path.map-ticket[data-number='{pothole}']")
    expect(marker).to_have_count(1)
    marker.click(force=True)
    expect(supervisor.locator(".leaflet-popup-content a")).to_have_attribute("href", f"/tickets/{pothole}")
    supervisor.screenshot(path=str(tmp_path / "04-city-map.png"), full_page=True)

    # The citizen's reader reads it back: the point, and now the public photo's media_url.
    db.session.expire_all()
    public = db.session.scalar(select(Attachment).where(Attachment.public.is_(True)))
    assert public.kind == "after" and public.ticket.number == pothole
    assert public.ticket.status == Status.RESOLVED
    read = reader.get_service_request(pothole)
    assert (float(read["lat"]), float(read["long"])) == POTHOLE_POINT
    assert read["status"] == "closed" and "已填平" in read["status_notes"]
    assert read["media_url"].endswith(f"/open311/v2/media/{pothole}/{public.id}")
    assert filer.get_request(pothole)["media_url"] == read["media_url"]
    served = page.request.get(read["media_url"])
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert not attachment_files.gps_of(served.body()) and not attachment_files.has_exif(served.body())
    # The caller's photo at intake was not marked public: the merged ticket publishes none.
    merged = reader.get_service_request(logged)
    assert merged["media_url"] is None and pothole in merged["status_notes"]
    assert errors == []
