"""`POST /twilio/sms` and `POST /twilio/status`, signed as Twilio signs them: with the library's
`RequestValidator(token).compute_signature(url, params)` over the URL Twilio called.

A bad or missing signature is a 403 and changes nothing; malformed input is a 400, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from hotline.extensions import db
from hotline.models import Call, Caller, InboundMessage, Notice, OutboundMessage, Status, Ticket, TicketEvent
from hotline.services.citizens import outbox
from hotline.services.ticketing import deadlines, tickets
from hotline.telephony import signature
from tests import factories, fake_twilio

TOKEN = fake_twilio.AUTH_TOKEN
PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
_sids = count(1)


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)  # no jobs: nothing is sent by itself
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
    signature: str | None = None,
):
    url = signed_url or f"http://localhost{path}"
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(url, params, token)}
    return client.post(path, data=params, headers=headers)


def text(client: FlaskClient, body: str, sender: str = PHONE, sid: str | None = None, **extra: str):
    params = {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": fake_twilio.ACCOUNT_SID,
        "From": sender,
        "To": fake_twilio.FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return post(client, "/twilio/sms", params)


def reply_of(response) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None


def snapshot() -> tuple:
    """Everything a webhook could change, to show that a refused request changed nothing."""
    db.session.expire_all()
    counted = [InboundMessage, OutboundMessage, TicketEvent, Caller, Notice]
    rows = tuple(db.session.scalar(select(func.count()).select_from(model)) for model in counted)
    states = tuple(db.session.execute(select(Ticket.id, Ticket.status, Ticket.version).order_by(Ticket.id)).all())
    outbox_states = tuple(db.session.execute(select(OutboundMessage.id, OutboundMessage.status)).all())
    return rows, states, outbox_states


def resolved(city, phone: str = "13800138000", **overrides) -> Ticket:
    ticket = factories.make_routed_ticket(city.operator, caller_phone=phone, **overrides)
    tickets.accept(city.roads_staff, ticket)
    return tickets.resolve(city.roads_staff, ticket, "路面已修补完毕。")


def reload(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


# -- signatures --------------------------------------------------------------------------------


class TestSignature:
    def test_a_signed_request_is_accepted(self, client, city, twilio):
        assert reply_of(text(client, "你好")) is not None

    @pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/status"])
    def test_a_missing_signature_is_refused(self, client, city, twilio, path):
        resolved(city)
        before = snapshot()
        params = {"MessageSid": "SM1", "From": PHONE, "Body": "1", "MessageStatus": "delivered"}
        response = client.post(path, data=params)
        assert response.status_code == 403
        assert snapshot() == before

    def test_a_wrong_signature_is_refused_and_changes_nothing(self, client, city, twilio):
        ticket = resolved(city)
        before = snapshot()
        params = {"MessageSid": "SM" + "1" * 32, "From": PHONE, "Body": "3"}
        assert post(client, "/twilio/sms", params, token="another-token").status_code == 403
        assert post(client, "/twilio/sms", params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
        assert snapshot() == before and reload(ticket).status == Status.RESOLVED

    def test_a_tampered_body_is_refused(self, client, city, twilio):
        ticket = resolved(city)
        before = snapshot()
        params = {"MessageSid": "SM" + "2" * 32, "From": PHONE, "Body": "1"}
        signature = sign("http://localhost/twilio/sms", params)
        response = post(client, "/twilio/sms", {**params, "Body": "3"}, signature=signature)
        assert response.status_code == 403
        assert snapshot() == before and reload(ticket).status == Status.RESOLVED

    def test_a_signature_for_another_url_is_refused(self, client, city, twilio):
        params = {"MessageSid": "SM" + "3" * 32, "From": PHONE, "Body": "STOP"}
        response = post(client, "/twilio/sms", params, signed_url="http://localhost/twilio/status")
        assert response.status_code == 403
        assert db.session.scalar(select(func.count(Caller.id))) == 0

    def test_without_an_auth_token_every_webhook_is_refused(self, app, client, city, twilio, monkeypatch, caplog):
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
        # Alembic's logging set-up, run by the app fixture's upgrade, disables existing loggers.
        monkeypatch.setattr(signature.log, "disabled", False)
        params = {"MessageSid": "SM" + "4" * 32, "From": PHONE, "Body": "STOP"}
        assert post(client, "/twilio/sms", params, token="").status_code == 403
        assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
        assert db.session.scalar(select(func.count(Caller.id))) == 0

    def test_behind_a_proxy_the_public_url_is_what_twilio_signed(self, app, client, city, twilio, monkeypatch):
        monkeypatch.setitem(app.config, "HOTLINE_PUBLIC_URL", "https://hotline.example.gov/")
        params = {"MessageSid": "SM" + "5" * 32, "From": PHONE, "Body": "STOP"}
        assert post(client, "/twilio/sms", params).status_code == 403  # signed for the URL the app sees
        public = "https://hotline.example.gov/twilio/sms"
        response = post(client, "/twilio/sms", params, signed_url=public)
        assert response.status_code == 200
        # The reply's delivery report is asked for at the public URL too.
        root = ElementTree.fromstring(response.get_data())
        assert root.find("Message").get("action").startswith("https://hotline.example.gov/twilio/status?outbox=")

    def test_no_csrf_token_is_asked_for(self, app, client, city, twilio, monkeypatch):
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production
        assert reply_of(text(client, "STOP")).startswith("【12345热线】您已退订")

    def test_a_query_string_is_part_of_the_signed_url(self, client, city, twilio):
        factories.make_ticket(city.operator)
        message = outbox.send(db.session.scalar(select(OutboundMessage.id)))
        params = {"MessageSid": message.provider_sid, "MessageStatus": "delivered", "To": PHONE}
        path = f"/twilio/status?outbox={message.id}"
        assert post(client, path, params, signed_url="http://localhost/twilio/status").status_code == 403
        assert post(client, path, params).status_code == 204


# -- body types: only what the signature covers -------------------------------------------------


def twilio_paths(app: Flask) -> list[str]:
    """Every webhook of the blueprint, so that one added later is checked too."""
    return sorted(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("twilio."))


class TestBodyType:
    """The signature covers a form-encoded body's fields; any other body would go unchecked."""

    def body(self, city) -> dict[str, str]:
        # Fields every webhook reads: a text rating the resolved ticket, a call, a delivery report
        # of the ticket's first text.
        message = outbox.send(db.session.scalar(select(OutboundMessage.id)))
        return {
            "MessageSid": message.provider_sid,
            "CallSid": "CA" + "9" * 32,
            "AccountSid": fake_twilio.ACCOUNT_SID,
            "From": PHONE,
            "To": fake_twilio.FROM_NUMBER,
            "Body": "3",
            "MessageStatus": "failed",
            "CallStatus": "ringing",
        }

    def changed(self, before: tuple) -> bool:
        return (snapshot(), db.session.scalar(select(func.count(Call.id)))) != before

    def test_every_webhook_is_covered(self, app):
        assert "/twilio/sms" in twilio_paths(app) and "/twilio/voice/transcription" in twilio_paths(app)

    def test_a_multipart_body_signed_by_its_url_alone_is_refused(self, app, client, city, twilio):
        ticket = resolved(city)
        params = self.body(city)
        before = (snapshot(), db.session.scalar(select(func.count(Call.id))))
        for path in twilio_paths(app):
            headers = {"X-Twilio-Signature": sign(f"http://localhost{path}", {})}  # what Twilio's rule signs
            response = client.post(path, data=params, content_type="multipart/form-data", headers=headers)
            assert response.status_code == 415, path
            assert "application/x-www-form-urlencoded" in response.get_data(as_text=True)
        assert not self.changed(before)
        assert reload(ticket).status == Status.RESOLVED  # the "3" (unsatisfied) was not read

    def test_a_json_body_is_refused(self, app, client, city, twilio):
        resolved(city)
        params = self.body(city)
        before = (snapshot(), db.session.scalar(select(func.count(Call.id))))
        for path in twilio_paths(app):
            url = f"http://localhost{path}"
            for signed in ({}, params):
                headers = {"X-Twilio-Signature": sign(url, signed)}
                assert client.post(path, json=params, headers=headers).status_code == 415, path
        assert not self.changed(before)

    def test_a_form_with_a_charset_is_a_form(self, client, city, twilio):
        params = {"MessageSid": "SM" + "8" * 32, "From": PHONE, "To": fake_twilio.FROM_NUMBER, "Body": "STOP"}
        headers = {"X-Twilio-Signature": sign("http://localhost/twilio/sms", params)}
        content_type = "application/x-www-form-urlencoded; charset=UTF-8"
        response = client.post("/twilio/sms", data=params, content_type=content_type, headers=headers)
        assert reply_of(response).startswith("【12345热线】您已退订")


