"""A duty alert's voice call asks Twilio for its status callback, and `POST /twilio/status` reads
a call's report (CallSid, CallStatus) as it reads a text's (issue 17 item 4): an answered call is
delivered, one nobody picked up (no-answer, busy) failed, with Twilio's word kept; before, a
voice alert stayed "sent" for ever, answered or not."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.services.citizens import outbox
from hotline.services.citizens.senders import CALL
from tests import fake_twilio
from tests.telephony.test_sms_webhook import post

OFFICER = "+8613900000001"


def sent_call(fake: fake_twilio.FakeTwilio) -> tuple[OutboundMessage, dict[str, str]]:
    message, _created = outbox.queue_message("duty_call", OFFICER, "工单需要您处理", channel=CALL)
    outbox.send(message.id)
    db.session.expire_all()
    return db.session.get(OutboundMessage, message.id), fake.calls()[-1]


@pytest.mark.parametrize(
    ("reported", "status", "provider_status"),
    [
        ("completed", OutboundMessage.DELIVERED, None),
        ("no-answer", OutboundMessage.FAILED, "no-answer"),
        ("busy", OutboundMessage.FAILED, "busy"),
    ],
)
def test_a_duty_call_reports_whether_it_was_answered(
    app: Flask, client, monkeypatch, reported, status, provider_status
) -> None:
    with fake_twilio.running(app, monkeypatch, HOTLINE_PUBLIC_URL="http://localhost") as fake:
        message, call = sent_call(fake)
        assert message.status == OutboundMessage.SENT and message.provider_sid
        assert call["StatusCallback"] == f"http://localhost/twilio/status?outbox={message.id}"
        assert call["StatusCallbackMethod"] == "POST"
        params = {"CallSid": message.provider_sid, "CallStatus": reported, "To": OFFICER}
        response = post(client, f"/twilio/status?outbox={message.id}", params)
        assert response.status_code == 204, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.scalar(select(OutboundMessage).where(OutboundMessage.id == message.id))
    assert stored.status == status
    if provider_status:
        assert provider_status in stored.last_error  # Twilio's word, kept
    else:
        assert stored.delivered_at is not None


def test_a_call_report_without_its_status_is_a_400(app: Flask, client, monkeypatch) -> None:
    with fake_twilio.running(app, monkeypatch, HOTLINE_PUBLIC_URL="http://localhost") as fake:
        message, _call = sent_call(fake)
        response = post(client, "/twilio/status", {"CallSid": message.provider_sid})
        assert response.status_code == 400
        assert "CallStatus" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboundMessage, message.id).status == OutboundMessage.SENT
