"""Contact with the citizen (先联系后办理) and callback (回访), issue 17 items 3 and 5.

Calls go through the real `twilio` client to tests/fake_twilio.py; Twilio's webhooks are
played by the test, signed with twilio's RequestValidator as Twilio signs them.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from hotline.extensions import db
from hotline.models import OutboundMessage, SlaPolicy, Status, Ticket, TicketContact, TicketEvent, ViewRecord
from hotline.models.audit import ViewChannel
from hotline.models.types import utcnow
from hotline.services.citizens import citizen_contact
from hotline.services.clocks import policies, sla
from hotline.services.errors import InvalidInput
from hotline.services.ticketing import deadlines, tickets
from tests import factories, fake_twilio

STAFF_PHONE = "+8613900139000"


def post_signed(client: FlaskClient, path: str, params: dict[str, str]):
    url = f"http://localhost{path}"
    signature = RequestValidator(fake_twilio.AUTH_TOKEN).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)  # texts stay queued in the outbox
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


def accepted(city) -> Ticket:
    ticket = factories.make_routed_ticket(city.operator)
    return tickets.accept(city.roads_staff, ticket)


def with_phone(user, phone: str = STAFF_PHONE):
    citizen_contact.set_phone(user, phone)
    return user


class TestClickToCall:
    def test_the_hotline_rings_the_staff_phone_bridges_the_citizen_and_logs_the_call(self, city, api, app, twilio):
        ticket = accepted(city)
        assert ticket.contact_due_at is not None and ticket.first_contacted_at is None
        with_phone(city.roads_staff)
        answer = api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/call-citizen", json={})
        assert answer.status_code == 202, answer.get_data(as_text=True)
        [call] = twilio.calls()
        assert call["To"] == STAFF_PHONE and call["From"] == fake_twilio.FROM_NUMBER
        assert call["Url"].endswith("/twilio/contact/bridge") and call["StatusCallback"].endswith(
            "/twilio/contact/status"
        )
        sid = db.session.scalar(select(TicketContact.call_sid))
        assert answer.get_json()["contacts"] == [
            {
                "outcome": "calling",
                "note": "",
                "by": "roads_staff",
                "at": answer.get_json()["contacts"][0]["at"],
                "purpose": "contact",
                "duration_seconds": None,
            }
        ]

        client = app.test_client()
        bridge = post_signed(client, "/twilio/contact/bridge", {"CallSid": sid, "CallStatus": "in-progress"})
        dial = ElementTree.fromstring(bridge.get_data()).find("Dial")
        assert dial is not None and dial.get("callerId") == fake_twilio.FROM_NUMBER  # the hotline's number, not theirs
        assert dial.find("Number").text == ticket.caller_phone
        assert (
            post_signed(
                client,
                "/twilio/contact/dialled",
                {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "42"},
            ).status_code
            == 200
        )
        params = {"CallSid": sid, "CallStatus": "completed", "CallDuration": "50"}
        assert post_signed(client, "/twilio/contact/status", params).status_code == 204
        assert post_signed(client, "/twilio/contact/status", params).status_code == 204  # Twilio posts again: once

        db.session.expire_all()
        [contact] = citizen_contact.contacts_of(ticket)
        assert (contact.outcome, contact.duration_seconds) == ("reached", 42)
        assert ticket.first_contacted_at is not None and sla.contact_level(ticket, utcnow()) is None
        logged = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "citizen_called")).all()
        assert len(logged) == 1 and logged[0].data["duration_seconds"] == 42 and logged[0].actor is None
        body = api(city.roads_staff).get(f"/api/v1/tickets/{ticket.number}").get_json()
        assert body["first_contacted_at"] is not None and body["contacts"][0]["duration_seconds"] == 42

    def test_an_unanswered_citizen_leg_is_no_answer_and_the_clock_runs_on(self, city, api, app, twilio):
        ticket = accepted(city)
        with_phone(city.roads_staff)
        api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/call-citizen", json={})
        sid = db.session.scalar(select(TicketContact.call_sid))
        client = app.test_client()
        post_signed(client, "/twilio/contact/dialled", {"CallSid": sid, "DialCallStatus": "no-answer"})
        post_signed(client, "/twilio/contact/status", {"CallSid": sid, "CallStatus": "completed", "CallDuration": "31"})
        db.session.expire_all()
        [contact] = citizen_contact.contacts_of(ticket)
        assert contact.outcome == "no_answer" and ticket.first_contacted_at is None

    def test_an_unsigned_status_callback_is_refused(self, app, twilio):
        response = app.test_client().post("/twilio/contact/status", data={"CallSid": "CA1", "CallStatus": "completed"})
        assert response.status_code == 403

    def test_staff_without_their_own_phone_are_told_to_add_it(self, city, api, twilio):
        ticket = accepted(city)
        answer = api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/call-citizen", json={})
        assert answer.status_code == 400 and twilio.calls() == []

    def test_another_units_staff_get_404_and_a_stale_version_409(self, city, api, twilio):
        ticket = accepted(city)
        with_phone(city.water_staff)
        assert api(city.water_staff).post(f"/api/v1/tickets/{ticket.number}/call-citizen", json={}).status_code == 404
        with_phone(city.roads_staff)
        stale = {"version": ticket.version - 1}
        assert (
            api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/call-citizen", json=stale).status_code == 409
        )
        assert twilio.calls() == []

    def test_a_staff_phone_is_validated(self, city):
        assert citizen_contact.staff_phone("139 0013 9000") == STAFF_PHONE
        with pytest.raises(InvalidInput):
            citizen_contact.staff_phone("12345")


class TestRecordedContacts:
    def test_no_answer_keeps_the_clock_running_reached_stops_it(self, city, api):
        ticket = accepted(city)
        url = f"/api/v1/tickets/{ticket.number}/contacts"
        body = api(city.roads_staff).post(url, json={"outcome": "no_answer", "note": "无人接听"}).get_json()
        assert body["first_contacted_at"] is None
        body = api(city.roads_staff).post(url, json={"outcome": "reached", "note": "已电话联系"}).get_json()
        assert body["first_contacted_at"] is not None
        assert [(c["outcome"], c["note"], c["by"]) for c in body["contacts"]] == [
            ("no_answer", "无人接听", "roads_staff"),
            ("reached", "已电话联系", "roads_staff"),
        ]
        kinds = [e["kind"] for e in body["events"]]
        assert kinds.count("contacted") == 2

    def test_bad_input_and_wrong_state(self, city, api):
        ticket = accepted(city)
        url = f"/api/v1/tickets/{ticket.number}/contacts"
        assert api(city.roads_staff).post(url, json={"outcome": "maybe"}).status_code == 400
        assert api(city.roads_staff).post(url, json={"outcome": "reached", "version": 1}).status_code == 409
        assert api(city.water_staff).post(url, json={"outcome": "reached"}).status_code == 404
        tickets.resolve(city.roads_staff, ticket, "已修复。")
        assert api(city.roads_staff).post(url, json={"outcome": "reached"}).status_code == 409
        assert citizen_contact.contacts_of(ticket) == []

    def test_a_text_from_a_template_goes_through_the_outbox(self, city, api, app, monkeypatch):
        monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
        ticket = accepted(city)
        url = f"/api/v1/tickets/{ticket.number}/contacts"
        body = (
            api(city.roads_staff)
            .post(url, json={"outcome": "text", "template": "contact_visit", "note": ""})
            .get_json()
        )
        assert body["first_contacted_at"] is not None
        texts = db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "contact_visit")).all()
        assert len(texts) == 1 and ticket.number in texts[0].body and texts[0].to == ticket.caller_phone

    def test_revealing_the_number_needs_a_reason_and_is_logged(self, city, api):
        ticket = accepted(city)
        url = f"/api/v1/tickets/{ticket.number}/reveal-phone"
        assert api(city.roads_staff).post(url, json={"reason": " "}).status_code == 400
        answer = api(city.roads_staff).post(url, json={"reason": "上门核实需要联系"})
        assert answer.get_json()["caller_phone"] == ticket.caller_phone
        record = db.session.scalar(select(ViewRecord).where(ViewRecord.via == ViewChannel.REVEAL))
        assert record.reason == "上门核实需要联系" and record.user_id == city.roads_staff.id


class TestFirstContactClock:
    def test_the_clock_starts_at_dispatch_from_the_policy(self, city):
        ticket = factories.make_routed_ticket(city.operator, urgency="urgent")
        assert ticket.contact_due_at - ticket.dispatched_at == timedelta(minutes=30)

    def test_a_policy_refuses_a_first_contact_limit_past_the_resolve_limit(self, city):
        values = {
            "category": "water-supply",
            "urgency": "urgent",
            "accept_amount": 30,
            "accept_unit": "calendar_minutes",
            "resolve_amount": 2,
            "resolve_unit": "calendar_hours",
        }
        with pytest.raises(InvalidInput) as refused:
            policies.create_policy(city.admin, values | {"contact_amount": 180, "contact_unit": "calendar_minutes"})
        assert refused.value.field == "contact_amount"
        policy = policies.create_policy(city.admin, values | {"contact_amount": 20, "contact_unit": "calendar_minutes"})
        assert (policy.contact_amount, policy.contact_unit) == (20, "calendar_minutes")


class TestCallback:
    def resolved(self, city) -> Ticket:
        ticket = accepted(city)
        return tickets.resolve(city.roads_staff, ticket, "已修复。")

    def test_a_resolved_complaint_is_in_the_queue_until_called_back(self, city, api):
        ticket = self.resolved(city)
        queue = api(city.operator).get("/api/v1/callbacks").get_json()["tickets"]
        assert [t["number"] for t in queue] == [ticket.number]
        answer = api(city.operator).post(
            f"/api/v1/tickets/{ticket.number}/callback", json={"rating": "satisfied", "words": "修得很快"}
        )
        assert answer.status_code == 200 and answer.get_json()["status"] == Status.CLOSED
        assert api(city.operator).get("/api/v1/callbacks").get_json()["tickets"] == []

    def test_unsatisfied_reopens_the_ticket_as_a_text_rating_does(self, city, api):
        ticket = self.resolved(city)
        answer = api(city.operator).post(
            f"/api/v1/tickets/{ticket.number}/callback", json={"rating": "unsatisfied", "words": "坑还在"}
        )
        body = answer.get_json()
        assert body["status"] == Status.IN_PROGRESS
        kinds = [e["kind"] for e in body["events"]]
        assert kinds[-3:] == ["called_back", "rated", "reopened"]
        assert body["contacts"][-1]["rating"] == "unsatisfied" and body["contacts"][-1]["note"] == "坑还在"

    def test_department_staff_may_not_call_back(self, city, api):
        ticket = self.resolved(city)
        url = f"/api/v1/tickets/{ticket.number}/callback"
        assert api(city.roads_staff).post(url, json={"rating": "satisfied"}).status_code == 403


class TestWaitingOnTheCitizen:
    def test_the_question_goes_by_text_and_the_reply_lands_on_the_ticket_and_resumes_it(self, city, app, monkeypatch):
        monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", fake_twilio.AUTH_TOKEN)
        ticket = accepted(city)
        other = accepted(city)  # the same caller's later ticket, not waiting: the reply is not its
        deadlines.wait_on_citizen(city.roads_staff, ticket, "请补充现场照片和具体门牌号")
        [question] = db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "waiting_question")).all()
        assert question.to == ticket.caller_phone and "请补充现场照片和具体门牌号" in question.body
        params = {
            "MessageSid": "SM" + "7" * 32,
            "From": ticket.caller_phone,
            "To": "+8653112345",
            "Body": "门牌号是人民路12号",
        }
        assert post_signed(app.test_client(), "/twilio/sms", params).status_code == 200
        db.session.expire_all()
        assert ticket.status == Status.IN_PROGRESS
        kinds = [event.kind for event in ticket.events]
        assert kinds[-2:] == ["citizen_message", "resumed"] and ticket.events[-2].data["text"] == "门牌号是人民路12号"
        assert "citizen_message" not in [event.kind for event in other.events]


class TestOwnPhone:
    def test_staff_set_their_own_phone_validated(self, city, login):
        client = login(city.roads_staff)
        page = client.post("/account/phone", data={"phone": "12345"}, follow_redirects=True).get_data(as_text=True)
        assert "not a valid phone number" in page or "不是有效的电话号码" in page
        db.session.expire_all()
        assert city.roads_staff.phone is None
        client.post("/account/phone", data={"phone": "139 0013 9000"})
        db.session.expire_all()
        assert city.roads_staff.phone == STAFF_PHONE


def test_the_policy_page_sets_and_checks_the_first_contact_limit(city, login):
    client = login(city.admin)
    form = {
        "category": "water-supply",
        "urgency": "urgent",
        "accept_amount": "30",
        "accept_unit": "calendar_minutes",
        "resolve_amount": "2",
        "resolve_unit": "calendar_hours",
        "return_window_days": "1",
        "max_extension_days": "5",
        "contact_unit": "calendar_minutes",
    }
    refused = client.post("/admin/sla-policies/new", data=form | {"contact_amount": "180"})
    assert refused.status_code == 400
    saved = client.post("/admin/sla-policies/new", data=form | {"contact_amount": "20"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    policy = db.session.scalar(select(SlaPolicy))
    assert (policy.contact_amount, policy.contact_unit) == (20, "calendar_minutes")
