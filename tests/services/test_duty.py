"""The duty rota (值班) and its out-of-hours alerts (issue 17 item 4), in process.

Times are fixed where a rule is about a moment (Beijing time, the hotline's zone): Friday
2026-12-04 is a working day, Saturday 2026-12-05 a rest day, Thursday 2026-10-01 National Day,
Saturday 2026-10-10 a make-up workday (调休上班). Alerts start from `lifecycle.apply`, which
reads the clock: those tests make today a holiday, so that now is out of office hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import DutyAlert, DutyPattern, DutyShift, Notice, OutboundMessage, Role, Ticket, TicketEvent
from hotline.models.types import utcnow
from hotline.services.citizens import outbox
from hotline.services.city import duty
from hotline.services.clocks.calendar import forget_cached_calendar, work_calendar
from hotline.services.ticketing import notices, tickets
from tests import factories, fake_twilio

BEIJING = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(UTC)


def pattern(department, user, kind: str, starts: str, ends: str) -> DutyPattern:
    row = DutyPattern(
        department_id=department.id if department else None, user_id=user.id, day_kind=kind, starts=starts, ends=ends
    )
    db.session.add(row)
    db.session.commit()
    return row


def shift(department, user, starts: str, ends: str) -> DutyShift:
    row = DutyShift(
        department_id=department.id if department else None,
        user_id=user.id,
        starts_at=local(starts),
        ends_at=local(ends),
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def rota(city):
    """Roads: night_owl on working-day nights, weekender on rest days (holidays included)."""
    night_owl = factories.make_user(Role.DEPARTMENT, city.roads, username="night_owl")
    weekender = factories.make_user(Role.DEPARTMENT, city.roads, username="weekender")
    pattern(city.roads, night_owl, DutyPattern.WORKDAY, "18:00", "09:00")
    pattern(city.roads, weekender, DutyPattern.RESTDAY, "00:00", "00:00")
    return night_owl, weekender


def who(department, at: str) -> str | None:
    person = duty.on_duty(department.id if department else None, local(at))
    return person.username if person else None


def test_the_weekly_pattern_follows_the_calendar(city, rota) -> None:
    assert who(city.roads, "2026-12-04T20:00") == "night_owl"  # Friday night
    assert who(city.roads, "2026-12-04T08:30") == "night_owl"  # Thursday's night runs into Friday
    assert who(city.roads, "2026-12-04T12:00") is None  # a working day's office: nobody on duty
    assert who(city.roads, "2026-12-05T12:00") == "weekender"  # Saturday
    assert who(city.roads, "2026-10-01T12:00") == "weekender"  # National Day: a holiday, a rest day
    assert who(city.roads, "2026-10-10T12:00") is None  # Saturday, but a make-up workday
    assert who(city.roads, "2026-10-10T20:00") == "night_owl"
    assert who(city.water, "2026-12-05T12:00") is None  # another unit's rota is its own


def test_a_dated_shift_overrides_the_pattern(city, rota) -> None:
    stand_in = factories.make_user(Role.DEPARTMENT, city.roads, username="stand_in")
    shift(city.roads, stand_in, "2026-12-05T10:00", "2026-12-05T14:00")
    assert who(city.roads, "2026-12-05T09:59") == "weekender"
    assert who(city.roads, "2026-12-05T10:00") == "stand_in"
    assert who(city.roads, "2026-12-05T13:59") == "stand_in"
    assert who(city.roads, "2026-12-05T14:00") == "weekender"
    shift(city.roads, stand_in, "2026-12-04T12:00", "2026-12-04T13:00")  # cover in office hours too
    assert who(city.roads, "2026-12-04T12:30") == "stand_in"


def test_the_supervisors_rota_is_apart_from_the_units(city, rota) -> None:
    pattern(None, city.supervisor, DutyPattern.RESTDAY, "00:00", "00:00")
    assert who(None, "2026-12-05T12:00") == "supervisor"
    assert who(city.roads, "2026-12-05T12:00") == "weekender"
    assert who(None, "2026-12-04T20:00") is None


# -- alerts ------------------------------------------------------------------------------------


@pytest.fixture
def out_of_hours(holidays) -> Iterator[date]:
    """Today (local) a holiday: now is out of office hours, all day."""
    today = utcnow().astimezone(BEIJING).date()
    holidays.set_day(today, True, "测试假日")
    forget_cached_calendar()
    yield today
    forget_cached_calendar()


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


@pytest.fixture
def staffed(city):
    """Roads: duty_officer on duty around now (a dated shift), a unit lead; a supervisor on duty;
    each with a duty phone."""
    officer = factories.make_user(Role.DEPARTMENT, city.roads, username="duty_officer")
    lead = factories.make_user(Role.DEPARTMENT, city.roads, username="roads_lead")
    lead.is_unit_lead = True
    now = utcnow()
    for user, phone in ((officer, "+8613900000001"), (lead, "+8613900000002"), (city.supervisor, "+8613900000003")):
        duty.set_duty_phone(user, phone)
    db.session.add(
        DutyShift(
            department_id=city.roads.id,
            user_id=officer.id,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
        )
    )
    db.session.add(
        DutyShift(
            department_id=None,
            user_id=city.supervisor.id,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
        )
    )
    db.session.commit()
    return officer, lead


def urgent_ticket(city, urgency: str = "urgent") -> Ticket:
    return factories.make_routed_ticket(city.operator, urgency=urgency)  # potholes: to roads


def send_all() -> None:
    for message_id in db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.status == OutboundMessage.QUEUED)
    ).all():
        outbox.send(message_id)


def duty_texts(fake: fake_twilio.FakeTwilio) -> list[dict[str, str]]:
    """The texts to staff (the citizen's own texts about the ticket left out)."""
    return [m for m in fake.messages() if m["To"].startswith("+86139000000")]


def alert_events(ticket: Ticket) -> list[dict]:
    db.session.expire_all()
    return [
        e.data
        for e in db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "duty_alert")
            .order_by(TicketEvent.id)
        )
    ]


