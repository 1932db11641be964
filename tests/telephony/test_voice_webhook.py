"""Twilio's voice webhooks (`/twilio/voice...`), signed as Twilio signs them.

"Now" is set through the calls service's clock: 10:00 and 20:00 in Shanghai on Wednesday
2026-11-25, a working day, are in and out of the default office hours. The line here is one that
really closes (HOTLINE_VOICE_HOURS=office, set explicitly: the default is round the clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.extensions import db
from hotline.models import Call, OutboundMessage, Status, Ticket, TicketEvent
from hotline.services.citizens import calls
from hotline.services.reporting.call_report import call_report

TOKEN = "voice-test-auth-token-0123456789"
PHONE = "+8613800138000"
HOTLINE = "+8653112345"
IN_OFFICE = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Wednesday
AFTER_HOURS = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Recordings/RE" + "a" * 32
_sids = count(1)


@pytest.fixture(autouse=True)
def office_line(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "HOTLINE_VOICE_HOURS", "office")


@pytest.fixture
def signed(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)  # no jobs run by themselves


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    now = {"at": IN_OFFICE}
    monkeypatch.setattr(calls, "utcnow", lambda: now["at"])
    yield now


def post(client: FlaskClient, path: str, params: dict[str, str], *, token: str = TOKEN, signature: str | None = None):
    url = f"http://localhost{path}"
    header = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": header})


def new_sid() -> str:
    return f"CA{next(_sids):032d}"


def incoming(client: FlaskClient, sid: str | None = None, caller: str = PHONE, **extra: str):
    params = {"CallSid": sid or new_sid(), "From": caller, "To": HOTLINE, "CallStatus": "ringing", **extra}
    return post(client, "/twilio/voice", params)


def twiml(response) -> ElementTree.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def verbs(root: ElementTree.Element) -> list[str]:
    return [child.tag for child in root]


def says(root: ElementTree.Element) -> list[tuple[str, str]]:
    return [(say.get("language"), say.text or "") for say in root.findall("Say")]


def call_for(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


def count_of(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def leave_message(client: FlaskClient, sid: str, url: str = RECORDING, duration: str = "14", **extra: str):
    params = {"CallSid": sid, "From": PHONE, "To": HOTLINE, "RecordingUrl": url, "RecordingDuration": duration}
    return post(client, "/twilio/voice/recording", {**params, **extra})


def recording_status(client: FlaskClient, sid: str, status: str = "completed", url: str = RECORDING):
    params = {"CallSid": sid, "RecordingSid": "RE" + "a" * 32, "RecordingUrl": url, "RecordingStatus": status}
    return post(client, "/twilio/voice/recording", {**params, "RecordingDuration": "14"})


def transcribed(client: FlaskClient, sid: str, text: str, status: str = "completed"):
    params = {
        "CallSid": sid,
        "From": PHONE,
        "To": HOTLINE,
        "TranscriptionStatus": status,
        "TranscriptionText": text,
        "RecordingUrl": RECORDING,
    }
    return post(client, "/twilio/voice/transcription", params)


def call_status(client: FlaskClient, sid: str, status: str, **extra: str):
    return post(client, "/twilio/voice/status", {"CallSid": sid, "CallStatus": status, "From": PHONE, **extra})


# -- signatures -------------------------------------------------------------------------------


PATHS = [
    "/twilio/voice",
    "/twilio/voice/wait",
    "/twilio/voice/queue",
    "/twilio/voice/status",
    "/twilio/voice/recording",
    "/twilio/voice/transcription",
]


class TestSignature:
    @pytest.mark.parametrize("path", PATHS)
    def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(self, client, city, signed, path):
        params = {
            "CallSid": new_sid(),
            "From": PHONE,
            "CallStatus": "completed",
            "QueueResult": "leave",
            "RecordingUrl": RECORDING,
            "TranscriptionStatus": "completed",
            "TranscriptionText": "hello",
        }
        assert client.post(path, data=params).status_code == 403
        assert post(client, path, params, token="another-token").status_code == 403
        assert post(client, path, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
        assert count_of(Call) == 0 and count_of(Ticket) == 0

    def test_a_tampered_caller_is_refused(self, client, city, signed, clock):
        params = {"CallSid": new_sid(), "From": PHONE, "To": HOTLINE}
        signature = RequestValidator(TOKEN).compute_signature("http://localhost/twilio/voice", params)
        response = post(client, "/twilio/voice", {**params, "From": "+8613900139000"}, signature=signature)
        assert response.status_code == 403
        assert count_of(Call) == 0

    def test_without_an_auth_token_every_call_is_refused(self, client, city, app, monkeypatch):
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
        assert post(client, "/twilio/voice", {"CallSid": new_sid(), "From": PHONE}).status_code == 403


# -- the incoming call ------------------------------------------------------------------------


class TestIncomingCall:
    def test_in_office_hours_the_caller_is_greeted_in_both_languages_and_queued(self, client, city, signed, clock):
        sid = new_sid()
        root = twiml(incoming(client, sid))
        assert verbs(root) == ["Say", "Say", "Say", "Say", "Enqueue"]
        spoken = says(root)
        assert [language for language, _ in spoken] == ["zh-CN", "en-US", "zh-CN", "en-US"]
        assert "12345" in spoken[0][1] and "欢迎" in spoken[0][1]  # the Chinese greeting is Chinese
        assert spoken[1][1] == "Welcome to the 12345 citizen service hotline."
        enqueue = root.find("Enqueue")
        assert enqueue.text == "operators"
        assert enqueue.get("waitUrl") == "http://localhost/twilio/voice/wait"
        assert enqueue.get("action") == "http://localhost/twilio/voice/queue"
        assert enqueue.get("method") == "POST" and enqueue.get("waitUrlMethod") == "POST"
        call = call_for(sid)
        assert call.from_number == PHONE and call.to_number == HOTLINE
        assert call.status == calls.QUEUED and call.started_at == IN_OFFICE
        assert call.answered_at is None and call.ended_at is None and not call.missed

    def test_after_hours_the_caller_is_asked_for_a_message(self, client, city, signed, clock):
        clock["at"] = AFTER_HOURS
        sid = new_sid()
        root = twiml(incoming(client, sid))
        assert "Enqueue" not in verbs(root)
        assert verbs(root) == ["Say", "Say", "Say", "Say", "Record", "Say", "Say", "Hangup"]
        prompt = says(root)[2:4]
        assert "非工作时间" in prompt[0][1] and "留言" in prompt[0][1]
        assert prompt[1][1].startswith("Our operators are off duty now.")
        record = root.find("Record")
        assert record.get("transcribe") == "true"
        assert record.get("transcribeCallback") == "http://localhost/twilio/voice/transcription"
        assert record.get("action") == "http://localhost/twilio/voice/recording"
        assert record.get("recordingStatusCallback") == "http://localhost/twilio/voice/recording"
        assert record.get("finishOnKey") == "#" and int(record.get("maxLength")) <= 120
        assert call_for(sid).status == calls.VOICEMAIL

    def test_a_holiday_is_after_hours_too(self, client, city, signed, clock):
        clock["at"] = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # National Day, 10:00 in Shanghai
        assert "Record" in verbs(twiml(incoming(client)))

    def test_a_round_the_clock_centre_queues_at_night(self, client, city, signed, clock, app, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_VOICE_HOURS", "always")
        clock["at"] = AFTER_HOURS
        assert "Enqueue" in verbs(twiml(incoming(client)))

    def test_the_public_url_names_the_callbacks(self, client, city, signed, clock, app, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_PUBLIC_URL", "https://hotline.example.gov")
        params = {"CallSid": new_sid(), "From": PHONE, "To": HOTLINE}
        url = "https://hotline.example.gov/twilio/voice"
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        root = twiml(post(client, "/twilio/voice", params, signature=signature))
        assert root.find("Enqueue").get("waitUrl") == "https://hotline.example.gov/twilio/voice/wait"

    def test_the_same_call_twice_is_logged_once(self, client, city, signed, clock):
        sid = new_sid()
        first = incoming(client, sid).get_data()
        assert incoming(client, sid).get_data() == first
        assert count_of(Call) == 1

    @pytest.mark.parametrize("caller", ["anonymous", "Restricted", "+266696687", "", "12"])
    def test_a_withheld_number_is_answered_and_logged_without_one(self, client, city, signed, clock, caller):
        sid = new_sid()
        assert "Enqueue" in verbs(twiml(incoming(client, sid, caller=caller)))
        assert call_for(sid).from_number == ""

    def test_nul_characters_in_the_numbers_are_dropped(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid, caller="+86138001\x0038000", To="+86531\x0012345"))
        call = call_for(sid)
        assert call.from_number == PHONE and call.to_number == "+8653112345"

    def test_a_national_number_is_stored_in_e164(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid, caller="13800138000"))
        assert call_for(sid).from_number == PHONE

    def test_a_late_retry_of_an_ended_call_hangs_up(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        call_status(client, sid, "completed")
        assert verbs(twiml(incoming(client, sid))) == ["Hangup"]
        assert call_for(sid).status == "completed"

    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"From": PHONE},
            {"CallSid": "", "From": PHONE},
            {"CallSid": "CA" + "1" * 80, "From": PHONE},
            {"CallSid": "CA\x001", "From": PHONE},
        ],
    )
    def test_malformed_input_is_a_400(self, client, city, signed, clock, params):
        response = post(client, "/twilio/voice", params)
        assert response.status_code == 400
        assert response.get_data(as_text=True).startswith("Bad request")
        assert count_of(Call) == 0


# -- the queue --------------------------------------------------------------------------------


class TestQueue:
    def test_waiting_callers_hear_a_hold_message_until_the_limit(self, client, city, signed, clock, app, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_VOICE_MAX_WAIT", 60)
        sid = new_sid()
        twiml(incoming(client, sid))
        root = twiml(post(client, "/twilio/voice/wait", {"CallSid": sid, "QueueTime": "10", "QueuePosition": "2"}))
        assert verbs(root) == ["Say", "Say", "Pause"]
        assert int(root.find("Pause").get("length")) == 20
        root = twiml(post(client, "/twilio/voice/wait", {"CallSid": sid, "QueueTime": "55"}))
        assert int(root.find("Pause").get("length")) == 5  # no longer than the limit
        assert verbs(twiml(post(client, "/twilio/voice/wait", {"CallSid": sid, "QueueTime": "60"}))) == ["Leave"]
        assert call_for(sid).status == calls.QUEUED

    def test_a_call_an_operator_took_is_not_sent_to_voicemail(self, client, city, signed, clock, app, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_VOICE_MAX_WAIT", 60)
        sid = new_sid()
        twiml(incoming(client, sid))
        calls.answer_call(city.operator, call_for(sid))
        root = twiml(post(client, "/twilio/voice/wait", {"CallSid": sid, "QueueTime": "600"}))
        assert "Leave" not in verbs(root)
        assert call_for(sid).status == calls.IN_PROGRESS

    def test_leaving_the_queue_unanswered_offers_voicemail(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        root = twiml(post(client, "/twilio/voice/queue", {"CallSid": sid, "QueueResult": "leave", "QueueTime": "120"}))
        assert "Record" in verbs(root)
        assert says(root)[0][1].startswith("抱歉") and "busy" in says(root)[1][1]
        assert call_for(sid).status == calls.VOICEMAIL

    def test_the_call_report_reads_what_the_webhooks_record(self, client, city, signed, clock):
        """Queue entry, the voicemail offer, the answering operator and the end, as they happen."""
        waited, gave_up, taken = new_sid(), new_sid(), new_sid()
        for sid in (waited, gave_up, taken):
            twiml(incoming(client, sid))
        clock["at"] = IN_OFFICE + timedelta(seconds=3)
        twiml(post(client, "/twilio/voice/queue", {"CallSid": gave_up, "QueueResult": "hangup"}))
        clock["at"] = IN_OFFICE + timedelta(seconds=15)
        calls.answer_call(city.operator, call_for(taken))
        clock["at"] = IN_OFFICE + timedelta(seconds=120)
        twiml(post(client, "/twilio/voice/queue", {"CallSid": waited, "QueueResult": "leave"}))
        call_status(client, taken, "completed")
        night = after_hours_call(client, clock)
        offered_voicemail = IN_OFFICE + timedelta(seconds=120)
        assert call_for(waited).queued_at == IN_OFFICE and call_for(waited).voicemail_at == offered_voicemail
        assert call_for(taken).answered_by == city.operator
        assert call_for(night).queued_at is None and call_for(night).voicemail_at == AFTER_HOURS
        [row] = call_report(date(2026, 11, 25), date(2026, 11, 25), "all")
        assert (row.offered, row.answered, row.answered_within_15s, row.abandoned, row.voicemail) == (3, 1, 1, 1, 1)
        assert (row.out_of_hours, row.wait_p50_seconds, row.talk_mean_seconds) == (1, 15.0, 105.0)

    @pytest.mark.parametrize("result", ["queue-full", "error", "system-error", "redirected"])
    def test_a_queue_that_fails_offers_voicemail(self, client, city, signed, clock, result):
        sid = new_sid()
        twiml(incoming(client, sid))
        assert "Record" in verbs(twiml(post(client, "/twilio/voice/queue", {"CallSid": sid, "QueueResult": result})))

    def test_hanging_up_in_the_queue_is_a_missed_call(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        clock["at"] = IN_OFFICE.replace(minute=3)
        root = twiml(post(client, "/twilio/voice/queue", {"CallSid": sid, "QueueResult": "hangup"}))
        assert verbs(root) == []
        call = call_for(sid)
        assert call.status == "completed" and call.missed and call.ended_at == clock["at"]
        assert [c.call_sid for c in calls.missed_calls()] == [sid]

    def test_a_call_bridged_to_an_operator_is_answered(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        root = twiml(post(client, "/twilio/voice/queue", {"CallSid": sid, "QueueResult": "bridged"}))
        assert verbs(root) == ["Hangup"]
        call_status(client, sid, "completed")
        call = call_for(sid)
        assert call.answered_at is not None and not call.missed

    def test_a_queue_result_is_required(self, client, city, signed, clock):
        assert post(client, "/twilio/voice/queue", {"CallSid": new_sid()}).status_code == 400


# -- status callbacks -------------------------------------------------------------------------


class TestStatusCallbacks:
    def test_a_call_that_ends_unanswered_is_missed(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        assert call_status(client, sid, "ringing").status_code == 204
        assert call_status(client, sid, "in-progress").status_code == 204  # Twilio playing our greeting
        assert call_for(sid).status == calls.QUEUED  # not an operator
        clock["at"] = IN_OFFICE.replace(minute=2)
        assert call_status(client, sid, "completed", CallDuration="95").status_code == 204
        call = call_for(sid)
        assert call.status == "completed" and call.ended_at == clock["at"] and call.missed

    def test_an_answered_call_is_not_missed(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        calls.answer_call(city.operator, call_for(sid))
        call_status(client, sid, "completed")
        call = call_for(sid)
        assert call.status == "completed" and call.answered_at == IN_OFFICE and not call.missed

    @pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
    def test_other_endings_are_missed_too(self, client, city, signed, clock, status):
        sid = new_sid()
        twiml(incoming(client, sid))
        call_status(client, sid, status)
        call = call_for(sid)
        assert call.status == status and call.missed

    def test_the_first_ending_counts_and_late_callbacks_change_nothing(self, client, city, signed, clock):
        sid = new_sid()
        twiml(incoming(client, sid))
        call_status(client, sid, "completed")
        ended = call_for(sid).ended_at
        clock["at"] = IN_OFFICE.replace(minute=9)
        call_status(client, sid, "ringing")
        call_status(client, sid, "canceled")
        call = call_for(sid)
        assert call.status == "completed" and call.ended_at == ended

    def test_a_call_first_named_by_its_status_is_logged(self, client, city, signed, clock):
        sid = new_sid()
        assert call_status(client, sid, "no-answer").status_code == 204
        call = call_for(sid)
        assert call.from_number == PHONE and call.status == "no-answer" and call.missed

    @pytest.mark.parametrize(
        "params",
        [
            {"CallStatus": "completed"},
            {"CallSid": "CA1"},
            {"CallSid": "CA1", "CallStatus": "exploded"},
            {"CallSid": "CA1", "CallStatus": "x" * 100},
        ],
    )
    def test_malformed_input_is_a_400(self, client, city, signed, clock, params):
        assert post(client, "/twilio/voice/status", params).status_code == 400
        assert count_of(Call) == 0


# -- voicemail --------------------------------------------------------------------------------


def after_hours_call(client: FlaskClient, clock: dict) -> str:
    clock["at"] = AFTER_HOURS
    sid = new_sid()
    twiml(incoming(client, sid))
    return sid


class TestVoicemail:
    def test_a_message_becomes_a_ticket_awaiting_dispatch(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        root = twiml(leave_message(client, sid))
        assert verbs(root) == ["Say", "Say", "Hangup"]
        assert "留言" in says(root)[0][1] and says(root)[1][1].startswith("Thank you.")
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.status == Status.PENDING_DISPATCH and ticket.channel == "voicemail"
        assert ticket.category == city.other  # the top-level 其他 category
        assert ticket.caller_phone == PHONE and ticket.created_by is None and ticket.department is None
        assert RECORDING in ticket.description and "尚未转写" in ticket.description
        assert [(e.kind, e.from_status, e.to_status) for e in ticket.events] == [
            ("created", None, Status.PENDING_DISPATCH)
        ]
        assert ticket.events[0].data == {"channel": "voicemail", "call": sid}
        call = call_for(sid)
        assert call.ticket == ticket and call.recording_url == RECORDING
        # The citizen is texted the ticket number (held: no SMS sender is configured here).
        text = db.session.scalars(select(OutboundMessage)).one()
        assert text.kind == "created" and text.to == PHONE and ticket.number in text.body

    def test_the_call_that_left_a_message_is_not_missed(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        call_status(client, sid, "completed")  # the call's end may come before the recording's callback
        assert call_for(sid).missed
        leave_message(client, sid)
        call = call_for(sid)
        assert not call.missed and call.ticket is not None
        assert calls.missed_calls() == []

    def test_every_callback_of_one_recording_makes_one_ticket(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        assert recording_status(client, sid).status_code == 204
        twiml(leave_message(client, sid))
        call_status(client, sid, "completed")
        assert count_of(Ticket) == 1 and count_of(OutboundMessage) == 1
        assert not call_for(sid).missed

    def test_the_status_callback_alone_makes_the_ticket(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        assert recording_status(client, sid).status_code == 204
        assert call_for(sid).ticket.channel == "voicemail"

    def test_an_absent_or_empty_recording_makes_no_ticket(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        assert recording_status(client, sid, status="absent", url="").status_code == 204
        twiml(leave_message(client, sid, duration="0"))
        call_status(client, sid, "completed")
        assert count_of(Ticket) == 0
        assert call_for(sid).missed

    def test_a_withheld_number_gets_a_ticket_and_no_text(self, client, city, signed, clock):
        clock["at"] = AFTER_HOURS
        sid = new_sid()
        twiml(incoming(client, sid, caller="anonymous"))
        twiml(leave_message(client, sid, From="anonymous"))
        ticket = call_for(sid).ticket
        assert ticket.caller_phone == "" and ticket.status == Status.PENDING_DISPATCH
        assert count_of(OutboundMessage) == 0

    def test_the_configured_category_is_used(self, client, city, signed, clock, app, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_VOICEMAIL_CATEGORY", "water-supply")
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        assert call_for(sid).ticket.category == city.water_supply

    def test_without_a_category_the_message_waits_for_a_call_back(self, client, city, signed, clock):
        db.session.delete(city.other)
        db.session.commit()
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))  # the caller still hears the thanks
        call_status(client, sid, "completed")
        call = call_for(sid)
        assert count_of(Ticket) == 0
        assert call.missed and call.recording_url == RECORDING
        assert [c.call_sid for c in calls.missed_calls()] == [sid]

    @pytest.mark.parametrize(
        "params",
        [
            {"RecordingUrl": ""},
            {"RecordingUrl": "javascript:alert(1)"},
            {"RecordingUrl": "https://x/" + "a" * 600},
            {"RecordingUrl": "https://api.twilio.com/a b"},
            {"CallSid": ""},
        ],
    )
    def test_malformed_recordings_are_a_400(self, client, city, signed, clock, params):
        base = {"CallSid": new_sid(), "From": PHONE, "RecordingUrl": RECORDING, "RecordingDuration": "3"}
        assert post(client, "/twilio/voice/recording", {**base, **params}).status_code == 400
        assert count_of(Ticket) == 0

    def test_a_bad_duration_is_not_a_500(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid, duration="-1x"))
        assert count_of(Ticket) == 1


class TestTranscription:
    def test_the_transcription_replaces_the_placeholder(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        ticket = call_for(sid).ticket
        version = ticket.version
        text = "The street light outside number 12 People's Road has been off for a week."
        assert transcribed(client, sid, text).status_code == 204
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.description.startswith(text)
        assert RECORDING in ticket.description and "尚未转写" not in ticket.description
        assert ticket.version == version + 1
        events = [e for e in ticket.events if e.kind == "voicemail_transcribed"]
        assert [e.data for e in events] == [{"text": text}]
        assert call_for(sid).transcription == text

    def test_the_same_transcription_twice_is_added_once(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        transcribed(client, sid, "Water pipe burst.")
        transcribed(client, sid, "Water pipe burst.")
        events = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "voicemail_transcribed")).all()
        assert len(events) == 1

    def test_a_failed_transcription_leaves_the_recording(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        assert transcribed(client, sid, "", status="failed").status_code == 204
        ticket = call_for(sid).ticket
        assert "尚未转写" in ticket.description and len(ticket.events) == 1

    def test_a_transcription_before_the_recording_makes_the_ticket(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        transcribed(client, sid, "Noise from a building site all night.")
        ticket = call_for(sid).ticket
        assert ticket.description.startswith("Noise from a building site all night.")
        twiml(leave_message(client, sid))
        assert count_of(Ticket) == 1

    def test_an_edited_description_keeps_its_text_and_gets_the_transcription(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        twiml(leave_message(client, sid))
        ticket = call_for(sid).ticket
        ticket.description = "Dispatcher's summary: a burst pipe."
        db.session.commit()
        transcribed(client, sid, "There is water everywhere.")
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.description.startswith("Dispatcher's summary: a burst pipe.\n\n")
        assert ticket.description.endswith("There is water everywhere.")

    def test_malformed_transcriptions_are_a_400(self, client, city, signed, clock):
        sid = after_hours_call(client, clock)
        assert transcribed(client, sid, "x" * 20_000).status_code == 400
        assert transcribed(client, sid, "a\x00b").status_code == 400
        assert post(client, "/twilio/voice/transcription", {"TranscriptionText": "hi"}).status_code == 400
        assert count_of(Ticket) == 0


def test_a_whole_day_of_calls(client, city, signed, clock):
    """An answered call, a missed one, and a voicemail at night, as the console then lists them."""
    answered, missed, night = new_sid(), new_sid(), new_sid()
    twiml(incoming(client, answered))
    twiml(incoming(client, missed, caller="+8613900139000"))
    calls.answer_call(city.operator, call_for(answered))
    assert [c.call_sid for c in calls.live_calls(IN_OFFICE)] == [answered, missed]
    call_status(client, answered, "completed")
    twiml(post(client, "/twilio/voice/queue", {"CallSid": missed, "QueueResult": "hangup"}))
    assert calls.live_calls(IN_OFFICE) == []
    clock["at"] = AFTER_HOURS
    twiml(incoming(client, night, caller="+8613700137000"))
    twiml(leave_message(client, night))
    call_status(client, night, "completed")
    assert [c.call_sid for c in calls.missed_calls()] == [missed]
