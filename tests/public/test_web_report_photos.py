"""Photos on the citizen's /report (issue 18 item 6): up to HOTLINE_REPORT_MAX_PHOTOS, each checked
as the ticket page's upload is; shown publicly (the board, Open311's media_url) only when the
citizen says so, re-encoded without EXIF location; a bad photo refuses the report and opens
nothing; the limits against floods still hold."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket, WebReport
from hotline.services.ticketing import tickets
from tests import attachment_files as files
from tests import factories, geo_city
from tests.public import test_web_report as web
from tests.public.test_web_report import EN, prove, text

# The web report tests' fixtures: the streetlight category and the city's geography, Twilio's fake,
# texts sent by the test.
streetlights = web.streetlights
twilio = web.twilio
_texts_sent_by_the_test = web._texts_sent_by_the_test


def report_with(client, photos: list[tuple[bytes, str]], **fields):
    """The report form as the page sends it (multipart), with these photos."""
    lat, long = geo_city.EAST
    data = {"topic": "streetlight", "description": "人民路 12 号门口的路灯不亮了。", "lat": str(lat), "long": str(long)}
    data.update(fields)
    data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post("/report", data=data, headers=EN, content_type="multipart/form-data")


def board_html(client) -> str:
    return text(client.get("/board", headers=EN))


def test_a_public_photo_is_kept_and_shown_on_the_board_without_its_location(client, city, streetlights, twilio):
    prove(client, twilio)
    response = report_with(client, [(files.photo_with_location(), "lamp.jpg")], public="y", photos_public="y")
    assert response.status_code == 303, text(response)
    ticket = db.session.scalar(select(Ticket))
    photo = db.session.scalar(select(Attachment))
    assert (photo.ticket_id, photo.kind, photo.public, photo.source, photo.added_by) == (
        ticket.id,
        "photo",
        True,
        "web",
        None,
    )
    html = board_html(client)
    assert f"/board/photos/{photo.id}/thumbnail" in html
    served = client.get(f"/board/photos/{photo.id}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not files.has_exif(served.data) and not files.gps_of(served.data)
    assert client.get(f"/board/photos/{photo.id}/thumbnail").status_code == 200
    # Open311 publishes it too (media_url), as any photo marked public.
    (published,) = client.get(f"/open311/v2/requests/{ticket.number}.json").get_json()
    assert published["media_url"].endswith(f"/open311/v2/media/{ticket.number}/{photo.id}")


def test_a_photo_not_marked_public_is_kept_for_staff_and_never_shown(client, city, streetlights, twilio, login):
    prove(client, twilio)
    response = report_with(client, [(files.photo_with_location(), "lamp.jpg")], public="y")
    assert response.status_code == 303, text(response)
    photo = db.session.scalar(select(Attachment))
    assert not photo.public
    assert "/board/photos/" not in board_html(client)
    assert client.get(f"/board/photos/{photo.id}").status_code == 404
    assert client.get(f"/board/photos/{photo.id}/thumbnail").status_code == 404
    (published,) = client.get(f"/open311/v2/requests/{photo.ticket.number}.json").get_json()
    assert published["media_url"] is None
    staff = login(city.operator)  # staff who may see the ticket see the photo
    assert staff.get(f"/tickets/{photo.ticket.number}/attachments/{photo.id}").status_code == 200


def test_a_public_photo_of_a_report_kept_off_the_board_is_not_served_there(client, city, streetlights, twilio):
    prove(client, twilio)
    response = report_with(client, [(files.photo_with_location(), "lamp.jpg")], photos_public="y")  # no board
    assert response.status_code == 303
    photo = db.session.scalar(select(Attachment))
    assert photo.public and client.get(f"/board/photos/{photo.id}").status_code == 404
    assert "lamp" not in board_html(client) and "/board/photos/" not in board_html(client)


def test_a_confidential_ticket_shows_no_photo(client, city, streetlights, twilio):
    prove(client, twilio)
    report_with(client, [(files.photo_with_location(), "lamp.jpg")], public="y", photos_public="y")
    photo = db.session.scalar(select(Attachment))
    photo.ticket.confidential = True
    db.session.commit()
    assert client.get(f"/board/photos/{photo.id}").status_code == 404


def test_another_tickets_public_photo_is_not_served_by_the_board(client, city):
    """A photo marked public on a ticket that is no web report (staff's upload): Open311's, not the board's."""
    from hotline.services.ticketing import attachments

    ticket = factories.make_routed_ticket(city.operator)
    photo = attachments.add(city.roads_staff, ticket, files.photo_with_location(), public=True)
    assert client.get(f"/board/photos/{photo.id}").status_code == 404


def test_the_units_public_after_photo_shows_beside_the_answer(client, city, streetlights, twilio):
    from hotline.services.ticketing import attachments

    prove(client, twilio)
    report_with(client, [], public="y")
    ticket = db.session.scalar(select(Ticket))
    accepted = tickets.accept(city.roads_staff, tickets.route(ticket.id))
    after = attachments.add(city.roads_staff, accepted, files.photo_with_location(), kind="after", public=True)
    tickets.resolve(city.roads_staff, accepted, "路灯已更换。")
    html = board_html(client)
    assert f"/board/photos/{after.id}/thumbnail" in html and "路灯已更换。" in html


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (files.EXE, "lamp.jpg", "lamp.jpg: This file is not a photo"),
        (files.pdf(), "lamp.pdf", "lamp.pdf: Only photos can be sent here"),
        (b"", "empty.jpg", "empty.jpg: The file is empty."),
    ],
)
def test_a_bad_photo_refuses_the_report_keeps_what_was_typed_and_opens_nothing(
    client, city, streetlights, twilio, data, name, message
):
    prove(client, twilio)
    response = report_with(client, [(files.photo_with_location(), "good.jpg"), (data, name)], public="y")
    page = text(response)
    assert response.status_code == 400
    assert message in page
    assert "人民路 12 号门口的路灯不亮了。" in page  # the description comes back
    assert db.session.query(Ticket).count() == 0 and db.session.query(Attachment).count() == 0
    assert db.session.query(WebReport).count() == 0


