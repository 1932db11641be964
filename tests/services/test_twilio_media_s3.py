"""A voicemail's recording when attachments are kept in S3 (issue 18 item 5; moto's server,
tests/s3_server.py): kept in the bucket; and while S3 cannot take it, the job fails so that RQ
tries it again, instead of giving the recording up as a bad file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment
from hotline.services.platform.file_errors import StorageUnavailable
from hotline.tasks import media
from tests import attachment_files as files
from tests import fake_twilio
from tests.services.test_twilio_media import RECORDING_PATH, voicemail_ticket


def test_the_recording_is_kept_in_the_bucket(app, city, monkeypatch, s3_attachments):
    with fake_twilio.running(app, monkeypatch) as fake:
        fake.media[RECORDING_PATH] = ("audio/x-wav", files.wav())
        attachment_id = media.keep_recording(voicemail_ticket().id)
    attachment = db.session.get(Attachment, attachment_id)
    assert s3_attachments.keys() == [attachment.key]
    assert s3_attachments.get(attachment.key) == files.wav()


def test_s3_without_its_bucket_fails_the_job_for_a_retry_and_keeps_it_later(app, city, monkeypatch, s3_attachments):
    with fake_twilio.running(app, monkeypatch) as fake:
        fake.media[RECORDING_PATH] = ("audio/x-wav", files.wav())
        ticket_id = voicemail_ticket().id
        s3_attachments.client.delete_bucket(Bucket=s3_attachments.name)
        with pytest.raises(StorageUnavailable):
            media.keep_recording(ticket_id)
        assert db.session.scalars(select(Attachment)).all() == []
        s3_attachments.client.create_bucket(Bucket=s3_attachments.name)  # S3 is back: the retry keeps it
        assert media.keep_recording(ticket_id) is not None
    assert len(s3_attachments.keys()) == 1
