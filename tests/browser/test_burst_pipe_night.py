"""Issue 17 "Done when", in headless Chromium on a city built as the other browser tests build
theirs: an urgent burst pipe (爆管) logged out of office hours is routed to a district (a real RQ
worker); the person on duty gets a text and, unanswered, a voice call (fake Twilio through the
official client); they accept it and send it down to a street office; the street's handler calls
the citizen through the hotline (the bridged call and its signed status callback), records the
contact and replies; the district approves the reply; the operator's callback records 满意; the
supervisor's report shows the district's row counting the ticket, with the first-contact figures.
Another street's staff get 404 on the ticket through the API; the district's staff see it.

"Saturday at 22:00": as the duty tests do, today is made a holiday (out of office hours all
day) and the time of the next alert step is moved to now. Screenshots go to the test's tmp dir.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import DutyAlert, DutyShift, Role, Status, Ticket, TicketContact, TicketEvent
from hotline.models.types import utcnow
from hotline.services.citizens import citizen_contact
from hotline.services.city import duty
from hotline.services.clocks.calendar import forget_cached_calendar
from hotline.services.reporting import report_figures
from tests import factories, fake_twilio
from tests.browser.test_contact_call import twilio_posts
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.test_duty_worker_rq import move_time_to_next_step
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.worker]

OFFICER_PHONE = "+8613900000001"  # the district's person on duty
HANDLER_PHONE = "+8613900000002"  # the street's handler
OPERATOR_PHONE = "+8613900000003"
CITIZEN = "13800138000"
CITIZEN_E164 = "+8613800138000"  # as the hotline dials it


@pytest.fixture
def out_of_hours(holidays):
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    holidays.set_day(today, True, "测试假日")
    forget_cached_calendar()
    yield today
    forget_cached_calendar()


@pytest.fixture
def tree(city):
    """东城区 (a district unit) with two street offices; 爆管 is routed to the district; the
    district's person on duty has a shift around now."""
    district = factories.make_department("dongcheng", "东城区")
    dongsi = factories.make_department("dongsi", "东四街道")
    jingshan = factories.make_department("jingshan", "景山街道")
    dongsi.parent = jingshan.parent = district
    db.session.commit()
    factories.make_category("burst-pipe", district, name="爆管")
    officer = factories.make_user(Role.DEPARTMENT, district, username="dc_duty")
    district_staff = factories.make_user(Role.DEPARTMENT, district, username="dc_staff")
    handler = factories.make_user(Role.DEPARTMENT, dongsi, username="dongsi_handler")
    other_street = factories.make_user(Role.DEPARTMENT, jingshan, username="jingshan_staff")
    duty.set_duty_phone(officer, OFFICER_PHONE)
    citizen_contact.set_phone(handler, HANDLER_PHONE)
    citizen_contact.set_phone(city.operator, OPERATOR_PHONE)
    now = utcnow()
    db.session.add(
        DutyShift(
            department_id=district.id,
            user_id=officer.id,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
        )
    )
    db.session.commit()
    return other_street, district_staff


def to(fake: fake_twilio.FakeTwilio, phone: str) -> tuple[list[dict], list[dict]]:
    return [m for m in fake.messages() if m["To"] == phone], [c for c in fake.calls() if c["To"] == phone]