# -- malformed input ---------------------------------------------------------------------------


class TestMalformed:
    @pytest.mark.parametrize("missing", ["MessageSid", "From", "Body"])
    def test_an_sms_without_a_required_field(self, client, city, twilio, missing):
        resolved(city)
        before = snapshot()
        params = {"MessageSid": "SM" + "6" * 32, "From": PHONE, "Body": "1"}
        del params[missing]
        response = post(client, "/twilio/sms", params)
        assert response.status_code == 400
        assert f"missing {missing}" in response.get_data(as_text=True)
        assert snapshot() == before

    def test_a_sender_that_is_not_a_phone_number(self, client, city, twilio):
        before = snapshot()
        response = text(client, "STOP", sender="not-a-number")
        assert response.status_code == 400 and "From" in response.get_data(as_text=True)
        assert snapshot() == before

    def test_a_body_longer_than_twilio_allows(self, client, city, twilio):
        response = text(client, "长" * 1601)
        assert response.status_code == 400 and "Body is longer than 1600" in response.get_data(as_text=True)

    def test_a_nul_character(self, client, city, twilio):
        before = snapshot()
        response = text(client, "坑\x00")
        assert response.status_code == 400 and "Body contains a NUL character" in response.get_data(as_text=True)
        assert snapshot() == before

    @pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
    def test_a_status_report_without_a_required_field(self, client, city, twilio, missing):
        factories.make_ticket(city.operator)
        message = outbox.send(db.session.scalar(select(OutboundMessage.id)))
        before = snapshot()
        params = {"MessageSid": message.provider_sid, "MessageStatus": "delivered"}
        del params[missing]
        response = post(client, "/twilio/status", params)
        assert response.status_code == 400 and f"missing {missing}" in response.get_data(as_text=True)
        assert snapshot() == before

    def test_a_bad_outbox_id_is_ignored_not_an_error(self, client, city, twilio):
        params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"}
        assert post(client, "/twilio/status?outbox=abc", params).status_code == 204
        assert post(client, "/twilio/status?outbox=99999999999999999999", params).status_code == 204
        assert post(client, "/twilio/status?outbox=99999999999", params).status_code == 204  # past 32 bits
        # "²" passes str.isdigit() but not int(); signed as the app reads the URL (request.url).
        superscript = post(
            client, "/twilio/status?outbox=%C2%B2", params, signed_url="http://localhost/twilio/status?outbox=²"
        )
        assert superscript.status_code == 204

    def test_get_is_not_allowed(self, client, twilio):
        assert client.get("/twilio/sms").status_code == 405


