"""The operators' console: who may use it, the live feed, answering into the intake form (and
the ticket linked to the call), and the missed calls' call-backs."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Call, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import calls
from tests import factories
from tests.web.conftest import text_of

PHONE = "+8613800138000"
FORM = {
    "caller_phone": "13800138000",
    "caller_name": "李四",
    "type": "complaint",
    "category": "potholes",
    "district": "east",
    "address": "人民路 12 号",
    "description": "路面塌陷，车辆无法通行。",
    "urgency": "normal",
    "channel": "phone",
}


def ringing(sid: str = "CA1", phone: str = PHONE, minutes_ago: float = 1) -> Call:
    return calls.log_call(sid, phone, "+8653112345", now=utcnow() - timedelta(minutes=minutes_ago))


def missed(sid: str, phone: str = PHONE, minutes_ago: float = 10) -> Call:
    return calls.end_call(ringing(sid, phone, minutes_ago), "no-answer")


def reload(call: Call) -> Call:
    db.session.expire_all()
    return db.session.get(Call, call.id)


class TestAccess:
    @pytest.mark.parametrize("path", ["/console/", "/console/calls.json"])
    def test_anonymous_visitors_are_sent_to_log_in(self, client, city, path):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location

    @pytest.mark.parametrize("path", ["/console/", "/console/calls.json"])
    def test_department_staff_may_not_see_it(self, login, city, path):
        assert login(city.roads_staff).get(path).status_code == 403

    def test_department_staff_may_not_answer_or_call_back(self, login, city):
        ringing("CA1")
        missed("CA2")
        client = login(city.roads_staff)
        assert client.post("/console/calls/CA1/answer").status_code == 403
        assert client.post("/console/calls/CA2/called-back").status_code == 403
        assert reload(db.session.scalar(select(Call).where(Call.call_sid == "CA1"))).answered_at is None

    @pytest.mark.parametrize("role", ["operator", "dispatcher", "supervisor", "admin"])
    def test_intake_roles_use_it_and_find_it_in_the_menu(self, login, city, role):
        response = login(getattr(city, role)).get("/console/")
        assert response.status_code == 200
        assert 'href="/console/"' in text_of(response)

    def test_the_menu_has_no_console_for_department_staff(self, login, city):
        assert 'href="/console/"' not in text_of(login(city.roads_staff).get("/tickets"))


class TestPage:
    def test_a_ringing_call_shows_with_the_callers_earlier_tickets(self, login, city):
        earlier = factories.make_ticket(city.operator, description="上个月反映过路灯不亮")
        ringing("CA1")
        html = text_of(login(city.operator).get("/console/"))
        assert 'data-sid="CA1"' in html and "13800138000" in html
        assert "Ringing" in html
        assert earlier.number in html and "1 earlier ticket from this number." in html
        assert 'action="/console/calls/CA1/answer"' in html
        assert 'src="/static/console.js"' in html and "<script>" not in html  # no inline script
        assert 'id="live-empty" hidden' in html

    def test_a_withheld_number_is_said_so(self, login, city):
        ringing("CA1", phone="anonymous")
        html = text_of(login(city.operator).get("/console/"))
        assert "Number withheld" in html and "withheld their number" in html

    def test_empty_lists_say_so(self, login, city):
        html = text_of(login(city.operator).get("/console/"))
        assert "No calls right now." in html and "No missed calls waiting." in html
        assert 'id="live-empty">' in html  # shown, not hidden


class TestFeed:
    def test_the_feed_lists_live_and_missed_calls(self, login, city):
        earlier = factories.make_ticket(city.operator)
        ringing("CA1", minutes_ago=2)
        calls.mark_queued(ringing("CA2", "+8613900139000", minutes_ago=1))
        missed("CA3", "+8613700137000")
        feed = login(city.operator).get("/console/calls.json").get_json()
        assert [row["sid"] for row in feed["live"]] == ["CA1", "CA2"]
        first = feed["live"][0]
        assert first["status"] == "ringing" and first["status_label"] == "Ringing"
        assert first["phone"] == "13800138000" and not first["answered"]
        assert earlier.number in first["html"] and 'data-key="' + first["key"] + '"' in first["html"]
        query = parse_qs(urlsplit(first["intake_url"]).query)
        assert query == {"phone": ["13800138000"], "call": ["CA1"]}
        assert feed["live"][1]["status_label"] == "Waiting in the queue"
        assert [row["sid"] for row in feed["missed"]] == ["CA3"] and feed["missed_total"] == 1
        assert "/console/calls/CA3/called-back" in feed["missed"][0]["html"]
        assert abs(feed["now"] / 1000 - utcnow().timestamp()) < 60
        assert re.fullmatch(r"\d\d:\d\d:\d\d", feed["now_label"])

    def test_a_rows_key_changes_only_when_the_row_does(self, login, city):
        call = ringing("CA1")
        client = login(city.operator)
        key = client.get("/console/calls.json").get_json()["live"][0]["key"]
        assert client.get("/console/calls.json").get_json()["live"][0]["key"] == key
        calls.answer_call(city.operator, call)
        row = client.get("/console/calls.json").get_json()["live"][0]
        assert row["key"] != key and row["answered"] and "Open the intake form" in row["html"]
        factories.make_ticket(city.operator)  # a new earlier ticket for this caller
        assert client.get("/console/calls.json").get_json()["live"][0]["key"] != row["key"]

    def test_ended_calls_leave_the_live_list(self, login, city):
        call = ringing("CA1")
        client = login(city.operator)
        assert len(client.get("/console/calls.json").get_json()["live"]) == 1
        calls.end_call(call, "completed")
        feed = client.get("/console/calls.json").get_json()
        assert feed["live"] == [] and [row["sid"] for row in feed["missed"]] == ["CA1"]


class TestAnswer:
    def test_answering_opens_the_intake_form_pre_filled(self, login, city):
        call = ringing("CA1")
        client = login(city.operator)
        response = client.post("/console/calls/CA1/answer")
        assert response.status_code == 302
        target = urlsplit(response.location)
        assert target.path == "/tickets/new"
        assert parse_qs(target.query) == {"phone": ["13800138000"], "call": ["CA1"]}
        assert reload(call).status == calls.IN_PROGRESS and reload(call).answered_at is not None
        html = text_of(client.get(response.location))
        assert re.search(r'<input[^>]*name="caller_phone"[^>]*value="13800138000"', html)
        assert '<input type="hidden" name="call" value="CA1">' in html

    def test_a_call_someone_answered_first_is_refused_with_a_message(self, login, city):
        ringing("CA1")
        login(city.operator).post("/console/calls/CA1/answer")
        second = factories.make_user("operator")
        second.locale = "en"
        db.session.commit()
        client = login(second)
        response = client.post("/console/calls/CA1/answer")
        assert response.status_code == 302 and response.location == "/console/"
        assert "This call has already been answered." in text_of(client.get("/console/"))

    def test_a_caller_who_hung_up_is_to_be_called_back(self, login, city):
        missed("CA1")
        client = login(city.operator)
        response = client.post("/console/calls/CA1/answer", follow_redirects=True)
        assert "The caller has hung up." in text_of(response)

    def test_an_unknown_call_is_a_404(self, login, city):
        assert login(city.operator).post("/console/calls/CA-none/answer").status_code == 404
        assert login(city.operator).post("/console/calls/" + "x" * 300 + "/called-back").status_code == 404

    def test_the_intake_links_the_ticket_to_the_call(self, login, city):
        call = ringing("CA1")
        client = login(city.operator)
        client.post("/console/calls/CA1/answer")
        response = client.post("/tickets/new", data={**FORM, "call": "CA1"})
        assert response.status_code == 302
        ticket = db.session.scalars(select(Ticket)).one()
        assert reload(call).ticket_id == ticket.id

    def test_an_intake_opened_without_answering_still_links_and_answers(self, login, city):
        call = ringing("CA1")
        login(city.operator).post("/tickets/new", data={**FORM, "call": "CA1"})
        call = reload(call)
        assert call.ticket is not None and call.answered_at is not None and call.status == calls.IN_PROGRESS

    def test_the_call_survives_a_form_shown_again(self, login, city):
        ringing("CA1")
        client = login(city.operator)
        response = client.post("/tickets/new", data={**FORM, "category": "", "call": "CA1"})
        assert response.status_code == 200
        assert '<input type="hidden" name="call" value="CA1">' in text_of(response)

    def test_an_unknown_call_does_not_stop_the_intake(self, login, city):
        response = login(city.operator).post("/tickets/new", data={**FORM, "call": "CA-gone\x00"})
        assert response.status_code == 302
        assert db.session.scalars(select(Ticket)).one() is not None

    def test_without_a_call_the_form_has_no_call_field(self, login, city):
        assert 'name="call"' not in text_of(login(city.operator).get("/tickets/new?phone=13800138000"))


class TestCallBack:
    def test_marking_a_missed_call_called_back(self, login, city):
        call = missed("CA1")
        client = login(city.operator)
        assert 'data-sid="CA1"' in text_of(client.get("/console/"))
        response = client.post("/console/calls/CA1/called-back", follow_redirects=True)
        assert "Call-back to 13800138000 recorded." in text_of(response)
        call = reload(call)
        assert call.called_back_by == city.operator and call.called_back_at is not None
        feed = client.get("/console/calls.json").get_json()
        assert feed["missed"] == [] and feed["missed_total"] == 0

    def test_a_call_that_was_not_missed_is_refused(self, login, city):
        ringing("CA1")
        response = login(city.operator).post("/console/calls/CA1/called-back", follow_redirects=True)
        assert "Only a missed call can be called back." in text_of(response)

    def test_logging_a_ticket_from_a_missed_call_is_its_call_back(self, login, city):
        call = missed("CA1")
        client = login(city.operator)
        html = text_of(client.get("/console/"))
        assert "/tickets/new?phone=13800138000&call=CA1" in html
        client.post("/tickets/new", data={**FORM, "call": "CA1"})
        call = reload(call)
        assert call.ticket is not None and call.called_back_by == city.operator
        assert client.get("/console/calls.json").get_json()["missed"] == []