def answer_bridged_call(call: dict[str, str], sid: str, staff_phone: str, seconds: int) -> None:
    """Twilio's side of a click-to-call: the staff member answers, the TwiML dials the citizen
    from the hotline's number, the citizen's leg ends, then the call; each webhook signed."""
    answer = twilio_posts(call["Url"], {"CallSid": sid, "CallStatus": "in-progress", "To": staff_phone})
    assert answer.status_code == 200, answer.text
    dial = ElementTree.fromstring(answer.content).find("Dial")
    assert dial.get("callerId") == fake_twilio.FROM_NUMBER and dial.find("Number").text == CITIZEN_E164
    assert staff_phone not in answer.text
    dialled = twilio_posts(
        dial.get("action"), {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": str(seconds)}
    )
    assert dialled.status_code == 200
    ended = twilio_posts(
        call["StatusCallback"], {"CallSid": sid, "CallStatus": "completed", "CallDuration": str(seconds + 9)}
    )
    assert ended.status_code == 204


def last_call_sid() -> str:
    sid = db.session.scalar(select(TicketContact.call_sid).order_by(TicketContact.id.desc()).limit(1))
    db.session.close()
    return sid


def test_a_burst_pipe_on_saturday_night_goes_down_to_a_street_and_back(
    app,
    city,
    tree,
    out_of_hours,
    queue,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    monkeypatch,
    api,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    other_street, district_staff = tree
    db.session.close()  # no open read transaction may block the server on SQLite
    page = new_page(browser)
    shots = iter(range(1, 100))
    print(f"screenshots in {tmp_path}")

    def shot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{next(shots):02d}-{name}.png"), full_page=True)

    def log_out() -> None:
        page.click("#account-menu")
        page.click("form[action='/logout'] button")
        expect(page).to_have_url(re.compile(r"/login$"))

    with fake_twilio.running(app, monkeypatch) as fake:
        # The operator logs the burst pipe as urgent.
        page.goto(f"{live_server}/tickets/new?phone={CITIZEN}")
        log_in(page, "operator")
        page.fill("#caller_name", "王先生")
        page.select_option("#type", "complaint")
        page.select_option("#category", "burst-pipe")
        page.select_option("#urgency", "urgent")
        page.select_option("#district", "east")
        page.fill("#address", "东城区东四北大街 88 号")
        page.fill("#description", "东四北大街自来水管爆裂，路面大量积水，请尽快抢修。")
        page.click("#intake-form button[type=submit]")
        expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
        number = page.url.rsplit("/", 1)[1]
        shot("logged")
        log_out()

        # A real worker routes it to the district and texts the person on duty at once.
        output = run_burst_worker(**fake_twilio.worker_env(fake))
        assert queue.failed_job_registry.count == 0, output
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status == Status.DISPATCHED and ticket.department.code == "dongcheng"
        db.session.close()
        texts, calls = to(fake, OFFICER_PHONE)
        assert len(texts) == 1 and number in texts[0]["Body"] and "爆管" in texts[0]["Body"] and calls == []

        # Unanswered: the next step's time comes, and the worker calls them.
        move_time_to_next_step()
        output = run_burst_worker(**fake_twilio.worker_env(fake))
        assert queue.failed_job_registry.count == 0, output
        texts, calls = to(fake, OFFICER_PHONE)
        assert len(texts) == 1 and len(calls) == 1 and "<Say" in calls[0]["Twiml"]
        db.session.close()

        # The person on duty accepts it: no more alerts.
        page.goto(f"{live_server}/tickets/{number}")
        log_in(page, "dc_duty")
        page.click(f"form[action='/tickets/{number}/accept'] button")
        expect(page.locator("#handler")).to_contain_text("dc_duty")
        move_time_to_next_step()
        output = run_burst_worker(**fake_twilio.worker_env(fake))
        assert queue.failed_job_registry.count == 0, output
        assert [len(sent) for sent in to(fake, OFFICER_PHONE)] == [1, 1]
        assert db.session.scalar(select(DutyAlert.status).order_by(DutyAlert.id).limit(1)) == DutyAlert.STOPPED
        db.session.close()

        # From here on the app sends at once (as the contact tests do), without a worker.
        monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)

        # ... and sends it down to the street office.
        page.click("#subdispatch-card summary")
        page.select_option("#subdispatch-department", "dongsi")
        page.fill("#subdispatch-note", "请东四街道立即组织抢修")
        page.click(f"form[action='/tickets/{number}/subdispatch'] button[type=submit]")
        expect(page.locator(".alert-success")).to_contain_text("已下派至 东四街道")
        expect(page.locator("#holders .holder")).to_have_count(2)
        shot("sent-down")
        log_out()
        # While the street holds it: another street's staff get 404, the district's staff see the chain.
        assert api(other_street).get(f"/api/v1/tickets/{number}").status_code == 404
        seen = api(district_staff).get(f"/api/v1/tickets/{number}")
        assert seen.status_code == 200, seen.get_data(as_text=True)
        body = seen.get_json()
        assert body["department"] == "dongcheng" and body["holder"] == "dongsi"
        assert [h["department"] for h in body["holders"]] == ["dongcheng", "dongsi"]

        # The street's handler signs for it and calls the citizen through the hotline.
        page.goto(f"{live_server}/tickets/{number}")
        log_in(page, "dongsi_handler")
        page.click(f"form[action='/tickets/{number}/accept'] button")
        expect(page.locator("#handler")).to_contain_text("dongsi_handler")
        expect(page.locator("#contact-due")).to_be_visible()
        page.click("#call-citizen")
        expect(page.locator(".alert-success")).to_be_visible()
        [call] = to(fake, HANDLER_PHONE)[1]
        assert call["From"] == fake_twilio.FROM_NUMBER
        answer_bridged_call(call, last_call_sid(), HANDLER_PHONE, 95)
        page.reload()
        expect(page.locator(".timeline-citizen_called")).to_contain_text("95")
        expect(page.locator("#first-contacted .badge")).to_be_visible()
        # What the citizen said, recorded as a contact of its own.
        page.locator("#contact details summary", has_text="登记联系情况").click()
        page.select_option("#contact-outcome", "reached")
        page.fill("#contact-note", "市民确认积水在东四北大街 88 号门前，已约定抢修队到场时间。")
        page.click(f"form[action='/tickets/{number}/contacts'] button[type=submit]")
        expect(page.locator("#contacts")).to_contain_text("已约定抢修队到场时间")
        page.fill("#resolution", "抢修队已关阀换管，路面积水已排净，供水恢复。")
        page.click(f"form[action='/tickets/{number}/resolve'] button")
        shot("street-replied")
        log_out()
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket.status != Status.RESOLVED  # the reply waits for the district's review
        assert ticket.first_contacted_at is not None
        db.session.close()

        # The district reviews the reply and approves it.
        page.goto(f"{live_server}/tickets/{number}")
        log_in(page, "dc_duty")
        expect(page.locator("#pending-reply")).to_contain_text("供水恢复")
        page.click("#pending-reply button[value=approve]")
        expect(page.locator(".alert-success")).to_contain_text("审核通过")
        shot("approved")
        log_out()

        # The operator calls the citizen back from the queue and records 满意.
        page.goto(f"{live_server}/callbacks")
        log_in(page, "operator")
        page.goto(f"{live_server}/callbacks")
        page.locator("#callbacks a", has_text=number).click()
        expect(page).to_have_url(re.compile(f"/tickets/{number}$"))
        page.click("#callback-call")
        [call] = to(fake, OPERATOR_PHONE)[1]
        answer_bridged_call(call, last_call_sid(), OPERATOR_PHONE, 40)
        page.reload()
        page.select_option("#callback-rating", "satisfied")
        page.fill("#callback-words", "抢修很及时，满意。")
        page.locator(f"form[action='/tickets/{number}/callback'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/callbacks$"))
        expect(page.locator(".alert-success")).to_contain_text(number)
        expect(page.locator("#callbacks a", has_text=number)).to_have_count(0)  # called back: done
        shot("callback")
        log_out()

    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status == Status.CLOSED and ticket.satisfaction == "satisfied"  # 满意 closes it
    kinds = [e.kind for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
    assert "duty_alert" in kinds
    db.session.close()

    # The supervisor's report: the district's row counts the ticket the street worked, with
    # the first-contact figures.
    report_figures.refresh_dirty()
    db.session.close()
    page.goto(f"{live_server}/reports/response-times?group_by=department")
    log_in(page, "supervisor")
    page.goto(f"{live_server}/reports/response-times?group_by=department")
    volumes = page.locator("#table-volumes tr[data-department='dongcheng']")
    expect(volumes.locator("td[data-col='received']")).to_have_text("1")
    expect(volumes.locator("td[data-col='resolved']")).to_have_text("1")
    expect(page.locator("tr[data-department='dongcheng'] td[data-col='contacted_on_time_rate']")).to_have_text("100.0%")
    expect(page.locator("tr[data-department='dongcheng'] td[data-col='first_contact_p50_hours']")).not_to_have_text(
        re.compile(r"^\s*[—-]?\s*$")
    )
    shot("report")
    page.context.close()

    rows = api(city.supervisor).get("/api/v1/reports/response-times?group_by=department&level=1").get_json()
    [district] = [row for row in rows if row.get("department") == "dongcheng" or row.get("key") == "dongcheng"]
    assert district["received"] == 1 and district["resolved"] == 1
    assert district["first_contact_p50_hours"] is not None and district["contacted_on_time_rate"] == 1.0
    assert not [row for row in rows if "dongsi" in (row.get("department"), row.get("key"))]  # level 1: top units

    # Afterwards too: the other street still gets 404; the district's staff see the contacts.
    assert api(other_street).get(f"/api/v1/tickets/{number}").status_code == 404
    body = api(district_staff).get(f"/api/v1/tickets/{number}").get_json()
    assert body["status"] == Status.CLOSED and body["first_contacted_at"] is not None
    assert {c["outcome"] for c in body["contacts"]} >= {"reached"} and len(body["contacts"]) >= 3