# -- the survey --------------------------------------------------------------------------------


class TestRatings:
    @pytest.mark.parametrize(
        ("body", "rating"),
        [
            ("1", "satisfied"),
            ("满意", "satisfied"),
            ("２", "basically_satisfied"),
            (" 基本满意。", "basically_satisfied"),
        ],
    )
    def test_a_good_rating_closes_the_ticket(self, client, city, twilio, body, rating):
        ticket = resolved(city)
        reply = reply_of(text(client, body))
        ticket = reload(ticket)
        assert ticket.status == Status.CLOSED and ticket.satisfaction == rating
        assert reply == f"【12345热线】感谢您的评价，工单{ticket.number}已办结归档。"
        inbound = db.session.scalar(select(InboundMessage))
        assert (inbound.meaning, inbound.ticket_id, inbound.from_number) == ("rating", ticket.id, PHONE)
        # The reply is in the outbox like every message to the citizen: sent by Twilio from our TwiML.
        reply_row = db.session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "rating_thanks"))
        assert (reply_row.status, reply_row.to, reply_row.body, reply_row.ticket_id) == (
            "sent",
            PHONE,
            reply,
            ticket.id,
        )

    def test_unsatisfied_reopens_and_the_second_time_goes_to_a_supervisor(self, client, city, twilio):
        ticket = resolved(city)
        reply = reply_of(text(client, "3"))
        ticket = reload(ticket)
        assert ticket.status == Status.IN_PROGRESS and ticket.reopen_count == 1
        assert reply == f"【12345热线】很抱歉未能让您满意，工单{ticket.number}已退回承办单位重新办理。"

        tickets.resolve(city.roads_staff, ticket, "已重新修补并验收。")
        surveys = db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "resolved_survey")).all()
        assert len(surveys) == 2  # asked again after the second reply

        reply = reply_of(text(client, "不满意"))
        ticket = reload(ticket)
        assert ticket.status == Status.CLOSED and ticket.satisfaction == "unsatisfied"
        assert "督办" in reply
        assert db.session.scalar(select(Notice).where(Notice.kind == "unsatisfied")).role == "supervisor"

    def test_a_rating_with_nothing_to_rate(self, client, city, twilio):
        ticket = factories.make_routed_ticket(city.operator)  # not resolved yet
        reply = reply_of(text(client, "1"))
        assert reply == "【12345热线】本手机号码暂无待评价的工单。查询进度请回复工单号。"
        assert reload(ticket).status == Status.DISPATCHED

    def test_only_the_senders_own_ticket_is_rated(self, client, city, twilio):
        theirs = resolved(city, phone="13900139000")
        assert "暂无待评价" in reply_of(text(client, "3"))
        assert reload(theirs).status == Status.RESOLVED

    def test_a_confidential_ticket_is_not_rated_by_text(self, client, city, twilio):
        secret = resolved(city, confidential=True)
        assert "暂无待评价" in reply_of(text(client, "1"))
        assert reload(secret).status == Status.RESOLVED

    def test_the_same_text_delivered_twice_counts_once_and_gets_the_same_answer(self, client, city, twilio):
        ticket = resolved(city)
        first = reply_of(text(client, "3", sid="SM" + "8" * 32))
        again = reply_of(text(client, "3", sid="SM" + "8" * 32))
        ticket = reload(ticket)
        assert first == again and "重新办理" in first
        assert ticket.status == Status.IN_PROGRESS and ticket.reopen_count == 1
        assert [e.kind for e in ticket.events].count("rated") == 1
        assert db.session.scalar(select(func.count(InboundMessage.id))) == 1
        replies = select(func.count()).select_from(OutboundMessage).where(OutboundMessage.kind == "reopened")
        assert db.session.scalar(replies) == 1

    def test_the_answer_is_in_the_callers_language(self, client, city, twilio):
        db.session.add(Caller(phone=PHONE, locale="en"))
        db.session.commit()
        ticket = resolved(city)
        reply = reply_of(text(client, "1"))
        assert reply == f"Hotline: thank you for your rating. Ticket {ticket.number} is closed."


