"""A citizen's MMS pictures kept as the ticket's attachments (issue 18 item 5).

The text comes to `POST /twilio/sms` signed as Twilio signs it (NumMedia, MediaUrl0,
MediaContentType0); the text is logged and committed first, then a job on the urgent queue (real
Redis, a real RQ worker process) fetches each picture from the fake Twilio (HTTP Basic auth, then
Twilio's redirect to its CDN) and keeps it through the one attachments service. A disguised or
oversized picture stores nothing and says so on the ticket's timeline; Twilio away: the job is
retried, and the text is never lost."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, InboundMessage, TicketEvent
from hotline.services.citizens import twilio_media
from hotline.services.platform import queueing
from hotline.tasks import media
from tests import attachment_files as files
from tests import factories, fake_twilio
from tests.telephony.test_sms_webhook import reload, reply_of, text
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.redis]


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


@pytest.fixture
def store(app: Flask) -> Iterator[Path]:
    """The attachments' folder, empty before and after (the worker process writes there too)."""
    root = Path(app.config["HOTLINE_ATTACHMENTS_DIR"])
    for path in stored(root):
        os.unlink(path)
    yield root
    for path in stored(root):
        os.unlink(path)


def stored(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def mms(client, body: str, *pictures: tuple[str, str]):
    """A text with pictures: (MediaUrl, MediaContentType) each."""
    extra = {"NumMedia": str(len(pictures))}
    for index, (url, content_type) in enumerate(pictures):
        extra |= {f"MediaUrl{index}": url, f"MediaContentType{index}": content_type}
    return text(client, body, **extra)


def worker(app: Flask, fake: fake_twilio.FakeTwilio) -> str:
    return run_burst_worker(
        **fake_twilio.worker_env(fake), HOTLINE_ATTACHMENTS_DIR=str(app.config["HOTLINE_ATTACHMENTS_DIR"])
    )


def notes(ticket_id: int) -> list[dict]:
    """The timeline's notes of pictures not kept (by id: a job ends its session, detaching rows)."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(TicketEvent.data).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == twilio_media.NOT_KEPT
            )
        )
    )


def media_jobs(queue: Queue) -> list:
    return [job for job in queue.get_jobs() if job.func_name == queueing.KEEP_MEDIA]


@pytest.mark.worker
def test_an_mms_picture_is_fetched_by_a_worker_and_kept_with_the_senders_ticket(
    app, client, city, queue, twilio, store
):
    other = factories.make_routed_ticket(city.operator, caller_phone="13900139000")
    ticket = factories.make_routed_ticket(city.operator)  # the sender's (+8613800138000) open ticket
    photo = files.photo_with_location()
    url = twilio.add_mms_media("image/jpeg", photo)

    reply = reply_of(mms(client, "坑在这里，请看照片", (url, "image/jpeg")))

    assert f"工单{ticket.number}" in reply
    # The text is logged and committed before anything is fetched; the job waits on the urgent queue.
    event = [e for e in reload(ticket).events if e.kind == "citizen_message"][-1]
    assert event.data == {"text": "坑在这里，请看照片", "channel": "sms", "media": 1}
    assert [(job.origin, job.args) for job in media_jobs(queue)] == [(queue.name, (ticket.id, [url]))]
    assert twilio.media_requests() == []

    output = worker(app, twilio)

    assert queue.failed_job_registry.count == 0, output
    (attachment,) = db.session.scalars(select(Attachment)).all()
    assert attachment.ticket_id == ticket.id and attachment.ticket_id != other.id
    assert (attachment.kind, attachment.content_type, attachment.source) == ("photo", "image/jpeg", "mms")
    assert attachment.public is False and attachment.added_by is None and attachment.thumbnail_key
    kept = (store / attachment.key).read_bytes()
    assert not files.has_exif(kept) and not files.gps_of(kept)  # re-encoded like any upload
    assert (store / attachment.thumbnail_key).is_file()
    # Fetched with the account's Basic auth, then from Twilio's CDN where it redirected.
    first, then = twilio.media_requests()
    assert first.path == url.removeprefix("https://api.twilio.com") and first.authorized and first.answered == 200
    assert then.path.startswith(fake_twilio.CDN_PREFIX)
    assert [e.kind for e in reload(ticket).events].count("attachment_added") == 1
    assert notes(ticket.id) == []


@pytest.mark.worker
def test_twilio_away_the_job_is_retried_and_the_text_is_never_lost(app, client, city, queue, twilio, store):
    ticket = factories.make_routed_ticket(city.operator)
    url = twilio.add_mms_media("image/png", files.photo_with_location(fmt="PNG"))
    twilio.fail_media_next(503)

    reply_of(mms(client, "照片", (url, "image/png")))
    output = worker(app, twilio)

    # The text is there; the picture is not yet, and its job waits for its retry.
    inbound = db.session.scalar(select(InboundMessage))
    assert (inbound.meaning, inbound.body, inbound.ticket_id) == ("message", "照片", ticket.id)
    assert db.session.scalars(select(Attachment)).all() == [] and stored(store) == []
    scheduled = [queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()]
    (retry,) = [job for job in scheduled if job is not None and job.func_name == queueing.KEEP_MEDIA]
    assert retry.args == (ticket.id, [url]) and retry.retries_left == 2, output
    assert notes(ticket.id) == []  # not given up: no note yet

    # Ten seconds later (moved here rather than waited for), Twilio answers again.
    queue.scheduled_job_registry.remove(retry)
    queue.enqueue_job(retry)
    output = worker(app, twilio)

    (attachment,) = db.session.scalars(select(Attachment)).all()
    assert (attachment.ticket_id, attachment.source, attachment.content_type) == (ticket.id, "mms", "image/jpeg")
    assert queue.failed_job_registry.count == 0, output


def test_on_the_last_try_the_timeline_says_the_pictures_could_not_be_fetched(city, twilio, store):
    ticket_id = factories.make_routed_ticket(city.operator).id
    kept_url = twilio.add_mms_media("image/jpeg", files.photo_with_location())
    lost_url = twilio.add_mms_media("image/jpeg", files.photo_with_location())
    twilio.fail_media_next(500, times=1)
    urls = [lost_url, kept_url]

    assert media.keep_media(ticket_id, urls) == []  # outside a job: no retry left

    assert notes(ticket_id) == [{"why": "unreachable", "media": [twilio_media.media_sid(url) for url in urls]}]
    assert db.session.scalars(select(Attachment)).all() == []


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (files.EXE, "refused"),  # a program sent as a picture
        (files.HTML, "refused"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "refused"),  # a JPEG's first bytes, and nothing after
        (files.photo_with_location() + b"\0" * 30_000, "too_large"),  # over the limit: not even read
    ],
)
def test_a_disguised_or_oversized_picture_stores_nothing_and_the_timeline_says_why(
    app, city, twilio, store, monkeypatch, data, why
):
    monkeypatch.setitem(app.config, "HOTLINE_ATTACHMENT_MAX_BYTES", 20_000)
    ticket_id = factories.make_routed_ticket(city.operator).id
    good = files.photo_with_location(size=(40, 30))
    bad_url = twilio.add_mms_media("image/jpeg", data)
    good_url = twilio.add_mms_media("image/jpeg", good)

    kept = media.keep_media(ticket_id, [bad_url, good_url])
    again = media.keep_media(ticket_id, [bad_url, good_url])  # delivered twice: nothing twice

    assert [a.id for a in db.session.scalars(select(Attachment))] == kept == again  # the good one only
    assert notes(ticket_id) == [{"why": why, "media": [twilio_media.media_sid(bad_url)]}]
    assert len(stored(store)) == 2  # the good photo and its thumbnail


def test_a_url_that_is_not_this_accounts_twilio_media_is_never_fetched(city, twilio, store):
    ticket_id = factories.make_routed_ticket(city.operator).id
    url = twilio.add_mms_media("image/jpeg", files.photo_with_location())
    elsewhere = url.replace("https://api.twilio.com", "https://evil.example.com")

    assert media.keep_media(ticket_id, [elsewhere]) == []

    assert twilio.media_requests() == []
    assert notes(ticket_id) == [{"why": "not_twilio", "media": [twilio_media.media_sid(url)]}]


def test_with_redis_away_the_text_is_kept_and_the_timeline_says_the_pictures_were_not(
    app, client, city, twilio, monkeypatch
):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    ticket = factories.make_routed_ticket(city.operator)
    url = twilio.add_mms_media("image/jpeg", files.photo_with_location())

    reply = reply_of(mms(client, "", (url, "image/jpeg")))  # a picture without words

    assert f"工单{ticket.number}" in reply
    kinds = [e.kind for e in reload(ticket).events]
    assert kinds[-2:] == ["citizen_message", twilio_media.NOT_KEPT]
    assert notes(ticket.id) == [{"why": "not_queued", "media": [twilio_media.media_sid(url)]}]


def test_the_webhook_takes_at_most_twilios_ten_pictures_and_skips_empty_urls(client, city, queue, twilio):
    ticket = factories.make_routed_ticket(city.operator)
    urls = [twilio.add_mms_media("image/jpeg", b"x") for _ in range(12)]
    pictures = [(url, "image/jpeg") for url in urls]
    pictures[1] = ("", "image/jpeg")

    reply_of(mms(client, "多张照片", *pictures))

    (job,) = media_jobs(queue)
    assert job.args == (ticket.id, [urls[0], *urls[2:10]])


def test_pictures_sent_with_a_ticket_number_go_to_that_ticket(client, city, queue, twilio):
    named = factories.make_routed_ticket(city.operator)
    factories.make_routed_ticket(city.operator)  # the sender's latest: not this one
    url = twilio.add_mms_media("image/jpeg", files.photo_with_location())

    reply = reply_of(mms(client, f"{named.number} 现场照片", (url, "image/jpeg")))

    assert named.number in reply  # answered with its status, as any text naming a ticket
    (job,) = media_jobs(queue)
    assert job.args == (named.id, [url])
    event = [e for e in reload(named).events if e.kind == "citizen_message"][-1]
    assert event.data == {"text": f"{named.number} 现场照片", "channel": "sms", "media": 1}
