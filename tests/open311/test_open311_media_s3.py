"""Open311 requests with a photo when attachments are kept in S3 (issue 18 item 5; moto's server,
tests/s3_server.py): the file reaches the bucket before the ticket opens, so that S3 down or
without its bucket refuses the request with a 503 and opens no ticket, and a request refused after
the file went up leaves nothing in the bucket."""

from __future__ import annotations

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment
from tests import attachment_files as files
from tests.open311.test_open311 import api_key, assert_error, ticket_count, valid  # noqa: F401
from tests.open311.test_open311_media import post_with


def test_a_photo_with_a_request_is_kept_in_the_bucket(client, city, valid, s3_attachments):  # noqa: F811
    answer = post_with(client, valid, files.photo_with_location())
    assert answer.status_code == 200, answer.get_data(as_text=True)
    photo = db.session.scalar(select(Attachment))
    assert photo.ticket.number == answer.get_json()[0]["service_request_id"]
    assert s3_attachments.keys() == sorted([photo.key, photo.thumbnail_key])
    assert b"SecretPhone" not in s3_attachments.get(photo.key)


def test_a_bucket_missing_refuses_the_request_with_503_and_opens_no_ticket(client, city, valid, s3_attachments):  # noqa: F811
    s3_attachments.remove()
    before = ticket_count()
    answer = post_with(client, valid, files.photo_with_location())
    assert_error(answer, 503)
    assert ticket_count() == before
    assert db.session.scalar(select(Attachment)) is None


def test_a_request_refused_after_its_photo_went_up_leaves_nothing_in_the_bucket(client, city, valid, s3_attachments):  # noqa: F811
    valid["attribute[district]"] = "atlantis"  # refused when the ticket is opened
    before = ticket_count()
    answer = post_with(client, valid, files.photo_with_location())
    assert_error(answer, 400)
    assert ticket_count() == before
    assert s3_attachments.keys() == []
