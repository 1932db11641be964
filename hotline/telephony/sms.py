"""`POST /twilio/sms`: a citizen's text, answered with TwiML; `POST /twilio/status`: delivery reports.

Both are signed by Twilio (see `signature`). Malformed input gets a 400 with a plain
message, never a 500; the work itself is in `services.citizens.citizen_sms` and `services.citizens.outbox`.
"""

from __future__ import annotations

import logging

from flask import Response, request
from twilio.twiml.messaging_response import MessagingResponse

from hotline.bounds import id_number, whole_number
from hotline.services.citizens import citizen_sms, outbox
from hotline.services.citizens.senders import public_url_for
from hotline.services.errors import InvalidInput
from hotline.telephony.blueprint import bp
from hotline.telephony.signature import twilio_signed
from hotline.telephony.webhook_input import bad_request, missing, too_long

log = logging.getLogger(__name__)

SID_MAX, PHONE_MAX, BODY_MAX, STATUS_MAX = 64, 32, 1600, 32
URL_MAX = 500  # a media URL


@bp.post("/sms")
@twilio_signed
def incoming_sms():
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = (form.get("From") or "").strip()
    body = form.get("Body")
    problem = missing(MessageSid=sid or None, From=sender or None, Body=body) or too_long(
        (sid, SID_MAX, "MessageSid"), (sender, PHONE_MAX, "From"), (body, BODY_MAX, "Body")
    )
    if problem:
        return bad_request(problem)
    try:
        reply = citizen_sms.handle_inbound(sid, sender, body, media=_media_urls(form))
    except InvalidInput as error:
        return bad_request(f"From: {error.message}")
    key = f"reply:{sid}"
    if reply.body:
        recorded = outbox.record_reply(
            reply.kind or reply.meaning, reply.phone, reply.body, ticket=reply.ticket, dedupe_key=key
        )
    else:
        # Twilio delivers a text again when our answer did not reach it: the text was acted on
        # once, and the same answer is given again (Twilio sends only the answer it receives).
        recorded = outbox.by_dedupe_key(key)
    twiml = MessagingResponse()
    if recorded is not None:
        # Twilio reports the reply's delivery there; the outbox id finds the row.
        twiml.message(recorded.body, action=public_url_for(f"/twilio/status?outbox={recorded.id}"), method="POST")
    return Response(str(twiml), mimetype="application/xml")


def _media_urls(form) -> list[str]:
    """An MMS's media (NumMedia, MediaUrl0...), at most Twilio's ten; fetched by a job later."""
    count = whole_number(form.get("NumMedia") or "0") or 0
    urls = [(form.get(f"MediaUrl{index}") or "").strip() for index in range(min(count, 10))]
    return [url for url in urls if url and len(url) <= URL_MAX]


@bp.post("/status")
@twilio_signed
def message_status():
    form = request.form
    # A voice call's report (a duty alert's) names its fields CallSid and CallStatus.
    sid_name, status_name = ("CallSid", "CallStatus") if "CallSid" in form else ("MessageSid", "MessageStatus")
    sid = (form.get(sid_name) or form.get("SmsSid") or "").strip()
    status = (form.get(status_name) or form.get("SmsStatus") or "").strip().lower()
    problem = missing(**{sid_name: sid or None, status_name: status or None}) or too_long(
        (sid, SID_MAX, sid_name), (status, STATUS_MAX, status_name)
    )
    if problem:
        return bad_request(problem)
    raw_id = request.args.get("outbox", "")
    outbox_id = id_number(raw_id)
    message = outbox.apply_status(
        sid,
        status,
        error_code="".join(c for c in form.get("ErrorCode", "") if c.isascii() and c.isdigit())[:16] or None,
        outbox_id=outbox_id,
        to=(form.get("To") or "").strip()[:PHONE_MAX] or None,
    )
    if message is None:
        log.info("status %s for unknown message %s ignored", status, sid)
    return Response(status=204)