# -- status questions --------------------------------------------------------------------------


class TestStatusQuestions:
    def test_the_senders_own_ticket(self, client, city, twilio):
        ticket = factories.make_routed_ticket(city.operator)
        reply = reply_of(text(client, f"查询{ticket.number}进度"))
        assert reply == f"【12345热线】工单{ticket.number}当前状态：已派单。"
        assert db.session.scalar(select(InboundMessage)).meaning == "status"

    def test_full_width_digits_and_no_hyphen(self, client, city, twilio):
        ticket = factories.make_routed_ticket(city.operator)
        wide = ticket.number.replace("-", "").translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
        assert f"工单{ticket.number}当前状态" in reply_of(text(client, wide))

    def test_a_resolved_ticket_quotes_the_answer_and_asks_for_a_rating(self, client, city, twilio):
        ticket = resolved(city)
        reply = reply_of(text(client, ticket.number))
        assert "当前状态：已办结" in reply and "办理结果：路面已修补完毕。" in reply and "回复1满意" in reply
        assert reload(ticket).status == Status.RESOLVED  # a question, not a rating

    def test_in_english(self, client, city, twilio):
        db.session.add(Caller(phone=PHONE, locale="en"))
        db.session.commit()
        ticket = factories.make_routed_ticket(city.operator)
        assert reply_of(text(client, ticket.number)) == f"Hotline: ticket {ticket.number} status: Dispatched."

    def test_another_persons_ticket_is_not_found_like_a_wrong_number(self, client, city, twilio):
        theirs = factories.make_routed_ticket(city.operator, caller_phone="13900139000", description="我家楼下有坑")
        about_theirs = reply_of(text(client, theirs.number))
        assert about_theirs == f"【12345热线】本手机号码没有工单{theirs.number}。请核对工单号，或拨打12345咨询。"
        about_nothing = reply_of(text(client, "20200101-999999"))
        assert about_nothing == about_theirs.replace(theirs.number, "20200101-999999")
        assert db.session.scalar(select(InboundMessage).order_by(InboundMessage.id)).ticket_id is None

    def test_a_confidential_ticket_is_not_reported_by_text(self, client, city, twilio):
        secret = factories.make_routed_ticket(city.operator, confidential=True)
        assert "没有工单" in reply_of(text(client, secret.number))

    def test_a_duplicate_of_the_same_callers_ticket_answers_with_it(self, client, city, twilio):
        parent = factories.make_routed_ticket(city.operator)
        child = factories.make_routed_ticket(city.operator)
        child.status, child.parent_id = Status.MERGED, parent.id
        db.session.commit()
        reply = reply_of(text(client, child.number))
        assert reply == f"【12345热线】工单{child.number}已与相同诉求合并办理，当前状态：已派单。"
        assert parent.number not in reply

    @pytest.mark.parametrize("confidential", [False, True], ids=["another citizen's", "confidential"])
    def test_a_duplicate_of_a_ticket_the_caller_may_not_follow_gets_a_neutral_answer(
        self, client, city, twilio, confidential
    ):
        """Issue 14: merged into another citizen's ticket or a confidential one, never its reply."""
        phone = "13700137000" if confidential else "13900139000"
        parent = factories.make_routed_ticket(city.operator, caller_phone=phone, confidential=confidential)
        child = factories.make_routed_ticket(city.operator)
        child.status, child.parent_id = Status.MERGED, parent.id
        tickets.accept(city.roads_staff, parent)
        tickets.resolve(city.roads_staff, parent, "已约谈当事人并整改。")
        reply = reply_of(text(client, child.number))
        assert (
            reply
            == f"【12345热线】您的工单{child.number}已与同类诉求合并办理。如需了解办理进展和结果，请拨打12345咨询。"
        )


