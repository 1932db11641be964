"""Attachments kept in S3-compatible object storage (issue 18 item 5), through the API and the
pages, against moto's server over HTTP (tests/s3_server.py), on SQLite and PostgreSQL: a file goes
up and comes back; S3 down or without its bucket is a clear 503 and saves nothing; a database that
refuses the attachment leaves no object behind."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline.extensions import db
from hotline.models import Attachment, TicketEvent
from tests import attachment_files as files
from tests import factories
from tests.api.helpers import assert_error
from tests.s3_server import free_port, s3_settings


def upload(client, ticket, data: bytes, name: str = "photo.jpg", **form):
    body = {"file": (io.BytesIO(data), name), **form}
    return client.post(f"/api/v1/tickets/{ticket.number}/attachments", data=body, content_type="multipart/form-data")


@pytest.fixture
def routed(city):
    return factories.make_routed_ticket(city.operator)  # roads holds it


def nothing_saved(bucket=None) -> None:
    db.session.expire_all()
    assert db.session.query(Attachment).count() == 0
    assert db.session.query(TicketEvent).filter_by(kind="attachment_added").count() == 0
    if bucket is not None:
        assert bucket.keys() == []


def test_a_photo_goes_up_to_s3_and_comes_back_through_the_api(api, city, routed, s3_attachments):
    staff = api(city.roads_staff)
    response = upload(staff, routed, files.photo_with_location(), kind="after")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    row = db.session.get(Attachment, body["id"])
    assert s3_attachments.keys() == sorted([row.key, row.thumbnail_key])
    assert s3_attachments.content_type(row.key) == "image/jpeg"
    kept = s3_attachments.get(row.key)
    assert b"SecretPhone" not in kept and not files.gps_of(kept)  # re-encoded before it went up

    got = staff.get(body["url"])
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert got.data == kept and int(got.headers["Content-Length"]) == body["size"] == len(kept)
    thumb = staff.get(body["url"] + "/thumbnail")
    assert thumb.status_code == 200 and thumb.data == s3_attachments.get(row.thumbnail_key)
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    # Seen only by those who may see the ticket, as with the folder.
    assert_error(api(city.water_staff).get(body["url"]), 404, "not_found")


def test_a_document_goes_up_and_comes_back(api, city, routed, s3_attachments):
    staff = api(city.roads_staff)
    body = upload(staff, routed, files.pdf(), name="reply.pdf").get_json()
    assert body["kind"] == "document"
    got = staff.get(body["url"])
    assert got.data == files.pdf() and got.headers["Content-Disposition"].startswith("attachment")


def test_a_bucket_missing_is_a_clear_503_and_saves_nothing(api, city, routed, s3_attachments):
    s3_attachments.remove()
    response = upload(api(city.roads_staff), routed, files.photo_with_location())
    body = assert_error(response, 503, "storage_unavailable")
    assert body["detail"] == "文件存储暂时无法连接，未保存任何内容。请过几分钟再试。"
    nothing_saved()


def test_s3_down_is_a_clear_503_on_upload_and_download(api, login, city, routed, s3_attachments, use_settings):
    staff = api(city.roads_staff)
    photo = upload(staff, routed, files.photo_with_location()).get_json()
    use_settings(**s3_settings(s3_attachments.name, f"http://127.0.0.1:{free_port()}"))  # the server is gone

    assert_error(upload(staff, routed, files.pdf(), name="doc.pdf"), 503, "storage_unavailable")
    assert db.session.query(Attachment).count() == 1  # only the first
    body = assert_error(staff.get(photo["url"]), 503, "storage_unavailable")
    assert body["detail"] == "文件存储暂时无法连接，请过几分钟再试。"
    assert_error(staff.get(photo["url"] + "/thumbnail"), 503, "storage_unavailable")

    # The ticket page's file link and upload form say so too, not a 500.
    page = login(city.roads_staff)
    shown = page.get(f"/tickets/{routed.number}/attachments/{photo['id']}")
    assert shown.status_code == 503
    assert "文件存储暂时无法连接" in shown.get_data(as_text=True)
    sent = page.post(
        f"/tickets/{routed.number}/attachments",
        data={"file": (io.BytesIO(files.pdf()), "doc.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert sent.status_code == 200 and "未保存任何内容" in sent.get_data(as_text=True)
    assert db.session.query(Attachment).count() == 1


def test_a_file_gone_from_the_bucket_is_404_not_500(api, city, routed, s3_attachments):
    staff = api(city.roads_staff)
    photo = upload(staff, routed, files.photo_with_location()).get_json()
    s3_attachments.client.delete_object(Bucket=s3_attachments.name, Key=db.session.get(Attachment, photo["id"]).key)
    body = assert_error(staff.get(photo["url"]), 404, "not_found")
    assert body["detail"] == "文件存储中找不到此附件的文件。"


@pytest.fixture
def database_refuses_attachments():
    """The database refuses the attachment's event row when the attachment is saved: a real
    error from the database (a trigger), at COMMIT on PostgreSQL (a deferred constraint trigger)."""
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as connection:
        if postgres:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_attachment() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'the database refuses'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE CONSTRAINT TRIGGER refuse_attachment AFTER INSERT ON ticket_event "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.kind = 'attachment_added') "
                    "EXECUTE FUNCTION refuse_attachment()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_attachment BEFORE INSERT ON ticket_event "
                    "WHEN NEW.kind = 'attachment_added' BEGIN SELECT RAISE(ABORT, 'the database refuses'); END"
                )
            )
    yield
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse_attachment" + (" ON ticket_event" if postgres else "")))
        if postgres:
            connection.execute(text("DROP FUNCTION refuse_attachment()"))


def test_a_failed_commit_leaves_no_object_in_the_bucket(
    api, city, routed, s3_attachments, database_refuses_attachments
):
    with pytest.raises(DBAPIError, match="the database refuses"):  # the testing app lets it through
        upload(api(city.roads_staff), routed, files.photo_with_location())
    nothing_saved(s3_attachments)
