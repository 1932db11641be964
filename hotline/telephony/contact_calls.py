"""The hotline's own calls to citizens (issue 17): click-to-call from a ticket, and callbacks.

`services.citizens.citizen_contact` asks Twilio to ring the staff member's phone with these webhooks:
- `POST /twilio/contact/bridge`: they answered: TwiML <Dial> to the citizen, from the hotline's
  number, so that neither side sees the other's number;
- `POST /twilio/contact/dialled`: the <Dial>'s action: how the citizen's leg ended and how long;
- `POST /twilio/contact/status`: the call's status callback: the call is logged on the ticket.
Every request is signed (see `signature`); malformed input gets a plain 400.
"""

from __future__ import annotations

from flask import Response, request
from flask_babel import lazy_gettext as _l
from twilio.twiml.voice_response import VoiceResponse

from hotline.bounds import whole_number
from hotline.services.citizens import citizen_contact
from hotline.services.citizens.senders import public_url_for
from hotline.telephony.blueprint import bp
from hotline.telephony.signature import twilio_signed
from hotline.telephony.voice import _say, _twiml
from hotline.telephony.webhook_input import bad_request, missing, too_long

SID_MAX, STATUS_MAX = 64, 32
CONNECTING = _l("Connecting you to the citizen through the hotline.")
NOT_OURS = _l("This call is not one the hotline started. Goodbye.")


@bp.post("/contact/bridge")
@twilio_signed
def contact_bridge():
    sid, problem = _sid()
    if problem:
        return bad_request(problem)
    found = citizen_contact.bridge(sid)
    twiml = VoiceResponse()
    if found is None:
        _say(twiml, NOT_OURS)
        twiml.hangup()
        return _twiml(twiml)
    _say(twiml, CONNECTING)
    dial = twiml.dial(caller_id=found.caller_id, action=public_url_for("/twilio/contact/dialled"), method="POST")
    dial.number(found.to)
    return _twiml(twiml)


@bp.post("/contact/dialled")
@twilio_signed
def contact_dialled():
    sid, problem = _sid()
    status = (request.form.get("DialCallStatus") or "").strip().lower()
    problem = problem or missing(DialCallStatus=status or None) or too_long((status, STATUS_MAX, "DialCallStatus"))
    if problem:
        return bad_request(problem)
    citizen_contact.dialled(sid, status, whole_number((request.form.get("DialCallDuration") or "").strip()))
    twiml = VoiceResponse()
    twiml.hangup()
    return _twiml(twiml)


@bp.post("/contact/status")
@twilio_signed
def contact_call_status():
    sid, problem = _sid()
    status = (request.form.get("CallStatus") or "").strip().lower()
    problem = problem or missing(CallStatus=status or None) or too_long((status, STATUS_MAX, "CallStatus"))
    if problem:
        return bad_request(problem)
    citizen_contact.call_ended(sid, status, whole_number((request.form.get("CallDuration") or "").strip()))
    return Response(status=204)


def _sid() -> tuple[str, str | None]:
    sid = (request.form.get("CallSid") or "").strip()
    return sid, missing(CallSid=sid or None) or too_long((sid, SID_MAX, "CallSid"))