def test_a_photo_over_the_size_limit_and_too_many_photos_are_refused(
    client, city, streetlights, twilio, app, monkeypatch
):
    prove(client, twilio)
    monkeypatch.setitem(app.config, "HOTLINE_ATTACHMENT_MAX_BYTES", 50_000)
    big = files.photo_with_location((1600, 1200)) + b"\0" * 60_000
    response = report_with(client, [(big, "big.jpg")])
    assert response.status_code == 413
    assert "big.jpg: The file is too large: at most 48 KB." in text(response)
    monkeypatch.setitem(app.config, "HOTLINE_REPORT_MAX_PHOTOS", 2)
    response = report_with(client, [(files.photo_with_location((40, 30)), f"{n}.jpg") for n in range(3)])
    assert response.status_code == 400 and "At most 2 files can be sent at once." in text(response)
    assert db.session.query(Ticket).count() == 0 and db.session.query(Attachment).count() == 0


def test_the_limits_still_hold_for_reports_with_photos(client, city, streetlights, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_REPORTS_PER_PHONE", 1)
    prove(client, twilio)
    assert report_with(client, [(files.photo_with_location(), "a.jpg")]).status_code == 303
    refused = report_with(client, [(files.photo_with_location(), "b.jpg")], description="另一盏路灯也不亮了。")
    assert refused.status_code == 429
    assert db.session.query(Ticket).count() == 1 and db.session.query(Attachment).count() == 1


def test_the_page_offers_photos_and_asks_before_showing_them(client, city, streetlights, twilio):
    prove(client, twilio)
    page = text(client.get("/report", headers=EN))
    assert 'enctype="multipart/form-data"' in page
    assert 'name="photos"' in page and "multiple" in page
    assert 'name="photos_public"' in page and 'name="photos_public" type="checkbox" value="y">' in page  # unticked
