"""Phone calls: Twilio's voice webhooks, answered with TwiML.

- `POST /twilio/voice`: a call comes in. It is logged (once per CallSid) and greeted in Chinese
  and English; it joins the operators' queue (round the clock by default; within office hours
  where HOTLINE_VOICE_HOURS=office), else the caller is asked to leave a message. When it joined
  the queue, and when voicemail was offered, are kept on the call for the call report.
- `POST /twilio/voice/wait`: Twilio's wait requests while the caller is in the queue: a hold
  message, until HOTLINE_VOICE_MAX_WAIT seconds have passed and the caller leaves the queue.
- `POST /twilio/voice/queue`: the caller left the queue (the Enqueue action). Connected to an
  operator (bridged): goodbye. Hung up: the call ends, missed. Else (the wait limit, a full
  queue, an error): the voicemail prompt.
- `POST /twilio/voice/recording`: the voicemail (the Record action, and its status callback):
  a ticket in `pending_dispatch`, channel `voicemail`, once per call.
- `POST /twilio/voice/transcription`: the voicemail's transcription, into the ticket.
- `POST /twilio/voice/status`: call status callbacks; the end of the call is recorded, and an
  unanswered call without a voicemail is missed (listed for call-back on the console).

Configure the number's voice URL as `<public URL>/twilio/voice` and its status callback URL as
`<public URL>/twilio/voice/status`. Every request is signed (see `signature`); malformed input
gets a 400 with a plain message, never a 500. The domain is in `services.citizens.calls`.

Twilio transcribes recordings in English only (and of two minutes at most): for Chinese messages
the ticket keeps the recording's URL, and a dispatcher listens to it.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from twilio.twiml.voice_response import VoiceResponse

from hotline.bounds import whole_number
from hotline.services.citizens import calls
from hotline.services.citizens.senders import public_url_for
from hotline.telephony.blueprint import bp
from hotline.telephony.signature import twilio_signed
from hotline.telephony.webhook_input import bad_request, missing, too_long

log = logging.getLogger(__name__)

SID_MAX, STATUS_MAX, URL_MAX, TEXT_MAX = 64, 32, calls.URL_MAX, 10_000
HOLD_PAUSE = 20  # seconds of quiet between hold messages
RECORD_MAX = 120  # seconds: Twilio transcribes recordings of two minutes at most
RECORD_SILENCE = 10  # seconds of silence that end a message
ANSWERED = ("bridged", "bridging-in-process")

GREETING = _l("Welcome to the 12345 citizen service hotline.")
CONNECTING = _l("Please hold: the next free operator will answer you.")
WAITING = _l("All operators are still busy. Thank you for waiting.")
CLOSED = _l(
    "Our operators are off duty now. Please leave a message after the tone: your name, the address and "
    "what happened. Press the hash key when you have finished."
)
BUSY = _l(
    "Sorry, all operators are busy. Please leave a message after the tone: your name, the address and "
    "what happened. Press the hash key when you have finished."
)
NO_MESSAGE = _l("We did not receive a message. Goodbye.")
THANKS = _l("Thank you. Your message has been recorded and will be handled. Goodbye.")

# The languages the caller hears, in this order: (Babel locale, Twilio language, voice setting).
SPOKEN = (("zh_CN", "zh-CN", "HOTLINE_VOICE_TTS_ZH"), ("en", "en-US", "HOTLINE_VOICE_TTS_EN"))


@bp.post("/voice")
@twilio_signed
def incoming_call():
    form = request.form
    sid = _sid()
    problem = missing(CallSid=sid or None) or too_long((sid, SID_MAX, "CallSid"))
    if problem:
        return bad_request(problem)
    call = calls.log_call(sid, form.get("From"), form.get("To"))
    twiml = VoiceResponse()
    if call.ended_at is not None:  # a late retry of a call that is over
        twiml.hangup()
        return _twiml(twiml)
    _say(twiml, GREETING)
    if calls.operators_on_duty():
        calls.mark_queued(call)
        _say(twiml, CONNECTING)
        twiml.enqueue(
            current_app.config["HOTLINE_VOICE_QUEUE"],
            action=public_url_for("/twilio/voice/queue"),
            method="POST",
            wait_url=public_url_for("/twilio/voice/wait"),
            wait_url_method="POST",
        )
    else:
        calls.mark_voicemail(call)
        _voicemail_prompt(twiml, CLOSED)
    return _twiml(twiml)


@bp.post("/voice/wait")
@twilio_signed
def queue_wait():
    sid = _sid()
    problem = missing(CallSid=sid or None) or too_long((sid, SID_MAX, "CallSid"))
    if problem:
        return bad_request(problem)
    call = calls.mark_queued(calls.log_call(sid, request.form.get("From"), request.form.get("To")))
    waited = _seconds(request.form.get("QueueTime")) or 0
    limit = max(int(current_app.config["HOTLINE_VOICE_MAX_WAIT"]), 0)
    twiml = VoiceResponse()
    if call.answered_at is None and waited >= limit:
        twiml.leave()  # on to the Enqueue action, which offers the voicemail
        return _twiml(twiml)
    _say(twiml, WAITING)
    pause = HOLD_PAUSE if call.answered_at is not None else min(HOLD_PAUSE, max(limit - waited, 1))
    twiml.pause(length=pause)
    return _twiml(twiml)


@bp.post("/voice/queue")
@twilio_signed
def queue_left():
    form = request.form
    sid = _sid()
    result = (form.get("QueueResult") or "").strip().lower()
    problem = missing(CallSid=sid or None, QueueResult=result or None) or too_long(
        (sid, SID_MAX, "CallSid"), (result, STATUS_MAX, "QueueResult")
    )
    if problem:
        return bad_request(problem)
    call = calls.log_call(sid, form.get("From"), form.get("To"))
    twiml = VoiceResponse()
    if result in ANSWERED:
        calls.mark_bridged(call)
        twiml.hangup()  # requested once the operator's conversation is over
    elif result == "hangup":
        calls.end_call(call, "completed")  # the caller gave up waiting
    else:  # leave (the wait limit), queue-full, redirected, error, system-error
        calls.mark_voicemail(call)
        _voicemail_prompt(twiml, BUSY)
    return _twiml(twiml)


@bp.post("/voice/status")
@twilio_signed
def call_status():
    form = request.form
    sid = _sid()
    status = (form.get("CallStatus") or "").strip().lower()
    problem = missing(CallSid=sid or None, CallStatus=status or None) or too_long(
        (sid, SID_MAX, "CallSid"), (status, STATUS_MAX, "CallStatus")
    )
    if problem:
        return bad_request(problem)
    if status not in calls.TWILIO_STATUSES:
        return bad_request(f"unknown CallStatus {status!r}")
    calls.update_status(sid, status, form.get("From"), form.get("To"))
    return Response(status=204)


@bp.post("/voice/recording")
@twilio_signed
def recording():
    """Both the Record verb's action (answered with TwiML) and its recordingStatusCallback
    (which carries RecordingStatus; answered with 204)."""
    form = request.form
    sid = _sid()
    url = (form.get("RecordingUrl") or "").strip()
    is_status_callback = "RecordingStatus" in form
    status = (form.get("RecordingStatus") or "").strip().lower()
    needs_url = not is_status_callback or status == "completed"
    problem = (
        missing(CallSid=sid or None, RecordingUrl=(url or None) if needs_url else "")
        or too_long((sid, SID_MAX, "CallSid"), (url, URL_MAX, "RecordingUrl"), (status, STATUS_MAX, "RecordingStatus"))
        or _not_a_url(url)
    )
    if problem:
        return bad_request(problem)
    if needs_url:
        result = calls.record_voicemail(
            sid, url, _seconds(form.get("RecordingDuration")), form.get("From"), form.get("To")
        )
        if result.created:
            log.info("voicemail of call %s is ticket %s", sid, result.ticket.number)
    else:
        log.info("recording of call %s: %s", sid, status or "no status")
    if is_status_callback:
        return Response(status=204)
    twiml = VoiceResponse()
    _say(twiml, THANKS)
    twiml.hangup()
    return _twiml(twiml)


@bp.post("/voice/transcription")
@twilio_signed
def transcription():
    form = request.form
    sid = _sid()
    status = (form.get("TranscriptionStatus") or "").strip().lower()
    text = form.get("TranscriptionText") or ""
    url = (form.get("RecordingUrl") or "").strip()
    problem = (
        missing(CallSid=sid or None)
        or too_long(
            (sid, SID_MAX, "CallSid"),
            (status, STATUS_MAX, "TranscriptionStatus"),
            (text, TEXT_MAX, "TranscriptionText"),
            (url, URL_MAX, "RecordingUrl"),
        )
        or _not_a_url(url)
    )
    if problem:
        return bad_request(problem)
    if status == "completed" and text.strip():
        calls.add_transcription(sid, text, url or None, form.get("From"), form.get("To"))
    else:
        log.info("transcription of call %s: %s, nothing to add", sid, status or "no status")
    return Response(status=204)


# -- helpers ----------------------------------------------------------------------------------


def _sid() -> str:
    return (request.form.get("CallSid") or "").strip()


def _seconds(raw: str | None) -> int | None:
    return whole_number((raw or "").strip())


def _not_a_url(url: str) -> str | None:
    if url and (not url.startswith(("https://", "http://")) or any(c.isspace() for c in url)):
        return "RecordingUrl is not an http(s) URL"
    return None


def _say(twiml: VoiceResponse, message) -> None:
    """The message in Chinese, then in English."""
    for locale, language, voice_setting in SPOKEN:
        with force_locale(locale):
            text = str(message)
        twiml.say(text, language=language, voice=current_app.config.get(voice_setting) or None)


def _voicemail_prompt(twiml: VoiceResponse, prompt) -> None:
    _say(twiml, prompt)
    recording_url = public_url_for("/twilio/voice/recording")
    twiml.record(
        action=recording_url,
        method="POST",
        max_length=RECORD_MAX,
        timeout=RECORD_SILENCE,
        finish_on_key="#",
        play_beep=True,
        transcribe=True,
        transcribe_callback=public_url_for("/twilio/voice/transcription"),
        recording_status_callback=recording_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    # Twilio goes on here only when the recording was empty (it then skips the action).
    _say(twiml, NO_MESSAGE)
    twiml.hangup()


def _twiml(twiml: VoiceResponse) -> Response:
    return Response(str(twiml), mimetype="application/xml")
