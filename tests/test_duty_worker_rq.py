"""Duty alerts taken by a real RQ worker (`python -m workers.worker --burst`) on Redis, texts and
calls going to the fake Twilio through the official client (issue 17 item 4).

Today is made a holiday (out of office hours all day). Time is moved by setting the alert's
next step due now, as the clock would after HOTLINE_DUTY_CALL_AFTER_MINUTES, and handing it to
the workers as the sweep does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import DutyAlert, DutyShift, Role, TicketEvent
from hotline.models.types import utcnow
from hotline.services.city import duty
from hotline.services.clocks.calendar import forget_cached_calendar
from hotline.services.platform import queueing
from hotline.services.ticketing import tickets
from tests import factories, fake_twilio
from tests.workers import run_burst_worker

pytestmark = [pytest.mark.redis, pytest.mark.worker]

OFFICER_PHONE = "+8613900000001"


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


@pytest.fixture
def on_duty(city, holidays):
    from zoneinfo import ZoneInfo

    holidays.set_day(utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date(), True, "测试假日")
    forget_cached_calendar()
    officer = factories.make_user(Role.DEPARTMENT, city.roads, username="duty_officer")
    duty.set_duty_phone(officer, OFFICER_PHONE)
    now = utcnow()
    db.session.add(
        DutyShift(
            department_id=city.roads.id,
            user_id=officer.id,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=5),
        )
    )
    db.session.commit()
    yield officer
    forget_cached_calendar()


def move_time_to_next_step() -> None:
    alert = db.session.scalar(select(DutyAlert))
    alert.next_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert queueing.enqueue_duty_alerts()


def to_officer(fake: fake_twilio.FakeTwilio) -> tuple[list[dict], list[dict]]:
    return [m for m in fake.messages() if m["To"] == OFFICER_PHONE], [
        c for c in fake.calls() if c["To"] == OFFICER_PHONE
    ]


def test_a_worker_texts_then_calls_the_person_on_duty_and_stops_on_accept(city, queue: Queue, twilio, on_duty) -> None:
    ticket = tickets.create_ticket(city.operator, factories.intake(urgency="urgent")).ticket
    output = run_burst_worker(**fake_twilio.worker_env(twilio))  # routes it, alerts at once, sends the text
    assert queue.failed_job_registry.count == 0, output
    texts, calls = to_officer(twilio)
    assert len(texts) == 1 and ticket.number in texts[0]["Body"] and calls == []
    alert = db.session.scalar(select(DutyAlert))
    assert alert.step == 1 and alert.status == DutyAlert.ACTIVE
    assert f"hotline-duty-{alert.id}-1" in queue.scheduled_job_registry.get_job_ids()  # the call, at its time

    move_time_to_next_step()
    output = run_burst_worker(**fake_twilio.worker_env(twilio))
    assert queue.failed_job_registry.count == 0, output
    texts, calls = to_officer(twilio)
    assert len(texts) == 1 and len(calls) == 1
    assert "<Say" in calls[0]["Twiml"]

    tickets.accept(on_duty, db.session.get(type(ticket), ticket.id))
    move_time_to_next_step()
    output = run_burst_worker(**fake_twilio.worker_env(twilio))
    assert queue.failed_job_registry.count == 0, output
    assert len(twilio.calls()) == 1 and len(to_officer(twilio)[0]) == 1  # nothing more once accepted
    db.session.expire_all()
    assert db.session.scalar(select(DutyAlert.status)) == DutyAlert.STOPPED
    steps = db.session.scalars(
        select(TicketEvent.data).where(TicketEvent.kind == "duty_alert").order_by(TicketEvent.id)
    ).all()
    assert [data["step"] for data in steps] == ["text", "call"]
