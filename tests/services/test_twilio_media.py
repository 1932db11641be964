"""A voicemail's recording kept as an attachment (issue 18 item 5): the voicemail enqueues the
job after its commit (real Redis), the job fetches the recording from the fake Twilio through
HTTP Basic auth and keeps it with the ticket, once; a URL that is not this account's Twilio
media is never fetched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, TicketEvent
from hotline.services.citizens import calls, twilio_media
from hotline.services.platform import queueing
from hotline.tasks import media
from tests import attachment_files as files
from tests import fake_twilio

RECORDING_PATH = f"/2010-04-01/Accounts/{fake_twilio.ACCOUNT_SID}/Recordings/RE{'a' * 32}"
RECORDING = "https://api.twilio.com" + RECORDING_PATH


def voicemail_ticket(sid: str = "CA1", url: str = RECORDING):
    calls.log_call(sid, "+8613800138000", fake_twilio.FROM_NUMBER)
    return calls.record_voicemail(sid, url, 20).ticket


def test_the_job_fetches_the_recording_with_twilio_auth_and_keeps_it_once(app, city, monkeypatch):
    with fake_twilio.running(app, monkeypatch) as fake:
        fake.media[RECORDING_PATH] = ("audio/x-wav", files.wav())
        ticket = voicemail_ticket()
        number, ticket_id = ticket.number, ticket.id
        first = media.keep_recording(ticket_id)
        again = media.keep_recording(ticket_id)  # at-least-once delivery: nothing twice
    kept = db.session.scalars(select(Attachment)).all()
    assert [a.id for a in kept] == [first] and again == first
    (attachment,) = kept
    assert (attachment.kind, attachment.content_type, attachment.source) == ("recording", "audio/wav", "voicemail")
    assert attachment.ticket.number == number and attachment.size == len(files.wav())
    fetched = [r for r in fake.requests if r.method == "GET"]
    assert [r.path for r in fetched] == [RECORDING_PATH] and fetched[0].authorized
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "attachment_added")).all()
    assert len(events) == 1 and events[0].actor is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com" + RECORDING_PATH,  # another host
        "http://api.twilio.com" + RECORDING_PATH,  # not https
        "https://api.twilio.com/2010-04-01/Accounts/ACother/Recordings/RE1",  # another account
        "https://api.twilio.com:8443" + RECORDING_PATH,
    ],
)
def test_a_url_that_is_not_this_accounts_twilio_media_is_never_fetched(app, city, monkeypatch, url):
    with fake_twilio.running(app, monkeypatch) as fake:
        fake.media[RECORDING_PATH] = ("audio/x-wav", files.wav())
        ticket_id = voicemail_ticket(url=url).id
        with pytest.raises(twilio_media.MediaRefused):
            twilio_media.media_url(url)
        assert media.keep_recording(ticket_id) is None
    assert [r for r in fake.requests if r.method == "GET"] == []
    assert db.session.scalars(select(Attachment)).all() == []


def test_a_disguised_recording_is_not_kept(app, city, monkeypatch):
    with fake_twilio.running(app, monkeypatch) as fake:
        fake.media[RECORDING_PATH] = ("audio/x-wav", files.EXE)
        ticket_id = voicemail_ticket().id
        assert media.keep_recording(ticket_id) is None  # refused once, not retried: logged
    assert db.session.scalars(select(Attachment)).all() == []


def test_the_voicemail_enqueues_the_job_after_its_commit(app, city, queue):
    ticket = voicemail_ticket()
    jobs = [job for job in queue.get_jobs() if job.func_name == queueing.KEEP_RECORDING]
    assert [job.args for job in jobs] == [(ticket.id,)]