def test_an_urgent_ticket_out_of_hours_texts_calls_then_escalates(app, city, staffed, out_of_hours, twilio) -> None:
    ticket = urgent_ticket(city)
    assert ticket.status == "dispatched" and ticket.department == city.roads
    [alert] = db.session.scalars(select(DutyAlert)).all()
    start = utcnow()

    assert duty.run_due(start) == 1  # at once: a text to the person on duty
    send_all()
    [text] = duty_texts(twilio)
    assert text["To"] == "+8613900000001"
    assert ticket.number in text["Body"] and "道路坑洼" in text["Body"]
    assert twilio.calls() == []
    assert duty.run_due(start + timedelta(minutes=9)) == 0  # the call waits HOTLINE_DUTY_CALL_AFTER_MINUTES

    assert duty.run_due(start + timedelta(minutes=10, seconds=1)) == 1  # unanswered: a voice call
    send_all()
    [call] = twilio.calls()
    assert call["To"] == "+8613900000001" and call["From"] == fake_twilio.FROM_NUMBER
    assert "<Say" in call["Twiml"] and 'language="cmn-CN"' in call["Twiml"]
    assert " ".join(ticket.number.replace("-", "")) in call["Twiml"] and "道路坑洼" in call["Twiml"]

    assert duty.run_due(start + timedelta(minutes=26)) == 1  # then the unit lead: text and call
    assert duty.run_due(start + timedelta(minutes=42)) == 1  # then the supervisor on duty
    send_all()
    # The lead's and the supervisor's were queued before the one send_all: the outbox sends
    # those in either order (the steps' order is the events', checked below).
    texts, calls = [m["To"] for m in duty_texts(twilio)], [c["To"] for c in twilio.calls()]
    assert texts[0] == "+8613900000001" and sorted(texts[1:]) == ["+8613900000002", "+8613900000003"]
    assert calls[0] == "+8613900000001" and sorted(calls[1:]) == ["+8613900000002", "+8613900000003"]
    assert [e["step"] for e in alert_events(ticket)] == ["text", "call", "lead", "supervisor"]
    assert alert_events(ticket)[2]["alerted"] == ["roads_lead"]
    db.session.refresh(alert)
    assert alert.status == DutyAlert.DONE
    assert duty.run_due(start + timedelta(hours=3)) == 0
    # Every alert went through the outbox, sent once.
    kinds = db.session.scalars(
        select(OutboundMessage.kind).where(OutboundMessage.ticket_id == ticket.id).order_by(OutboundMessage.id)
    ).all()
    assert [k for k in kinds if k.startswith("duty_")] == [
        "duty_text",
        "duty_call",
        "duty_text",
        "duty_call",
        "duty_text",
        "duty_call",
    ]