# -- opting out and in -------------------------------------------------------------------------


class TestOptOut:
    @pytest.mark.parametrize("word", ["STOP", "stop", "退订", "TD", "ＳＴＯＰ"])
    def test_stop_words(self, client, city, twilio, word):
        reply = reply_of(text(client, word))
        assert reply.startswith("【12345热线】您已退订")
        assert db.session.scalar(select(Caller).where(Caller.phone == PHONE)).opted_out

    def test_after_stop_no_texts_until_start(self, client, city, twilio):
        reply_of(text(client, "退订"))
        ticket = factories.make_ticket(city.operator)
        assert outbox.for_ticket(ticket) == []
        assert reply_of(text(client, "订阅")).startswith("【12345热线】您已恢复接收")
        caller = db.session.scalar(select(Caller).where(Caller.phone == PHONE))
        assert not caller.opted_out
        again = factories.make_ticket(city.operator)
        assert [m.kind for m in outbox.for_ticket(again)] == ["created"]

    def test_stop_twice_keeps_the_first_date(self, client, city, twilio):
        reply_of(text(client, "STOP"))
        first = db.session.scalar(select(Caller.opted_out_at))
        reply_of(text(client, "STOP"))
        assert db.session.scalar(select(Caller.opted_out_at)) == first
        assert db.session.scalar(select(func.count(Caller.id))) == 1


