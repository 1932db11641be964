"""Open311 and attachments (issue 18 item 5): a client uploads a photo in the field "media" with
its request; `media_url` answers only a photo marked public (re-encoded, without EXIF), and a bad
file refuses the whole request and opens no ticket."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services.ticketing import attachment_publicity, attachments
from tests import attachment_files as files
from tests.open311.test_open311 import BASE, EN, api_key, assert_error, get, ticket_count, valid  # noqa: F401


def post_with(client, fields: dict, data: bytes, name: str = "pothole.jpg"):
    body = {**fields, "media": (io.BytesIO(data), name)}
    return client.post(f"{BASE}/requests.json", data=body, headers=EN, content_type="multipart/form-data")


def test_an_uploaded_photo_is_kept_but_not_published_until_marked_public(client, city, valid):  # noqa: F811
    answer = post_with(client, valid, files.photo_with_location())
    assert answer.status_code == 200, answer.get_data(as_text=True)
    number = answer.get_json()[0]["service_request_id"]
    photo = db.session.scalar(select(Attachment))
    assert photo.ticket.number == number and photo.source == "open311" and not photo.public
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert body["media_url"] is None  # not marked public
    assert client.get(f"{BASE}/media/{number}/{photo.id}").status_code == 404

    attachment_publicity.set_public(city.dispatcher, photo.ticket, photo.id, True)  # the desk marks it public
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert body["media_url"].endswith(f"/open311/v2/media/{number}/{photo.id}")
    served = client.get(body["media_url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not files.has_exif(served.data) and not files.gps_of(served.data)
    (listed,) = [r for r in get(client, "/requests.json").get_json() if r["service_request_id"] == number]
    assert listed["media_url"] == body["media_url"]


def test_a_public_photo_of_a_confidential_ticket_is_not_published(client, city, api):
    from tests import factories

    ticket = factories.make_ticket(city.operator, confidential=True)
    photo = attachments.add(city.supervisor, ticket, files.photo_with_location(), public=True)
    assert client.get(f"{BASE}/media/{ticket.number}/{photo.id}").status_code == 404


@pytest.mark.parametrize(("data", "status"), [(files.EXE, 400), (b"", 400), (files.HTML, 400)])
def test_a_bad_file_refuses_the_request_and_opens_nothing(client, city, valid, data, status):  # noqa: F811
    before = ticket_count()
    assert_error(post_with(client, valid, data, name="photo.jpg"), status)
    assert ticket_count() == before
    assert db.session.scalar(select(Attachment)) is None


def test_an_oversized_file_is_413_and_opens_nothing(client, city, valid, app):  # noqa: F811
    app.config["HOTLINE_ATTACHMENT_MAX_BYTES"] = 2048
    try:
        before = ticket_count()
        assert_error(post_with(client, valid, files.photo_with_location((1000, 800))), 413)
        assert ticket_count() == before
    finally:
        app.config["HOTLINE_ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    assert db.session.scalar(select(Ticket).where(Ticket.channel == "open311")) is None