def test_accepting_the_ticket_stops_the_alerts(app, city, staffed, out_of_hours, twilio) -> None:
    officer, _lead = staffed
    ticket = urgent_ticket(city)
    start = utcnow()
    duty.run_due(start)
    tickets.accept(officer, ticket)
    assert duty.run_due(start + timedelta(minutes=11)) == 0
    assert duty.run_due(start + timedelta(minutes=40)) == 0
    send_all()
    assert len(duty_texts(twilio)) == 1 and twilio.calls() == []
    assert db.session.scalar(select(DutyAlert.status)) == DutyAlert.STOPPED
    assert [e["step"] for e in alert_events(ticket)] == ["text"]


def test_a_step_taken_twice_alerts_once(app, city, staffed, out_of_hours, twilio) -> None:
    ticket = urgent_ticket(city)
    [alert_id] = db.session.scalars(select(DutyAlert.id)).all()
    start = utcnow()
    assert duty.advance(alert_id, start) == 1
    assert duty.advance(alert_id, start) == 0  # a second delivery of the job: the step is taken
    send_all()
    assert len(duty_texts(twilio)) == 1
    assert len(alert_events(ticket)) == 1


def test_nobody_on_duty_is_written_on_the_timeline(app, city, out_of_hours, twilio) -> None:
    ticket = urgent_ticket(city)
    duty.run_due(utcnow())
    [data] = alert_events(ticket)
    assert data["nobody_on_duty"] is True and data["alerted"] == []


def test_a_normal_ticket_or_one_in_office_hours_alerts_nobody(app, city, staffed, out_of_hours) -> None:
    urgent_ticket(city, urgency="normal")
    assert db.session.scalars(select(DutyAlert)).all() == []
    ticket = factories.make_ticket(city.operator, urgency="urgent")
    in_office = local("2026-12-04T10:00")
    assert work_calendar().is_office_time(in_office)
    assert duty.ticket_reached_unit(ticket, city.roads.id, in_office) is None
    assert duty.ticket_reached_unit(ticket, city.roads.id, local("2026-12-04T20:00")) is not None
    db.session.rollback()


def test_a_dispatch_by_hand_alerts_too(app, city, staffed, out_of_hours) -> None:
    ticket = factories.make_routed_ticket(city.operator, category="other", urgency="urgent")  # to the desk
    assert ticket.status == "pending_dispatch" and db.session.scalars(select(DutyAlert)).all() == []
    tickets.dispatch(city.dispatcher, ticket, "water")
    [alert] = db.session.scalars(select(DutyAlert)).all()
    assert alert.department_id == city.water.id


# -- notices: urgent ones to supervisors are never held ------------------------------------------


def test_urgent_notices_to_supervisors_are_not_held_normal_ones_are(app, city) -> None:
    saturday_night = local("2026-12-05T22:00")
    monday_morning = local("2026-12-07T09:00")
    urgent = factories.make_ticket(city.operator, urgency="urgent")
    normal = factories.make_ticket(city.operator, urgency="normal")
    to_supervisors = notices.notify("sla_red", "超期", saturday_night, ticket=urgent, role=Role.SUPERVISOR)
    normal_to_supervisors = notices.notify("sla_red", "超期", saturday_night, ticket=normal, role=Role.SUPERVISOR)
    urgent_to_department = notices.notify("sla_red", "超期", saturday_night, ticket=urgent, department_id=city.roads.id)
    db.session.commit()
    assert to_supervisors.show_from == saturday_night
    assert normal_to_supervisors.show_from == monday_morning
    assert urgent_to_department.show_from == monday_morning
    shown = notices.notices_for(city.supervisor, saturday_night + timedelta(minutes=1))
    assert [n.id for n in shown] == [to_supervisors.id]
    assert db.session.scalar(select(Notice.id).where(Notice.id == normal_to_supervisors.id)) is not None


def test_the_steps_are_configurable(app, city, staffed, out_of_hours, twilio, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "HOTLINE_DUTY_STEPS", "call,supervisor,typo")
    ticket = urgent_ticket(city)
    start = utcnow()
    assert duty.run_due(start) == 1  # the call first, at once
    assert duty.run_due(start + timedelta(minutes=14)) == 0
    assert duty.run_due(start + timedelta(minutes=15, seconds=1)) == 1
    send_all()
    assert duty_texts(twilio) == [next(m for m in twilio.messages() if m["To"] == "+8613900000003")]
    # The outbox sends what is due in no promised order: the two calls, whichever went first.
    assert sorted(c["To"] for c in twilio.calls()) == ["+8613900000001", "+8613900000003"]
    assert [e["step"] for e in alert_events(ticket)] == ["call", "supervisor"]
    assert db.session.scalar(select(DutyAlert.status)) == DutyAlert.DONE