# -- anything else -----------------------------------------------------------------------------


class TestCitizenMessages:
    def test_logged_on_the_senders_open_ticket(self, client, city, twilio):
        older = factories.make_routed_ticket(city.operator)
        latest = factories.make_routed_ticket(city.operator)
        version = latest.version
        reply = reply_of(text(client, "坑又变大了，请尽快处理"))
        assert reply == f"【12345热线】您的留言已记入工单{latest.number}，承办单位将会看到。"
        latest = reload(latest)
        event = latest.events[-1]
        assert (event.kind, event.actor, event.data) == (
            "citizen_message",
            None,
            {"text": "坑又变大了，请尽快处理", "channel": "sms"},
        )
        assert latest.version == version  # a message is not a transition: the department's page stays valid
        assert [e.kind for e in reload(older).events].count("citizen_message") == 0

    def test_a_ticket_waiting_on_the_citizen_resumes(self, client, city, twilio):
        ticket = factories.make_routed_ticket(city.operator)
        tickets.accept(city.roads_staff, ticket)
        deadlines.wait_on_citizen(city.roads_staff, ticket, "请提供具体门牌号")
        assert ticket.status == Status.WAITING and ticket.paused_at is not None
        reply_of(text(client, "人民路12号对面"))
        ticket = reload(ticket)
        assert ticket.status == Status.IN_PROGRESS and ticket.paused_at is None
        assert [e.kind for e in ticket.events][-2:] == ["citizen_message", "resumed"]
        assert ticket.events[-1].actor is None

    def test_with_no_open_ticket(self, client, city, twilio):
        reply = reply_of(text(client, "你好，我想反映噪音问题"))
        assert reply == "【12345热线】本手机号码暂无办理中的工单。反映问题请拨打12345。"
        inbound = db.session.scalar(select(InboundMessage))
        assert (inbound.meaning, inbound.body, inbound.ticket_id) == ("unknown", "你好，我想反映噪音问题", None)

    def test_a_picture_without_words_is_not_logged(self, client, city, twilio):
        ticket = factories.make_routed_ticket(city.operator)
        reply = reply_of(text(client, "", NumMedia="1"))
        assert "暂无办理中的工单" in reply
        assert [e.kind for e in reload(ticket).events].count("citizen_message") == 0


# -- delivery reports --------------------------------------------------------------------------


class TestStatusCallback:
    def sent(self, city) -> OutboundMessage:
        factories.make_ticket(city.operator)
        return outbox.send(db.session.scalar(select(OutboundMessage.id)))

    def report(self, client, message, status: str, **extra: str):
        params = {
            "MessageSid": message.provider_sid,
            "MessageStatus": status,
            "AccountSid": fake_twilio.ACCOUNT_SID,
            "To": message.to,
            "From": fake_twilio.FROM_NUMBER,
            **extra,
        }
        return post(client, f"/twilio/status?outbox={message.id}", params)

    def test_delivered(self, client, city, twilio):
        message = self.sent(city)
        assert self.report(client, message, "delivered").status_code == 204
        db.session.refresh(message)
        assert message.status == "delivered" and message.delivered_at is not None

    def test_undelivered(self, client, city, twilio):
        message = self.sent(city)
        assert self.report(client, message, "undelivered", ErrorCode="30005").status_code == 204
        db.session.refresh(message)
        assert message.status == "failed" and "30005" in message.last_error

    def test_a_reply_sent_by_twiml_learns_its_sid_from_its_report(self, client, city, twilio):
        resolved(city)
        reply_of(text(client, "1"))
        reply = db.session.scalar(select(OutboundMessage).where(OutboundMessage.kind == "rating_thanks"))
        assert reply.provider_sid is None
        params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered", "To": PHONE}
        assert post(client, f"/twilio/status?outbox={reply.id}", params).status_code == 204
        db.session.refresh(reply)
        assert (reply.provider_sid, reply.status) == ("SM" + "9" * 32, "delivered")

    def test_an_unknown_message_is_acknowledged_and_ignored(self, client, city, twilio):
        params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
        before = snapshot()
        assert post(client, "/twilio/status", params).status_code == 204
        assert snapshot() == before
