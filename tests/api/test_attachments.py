"""Attachments over the API (issue 18 item 5): POST /tickets/<number>/attachments and GET of each
one's url; type by content, size limits, images re-encoded without EXIF, seen only by those who
may see the ticket, and bad input stores nothing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from hotline.extensions import db
from hotline.models import Attachment, TicketEvent
from tests import attachment_files as files
from tests import factories
from tests.api.helpers import assert_error


def url(ticket) -> str:
    return f"/api/v1/tickets/{ticket.number}/attachments"


def upload(client, ticket, data: bytes, name: str = "photo.jpg", **form):
    body = {"file": (io.BytesIO(data), name), **form}
    return client.post(url(ticket), data=body, content_type="multipart/form-data")


@pytest.fixture
def routed(city):
    return factories.make_routed_ticket(city.operator)  # roads holds it


def stored_files(app) -> list[Path]:
    root = Path(app.config["HOTLINE_ATTACHMENTS_DIR"])
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def clean_store(app):
    for path in stored_files(app):
        os.unlink(path)
    yield
    for path in stored_files(app):
        os.unlink(path)


def test_a_photo_is_kept_reencoded_without_its_location_and_listed_on_the_ticket(api, city, routed, app, clean_store):
    original = files.photo_with_location()
    assert files.gps_of(original)  # the test's photo does carry a location
    staff = api(city.roads_staff)
    response = upload(staff, routed, original, kind="after")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"id", "kind", "content_type", "size", "created_at", "url"}
    assert (body["kind"], body["content_type"]) == ("after", "image/jpeg")
    assert response.headers["Location"] == body["url"]

    kept = staff.get(body["url"])
    assert kept.status_code == 200 and kept.mimetype == "image/jpeg"
    assert len(kept.data) == body["size"]
    assert not files.has_exif(kept.data) and not files.gps_of(kept.data)
    assert Image.open(io.BytesIO(kept.data)).size == (800, 600)
    thumb = staff.get(body["url"] + "/thumbnail")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert not files.has_exif(thumb.data)
    # Nothing with the location is on disk either.
    assert all(b"SecretPhone" not in path.read_bytes() for path in stored_files(app))

    ticket = api(city.operator).get(f"/api/v1/tickets/{routed.number}").get_json()
    assert ticket["attachments"] == [body]
    assert ticket["events"][-1]["kind"] == "attachment_added"
    assert ticket["events"][-1]["data"]["attachment"] == body["id"]


def test_documents_and_recordings_are_typed_by_content(api, city, routed, clean_store):
    staff = api(city.roads_staff)
    doc = upload(staff, routed, files.pdf(), name="reply.bin")
    assert doc.status_code == 201 and doc.get_json()["content_type"] == "application/pdf"
    assert doc.get_json()["kind"] == "document"
    assert staff.get(doc.get_json()["url"]).data == files.pdf()
    sound = upload(staff, routed, files.wav(), name="voice.jpg")
    assert sound.get_json()["kind"] == "recording" and sound.get_json()["content_type"] == "audio/wav"
    assert staff.get(sound.get_json()["url"]).headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("data", "name", "form", "status", "field"),
    [
        (files.EXE, "photo.jpg", {}, 400, "file"),  # a program named like a photo
        (files.HTML, "photo.png", {}, 400, "file"),
        (b"", "photo.jpg", {}, 400, "file"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "broken.jpg", {}, 400, "file"),  # a JPEG's start and nothing else
        (files.photo_with_location(), "p.jpg", {"kind": "receipt"}, 400, "kind"),
        (files.pdf(), "doc.pdf", {"kind": "after"}, 400, "kind"),
        (files.pdf(), "doc.pdf", {"public": "true"}, 400, "public"),  # only photos are public
        (files.photo_with_location(), "p.jpg", {"public": "maybe"}, 400, "public"),
    ],
)
def test_bad_files_get_a_clear_error_and_store_nothing(
    api, city, routed, app, clean_store, data, name, form, status, field
):
    response = upload(api(city.roads_staff), routed, data, name=name, **form)
    assert_error(response, status, "invalid_input", field)
    assert db.session.query(Attachment).count() == 0
    assert db.session.query(TicketEvent).filter_by(kind="attachment_added").count() == 0
    assert stored_files(app) == []


def test_an_oversized_file_gets_413_naming_the_limit_and_stores_nothing(api, city, routed, app, clean_store):
    app.config["HOTLINE_ATTACHMENT_MAX_BYTES"] = 4096
    try:
        response = upload(api(city.roads_staff), routed, files.photo_with_location((1200, 900)))
        body = assert_error(response, 413, "payload_too_large", "file")
        assert "4 KB" in body["detail"]
        # A file just over the limit in a small body: read, measured, refused.
        response = upload(api(city.roads_staff), routed, files.pdf() + b"x" * 4096)
        assert_error(response, 413, "payload_too_large", "file")
    finally:
        app.config["HOTLINE_ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    assert db.session.query(Attachment).count() == 0 and stored_files(app) == []


def test_no_file_field_and_not_multipart(api, city, routed):
    staff = api(city.roads_staff)
    assert_error(
        staff.post(url(routed), data={"public": "1"}, content_type="multipart/form-data"), 400, "invalid_input", "file"
    )
    assert_error(staff.post(url(routed), json={"file": "x"}), 415, "unsupported_media_type")


def test_only_those_who_may_see_the_ticket_attach_or_read(api, city, routed, clean_store):
    photo = upload(api(city.roads_staff), routed, files.photo_with_location()).get_json()
    water = api(city.water_staff)  # another department: the ticket is hidden from it
    assert_error(water.get(photo["url"]), 404, "not_found")
    assert_error(water.get(photo["url"] + "/thumbnail"), 404, "not_found")
    assert_error(upload(water, routed, files.pdf()), 404, "not_found")
    assert db.session.query(Attachment).count() == 1
    # An attachment's id under another ticket, even a visible one, is not found.
    other = factories.make_routed_ticket(city.operator)
    assert_error(api(city.roads_staff).get(f"{url(other)}/{photo['id']}"), 404, "not_found")
    assert api(city.supervisor).get(photo["url"]).status_code == 200
    assert api(city.operator).get(photo["url"]).status_code == 200
