"""The outbox and the texts to citizens, sent by the real `twilio` client to a local fake of
Twilio's REST API (tests/fake_twilio.py): queueing, sending once, retries with backoff,
giving up, held messages without credentials, delivery reports and the API's `notifications`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from hotline import labels
from hotline.extensions import db
from hotline.models import Caller, OutboundMessage, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import citizen_sms, outbox, senders
from hotline.services.errors import Conflict
from hotline.services.ticketing import recovery, tickets
from tests import factories, fake_twilio

Message = OutboundMessage


def words(message: OutboundMessage) -> str:
    """The message's last error as the outbox page shows it (in English here)."""
    with force_locale("en"):
        return labels.outbox_error(message.last_error)


@pytest.fixture
def no_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Redis, even when the test run has one: jobs are not enqueued, sending is called directly."""
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch, no_queue) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


def messages(**filters) -> list[OutboundMessage]:
    db.session.expire_all()
    query = select(OutboundMessage).filter_by(**filters).order_by(OutboundMessage.id)
    return list(db.session.scalars(query))


def resolved_ticket(city, resolution: str = "路面已修补完毕。", **overrides) -> Ticket:
    ticket = factories.make_routed_ticket(city.operator, **overrides)
    tickets.accept(city.roads_staff, ticket)
    return tickets.resolve(city.roads_staff, ticket, resolution)


# -- what is queued, and when ------------------------------------------------------------------


class TestWithoutTwilio:
    def test_a_new_ticket_queues_its_number_held_in_the_outbox(self, city, no_queue):
        ticket = factories.make_ticket(city.operator)
        assert ticket.status == Status.NEW  # intake works as before
        [message] = messages()
        assert (message.kind, message.to, message.ticket_id) == ("created", "+8613800138000", ticket.id)
        assert message.status == Message.HELD and message.attempts == 0 and message.sent_at is None
        assert message.last_error == senders.NO_SENDER
        assert ticket.number in message.body and message.body.startswith("【12345热线】")

    def test_a_held_message_is_never_claimed_by_a_sender(self, city, no_queue):
        message = factories.make_ticket(city.operator) and messages()[0]
        assert outbox.send(message.id).status == Message.HELD
        assert messages()[0].attempts == 0

    def test_retry_is_refused_while_no_sender_is_configured(self, city, no_queue):
        factories.make_ticket(city.operator)
        with force_locale("en"), pytest.raises(Conflict, match="No SMS sender is configured"):
            outbox.retry(messages()[0].id)
        assert messages()[0].status == Message.HELD

    def test_without_a_from_number_twilio_is_not_configured(self, app, monkeypatch, city, no_queue):
        monkeypatch.setitem(app.config, "TWILIO_ACCOUNT_SID", fake_twilio.ACCOUNT_SID)
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", fake_twilio.AUTH_TOKEN)
        assert not senders.configured()
        assert isinstance(senders.current_sender(), senders.OutboxOnlySender)


class TestWhatIsQueued:
    def test_callers_of_merged_duplicates_are_told_with_the_parent(self, city, twilio):
        from hotline.services.ticketing import merging

        parent = factories.make_routed_ticket(city.operator)
        child = factories.make_ticket(city.operator, caller_phone="13900139000")
        same_caller = factories.make_ticket(city.operator)  # the parent's caller hears once
        secret = factories.make_ticket(city.operator, caller_phone="13700137000", confidential=True)
        for duplicate in (child, same_caller, secret):
            merging.merge_into(city.dispatcher, duplicate, parent.number)
        tickets.accept(city.roads_staff, parent)
        tickets.resolve(city.roads_staff, parent, "路面已修补完毕。")
        told = [(m.kind, m.to, m.ticket_id) for m in messages() if m.kind.startswith("resolved")]
        assert told == [
            ("resolved_survey", "+8613800138000", parent.id),
            ("resolved_merged", "+8613900139000", child.id),
        ]
        body = messages(kind="resolved_merged")[0].body
        # Issue 14: the parent is another citizen's ticket: its reply is not theirs to read.
        assert child.number in body and "路面已修补完毕" not in body and parent.number not in body

    def test_nothing_for_a_confidential_ticket(self, city, twilio):
        factories.make_ticket(city.operator, confidential=True)
        assert messages() == []

    def test_nothing_for_a_caller_who_opted_out(self, city, twilio):
        outbox.set_opt_out("+8613800138000", True)
        factories.make_ticket(city.operator)
        assert messages() == []
        factories.make_ticket(city.operator, caller_phone="13900139000")  # someone else still hears
        assert [m.to for m in messages()] == ["+8613900139000"]

    def test_nothing_for_a_consultation_answered_at_once(self, city, twilio):
        factories.make_ticket(
            city.operator, type="consultation", category="other", direct_answer="办事指南请见政务服务网。"
        )
        assert messages() == []

    def test_the_public_status_page_is_named_when_the_public_url_is_known(self, app, monkeypatch, city, twilio):
        monkeypatch.setitem(app.config, "HOTLINE_PUBLIC_URL", "https://hotline.example.gov")
        ticket = factories.make_ticket(city.operator)
        assert messages()[0].body == (
            f"【12345热线】您反映的问题已受理，工单号{ticket.number}。"
            "回复工单号可查询办理进度，或访问https://hotline.example.gov/status。回复TD退订。"
        )

    def test_the_callers_language(self, city, twilio):
        db.session.add(Caller(phone="+8613800138000", locale="en"))
        db.session.commit()
        ticket = factories.make_ticket(city.operator)
        body = messages()[0].body
        assert body.startswith("Hotline: your request is logged as ticket " + ticket.number)
        assert "STOP" in body

    def test_resolution_sends_the_reply_and_the_survey_question(self, city, twilio):
        ticket = resolved_ticket(city, "路面已修补完毕，感谢您的反映。")
        created, resolved = messages()
        assert created.kind == "created" and resolved.kind == "resolved_survey"
        assert resolved.status == Message.QUEUED and resolved.ticket_id == ticket.id
        assert "路面已修补完毕，感谢您的反映。" in resolved.body
        assert "回复1满意，2基本满意，3不满意" in resolved.body

    def test_a_long_reply_is_shortened_for_a_text(self, city, twilio):
        resolved_ticket(city, "很长的答复。" * 100)
        body = messages(kind="resolved_survey")[0].body
        assert "…" in body and len(body) < 200

    def test_the_same_dedupe_key_queues_once(self, city, twilio):
        ticket = factories.make_ticket(city.operator)
        first, created = outbox.queue_message("created", ticket.caller_phone, "x", ticket=ticket, dedupe_key="k1")
        again, created_again = outbox.queue_message("created", ticket.caller_phone, "y", dedupe_key="k1")
        assert created and not created_again and again.id == first.id and again.body == "x"
        # Intake's own text is keyed too: queued again, it is the one intake wrote.
        key = citizen_sms.created_key(ticket.number)
        assert (
            outbox.queue_message("created", ticket.caller_phone, "z", dedupe_key=key)[0].id
            == messages(kind="created")[0].id
        )
        assert len(messages()) == 2

    def test_a_failure_to_queue_never_fails_intake(self, city, twilio, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("outbox table is on fire")

        monkeypatch.setattr(outbox, "queue_message", broken)
        monkeypatch.setattr(citizen_sms, "created_text", broken)  # intake's own text
        ticket = factories.make_ticket(city.operator)
        assert db.session.get(Ticket, ticket.id).status == Status.NEW
        ticket = factories.make_routed_ticket(city.operator)
        tickets.accept(city.roads_staff, ticket)
        assert tickets.resolve(city.roads_staff, ticket, "已处理").status == Status.RESOLVED
        assert messages() == []


# -- sending -----------------------------------------------------------------------------------


class TestSending:
    def test_sends_through_the_twilio_client_once(self, city, twilio):
        ticket = factories.make_ticket(city.operator)
        [message] = messages()
        assert message.status == Message.QUEUED

        sent = outbox.send(message.id)

        [request] = twilio.message_requests()
        assert request.authorized
        assert request.form == {"To": "+8613800138000", "From": fake_twilio.FROM_NUMBER, "Body": message.body}
        assert ticket.number in request.form["Body"]
        assert sent.status == Message.SENT and sent.attempts == 1 and sent.sent_at is not None
        assert sent.provider_sid.startswith("SM") and len(sent.provider_sid) == 34
        assert sent.last_error is None and sent.next_attempt_at is None

        # Again, as a second delivery of the job would: nothing more goes out.
        assert outbox.send(message.id).status == Message.SENT
        assert len(twilio.message_requests()) == 1

    def test_a_messaging_service_instead_of_a_number(self, app, monkeypatch, city, twilio):
        monkeypatch.setitem(app.config, "TWILIO_FROM_NUMBER", "")
        monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", "MG" + "1" * 32)
        factories.make_ticket(city.operator)
        outbox.send(messages()[0].id)
        form = twilio.messages()[0]
        assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form

    def test_a_status_callback_is_asked_for_when_the_public_url_is_known(self, app, monkeypatch, city, twilio):
        monkeypatch.setitem(app.config, "HOTLINE_PUBLIC_URL", "https://hotline.example.gov/")
        factories.make_ticket(city.operator)
        message = messages()[0]
        outbox.send(message.id)
        assert twilio.messages()[0]["StatusCallback"] == (
            f"https://hotline.example.gov/twilio/status?outbox={message.id}"
        )

    def test_no_status_callback_without_a_public_url(self, city, twilio):
        factories.make_ticket(city.operator)
        outbox.send(messages()[0].id)
        assert "StatusCallback" not in twilio.messages()[0]

    def test_a_twilio_outage_is_retried_after_1_5_and_30_minutes_then_given_up(self, city, twilio):
        factories.make_ticket(city.operator)
        message_id = messages()[0].id
        twilio.fail_next(500, 20500, "Internal Server Error", times=4)
        now = utcnow()
        waits = []
        for attempt in range(1, 5):
            message = outbox.send(message_id, now=now)
            assert message.attempts == attempt and message.status == Message.FAILED
            assert "500" in message.last_error
            if message.next_attempt_at is None:
                break
            waits.append(message.next_attempt_at - now)
            # Not due yet: a job run too early sends nothing.
            assert outbox.send(message_id, now=message.next_attempt_at - timedelta(seconds=1)).attempts == attempt
            now = message.next_attempt_at
        assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]
        assert message.next_attempt_at is None and "Gave up after 4 attempts." in words(message)
        assert len(twilio.message_requests()) == 4
        # Given up: the sweep finds nothing due, even much later.
        assert message_id not in outbox.due_ids(now=now + timedelta(days=1))

    def test_a_retry_that_succeeds(self, city, twilio):
        factories.make_ticket(city.operator)
        message_id = messages()[0].id
        twilio.fail_next(503)
        now = utcnow()
        failed = outbox.send(message_id, now=now)
        assert failed.status == Message.FAILED and failed.next_attempt_at == now + timedelta(minutes=1)
        assert outbox.due_ids(now=now) == [] and outbox.due_ids(now=failed.next_attempt_at) == [message_id]
        sent = outbox.send(message_id, now=failed.next_attempt_at)
        assert sent.status == Message.SENT and sent.attempts == 2 and sent.last_error is None
        assert len(twilio.messages()) == 1

    def test_too_many_requests_is_retried(self, city, twilio):
        factories.make_ticket(city.operator)
        twilio.fail_next(429, 20429, "Too Many Requests")
        message = outbox.send(messages()[0].id)
        assert message.status == Message.FAILED and message.next_attempt_at is not None

    def test_a_refused_number_fails_at_once_without_retry(self, city, twilio):
        factories.make_ticket(city.operator)
        twilio.fail_next(400, 21211, "The 'To' number +8613800138000 is not a valid phone number.")
        message = outbox.send(messages()[0].id)
        assert message.status == Message.FAILED and message.next_attempt_at is None
        assert "400" in message.last_error and "21211" in message.last_error
        assert outbox.due_ids(now=utcnow() + timedelta(hours=1)) == []

    def test_a_recipient_unsubscribed_at_twilio_is_opted_out(self, city, twilio):
        factories.make_ticket(city.operator)
        twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
        assert outbox.send(messages()[0].id).status == Message.FAILED
        assert outbox.caller_for("+8613800138000").opted_out

    def test_wrong_credentials_fail_without_retry(self, app, monkeypatch, city, twilio):
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "not-the-token")
        factories.make_ticket(city.operator)
        message = outbox.send(messages()[0].id)
        assert message.status == Message.FAILED and message.next_attempt_at is None
        assert "401" in message.last_error and "20003" in message.last_error
        assert not twilio.message_requests()[0].authorized

    def test_twilio_unreachable_is_retried(self, app, monkeypatch, city, twilio):
        twilio.stop()  # nothing listens on its port any more
        factories.make_ticket(city.operator)
        message = outbox.send(messages()[0].id)
        assert message.status == Message.FAILED and message.next_attempt_at is not None
        assert words(message).startswith("Could not reach Twilio. Detail: ")

    def test_a_caller_who_opted_out_after_queueing_is_not_sent_to(self, city, twilio):
        factories.make_ticket(city.operator)
        outbox.set_opt_out("+8613800138000", True)
        message = outbox.send(messages()[0].id)
        assert (
            message.status == Message.FAILED and words(message) == "Not sent: the citizen opted out of text messages."
        )
        assert twilio.message_requests() == []

    def test_two_senders_at_once_send_once(self, app, city, twilio):
        factories.make_ticket(city.operator)
        message_id = messages()[0].id
        twilio.delay = 0.3  # both are inside `send` while the first one waits for Twilio
        results: list[str | None] = []
        barrier = threading.Barrier(2)

        def run() -> None:
            with app.app_context():
                barrier.wait(timeout=5)
                message = outbox.send(message_id)
                results.append(message.status if message else None)
                db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert len(results) == 2
        assert len(twilio.message_requests()) == 1
        assert messages()[0].status == Message.SENT and messages()[0].attempts == 1

    def test_a_message_left_sending_by_a_dead_worker_is_failed_not_resent(self, city, twilio):
        factories.make_ticket(city.operator)
        message = messages()[0]
        now = utcnow()
        message.status, message.attempts, message.next_attempt_at = Message.SENDING, 1, now + outbox.SENDING_LEASE
        db.session.commit()
        assert outbox.recover_stale(now) == 0  # still within its lease: a live worker may be sending
        assert outbox.recover_stale(now + outbox.SENDING_LEASE + timedelta(seconds=1)) == 1
        message = messages()[0]
        assert message.status == Message.FAILED and message.next_attempt_at is None
        assert "may have gone out" in words(message)
        assert outbox.send(message.id).status == Message.FAILED and twilio.message_requests() == []

    def test_an_administrator_retries_a_failed_message(self, city, twilio):
        factories.make_ticket(city.operator)
        twilio.fail_next(400, 21611, "This 'From' number has exceeded the maximum number of queued messages")
        message = outbox.send(messages()[0].id)
        assert message.status == Message.FAILED and message.next_attempt_at is None
        assert outbox.retry(message.id).status == Message.QUEUED
        with pytest.raises(Conflict):
            outbox.retry(message.id)  # queued already
        assert outbox.send(message.id).status == Message.SENT
        assert len(twilio.messages()) == 1

    def test_held_messages_go_once_twilio_is_configured(self, app, monkeypatch, city, no_queue):
        factories.make_ticket(city.operator)
        held = messages()[0]
        assert held.status == Message.HELD
        with fake_twilio.running(app, monkeypatch) as fake:
            outbox.retry(held.id)
            assert outbox.send(held.id).status == Message.SENT
            assert [form["Body"] for form in fake.messages()] == [held.body]


# -- delivery reports --------------------------------------------------------------------------


class TestDeliveryReports:
    def sent(self, city) -> OutboundMessage:
        factories.make_ticket(city.operator)
        return outbox.send(messages()[0].id)

    def test_delivered_then_a_late_sent_report_does_not_go_back(self, city, twilio):
        message = self.sent(city)
        assert outbox.apply_status(message.provider_sid, "delivered").status == Message.DELIVERED
        assert message.delivered_at is not None
        assert outbox.apply_status(message.provider_sid, "sent").status == Message.DELIVERED
        assert outbox.apply_status(message.provider_sid, "queued").status == Message.DELIVERED

    def test_undelivered_is_a_failure_with_its_code(self, city, twilio):
        message = self.sent(city)
        failed = outbox.apply_status(message.provider_sid, "undelivered", error_code="30003")
        assert (
            failed.status == Message.FAILED
            and words(failed) == "Twilio reported the message as undelivered. Twilio error code 30003."
        )
        assert failed.next_attempt_at is None  # the carrier gave up: not resent by itself

    def test_an_unknown_sid_changes_nothing(self, city, twilio):
        self.sent(city)
        assert outbox.apply_status("SM" + "f" * 32, "delivered") is None
        assert messages()[0].status == Message.SENT

    def test_a_report_that_beats_the_senders_commit_is_matched_by_outbox_id(self, city, twilio):
        factories.make_ticket(city.operator)
        message = messages()[0]
        message.status = Message.SENDING
        db.session.commit()
        sid = "SM" + "a" * 32
        early = outbox.apply_status(sid, "delivered", outbox_id=message.id, to=message.to)
        assert early.status == Message.DELIVERED and early.provider_sid == sid
        # The sender's own answer arrives after: the status stays delivered.
        outbox._finish(early, utcnow(), Message.SENT, error=None, provider_sid=sid, sent_at=utcnow())
        assert messages()[0].status == Message.DELIVERED and messages()[0].sent_at is not None

    def test_the_outbox_id_does_not_bind_another_numbers_report(self, city, twilio):
        message = factories.make_ticket(city.operator) and messages()[0]
        message.status = Message.SENDING
        db.session.commit()
        assert outbox.apply_status("SM" + "b" * 32, "delivered", outbox_id=message.id, to="+8613900139000") is None
        assert messages()[0].provider_sid is None


# -- the sweep and the API ---------------------------------------------------------------------


def test_requeue_counts_the_messages_waiting(city, twilio):
    factories.make_ticket(city.operator)  # its text queued, its job not enqueued (no Redis here)
    factories.make_ticket(city.operator, caller_phone="13900139000")
    result = recovery.requeue()
    assert (result.waiting, result.messages_waiting, result.messages_enqueued) == (2, 2, 0)
    assert not result.has_queue


def test_the_api_shows_a_tickets_notifications(city, twilio, api):
    ticket = factories.make_routed_ticket(city.operator)
    outbox.send(messages()[0].id)
    body = api(city.supervisor).get(f"/api/v1/tickets/{ticket.number}").get_json()
    [notification] = body["notifications"]
    assert set(notification) == {"channel", "to", "status", "body", "created_at", "sent_at"}
    assert notification["channel"] == "sms" and notification["to"] == "+8613800138000"
    assert notification["status"] == "sent" and ticket.number in notification["body"]
    assert notification["sent_at"].endswith("+00:00")
    staff = api(city.roads_staff).get(f"/api/v1/tickets/{ticket.number}").get_json()
    assert staff["notifications"][0]["to"] == "138****8000"  # masked like the caller's number


def test_counts_by_status(city, twilio):
    factories.make_ticket(city.operator)
    factories.make_ticket(city.operator, caller_phone="13900139000")
    outbox.send(messages()[0].id)
    assert outbox.counts_by_status() == {"sent": 1, "queued": 1}
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 2
