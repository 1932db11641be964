"""Contact with the citizen (先联系后办理, issue 17) in headless Chromium: a unit's staff member
clicks "call the citizen" on the ticket page; the fake Twilio (through the official client) sees
the call to their own phone; the TwiML it fetches bridges the citizen from the hotline's number;
the signed status callback logs the call's duration; the contact shows on the timeline and the
first-contact clock stops.

Twilio's webhooks are posted to the live server at the very URLs the app gave Twilio, signed with
twilio's RequestValidator. Same set-up as test_end_to_end (its live server and browser fixtures).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from twilio.request_validator import RequestValidator

from hotline.extensions import db
from hotline.models import Ticket, TicketContact
from hotline.services.citizens import citizen_contact
from hotline.services.ticketing import tickets
from tests import factories, fake_twilio
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

STAFF_PHONE = "+8613900139000"


def twilio_posts(url: str, params: dict[str, str]) -> requests.Response:
    signature = RequestValidator(fake_twilio.AUTH_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def test_a_unit_calls_the_citizen_through_the_hotline(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
    citizen_contact.set_phone(city.roads_staff, STAFF_PHONE)
    number, citizen = ticket.number, ticket.caller_phone
    db.session.close()  # no open read transaction may block the server on SQLite

    with fake_twilio.running(app, monkeypatch) as fake:
        page = new_page(browser, "en-US")
        page.goto(f"{live_server}/tickets/{number}")
        log_in(page, "roads_staff")
        expect(page.locator("#contact-due")).to_be_visible()  # the first-contact clock runs
        page.click("#call-citizen")
        expect(page.locator(".alert-success")).to_contain_text("Your phone will ring")
        [call] = fake.calls()
        assert call["To"] == STAFF_PHONE and call["From"] == fake_twilio.FROM_NUMBER

        # The staff member answers: Twilio fetches the TwiML, which dials the citizen from the hotline's number.
        sid = db.session.scalar(db.select(TicketContact.call_sid))
        db.session.close()
        answer = twilio_posts(call["Url"], {"CallSid": sid, "CallStatus": "in-progress", "To": STAFF_PHONE})
        assert answer.status_code == 200, answer.text
        dial = ElementTree.fromstring(answer.content).find("Dial")
        assert dial.get("callerId") == fake_twilio.FROM_NUMBER and dial.find("Number").text == citizen
        assert STAFF_PHONE not in answer.text  # the citizen never sees the staff member's number
        dialled = twilio_posts(
            dial.get("action"), {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "95"}
        )
        assert dialled.status_code == 200
        ended = twilio_posts(call["StatusCallback"], {"CallSid": sid, "CallStatus": "completed", "CallDuration": "104"})
        assert ended.status_code == 204

        page.reload()
        timeline = page.locator(".timeline-citizen_called")
        expect(timeline).to_contain_text("Call to the citizen")
        expect(timeline).to_contain_text("95 s")
        expect(page.locator("#contacts")).to_contain_text("Reached")
        expect(page.locator("#first-contacted")).to_contain_text("Contacted in time")
        expect(page.locator("#contact-due")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "contact.png"), full_page=True)
        print(f"screenshot in {tmp_path}")

    db.session.expire_all()
    stored = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    assert stored.first_contacted_at is not None
