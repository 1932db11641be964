"""Texts sent by real RQ worker processes (`python -m workers.worker --burst`) to the fake Twilio.

The workers are told about the fake through TEST_TWILIO_* (TestingConfig reads them), share
the test database, and must send each message once, however many times its job is
delivered and however many workers run it at once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.models.types import utcnow
from hotline.services.platform import queueing
from hotline.services.ticketing import recovery, tickets
from tests import factories, fake_twilio
from tests.workers import ROOT, WORKER_TIMEOUT, worker_env

pytestmark = [pytest.mark.redis, pytest.mark.worker]


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


def start_worker(fake: fake_twilio.FakeTwilio) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.worker", "--burst"],
        cwd=ROOT,
        env=worker_env(**fake_twilio.worker_env(fake)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_workers(fake: fake_twilio.FakeTwilio, count: int = 1, separate: bool = False):
    """Run `count` burst workers at once until the queue is empty; their output, for messages
    (each worker's apart with `separate`)."""
    workers = [start_worker(fake) for _ in range(count)]
    outputs = []
    try:
        for worker in workers:
            output, _ = worker.communicate(timeout=WORKER_TIMEOUT)
            outputs.append(output)
            assert worker.returncode == 0, output
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    db.session.expire_all()
    return outputs if separate else "\n".join(outputs)


def the_message() -> OutboundMessage:
    db.session.expire_all()
    return db.session.scalar(select(OutboundMessage))


def test_a_new_tickets_text_is_sent_by_a_worker(city, queue: Queue, twilio):
    ticket = tickets.create_ticket(city.operator, factories.intake(category="other")).ticket  # waits for dispatch
    message = the_message()
    assert message.status == OutboundMessage.QUEUED
    assert queue.count == 1  # the drain job: it routes the ticket and enqueues its text

    output = run_workers(twilio)

    assert queue.failed_job_registry.count == 0, output
    [form] = twilio.messages()
    assert form["To"] == "+8613800138000" and ticket.number in form["Body"]
    message = the_message()
    assert message.status == OutboundMessage.SENT and message.attempts == 1
    assert message.provider_sid and message.provider_sid.startswith("SM")


def test_the_same_job_delivered_three_times_to_two_workers_sends_once(city, queue: Queue, twilio):
    factories.make_ticket(city.operator, category="other")
    message_id = the_message().id
    assert queueing.enqueue_send(message_id) and queueing.enqueue_send(message_id)
    twilio.delay = 2.0  # the first sender holds its claim while the other worker comes by

    outputs = run_workers(twilio, count=2, separate=True)
    output = "\n".join(outputs)

    assert all("send message" in out for out in outputs), output  # both workers ran one of the jobs
    assert queue.count == 0 and queue.failed_job_registry.count == 0, output
    assert len(twilio.message_requests()) == 1, output
    message = the_message()
    assert message.status == OutboundMessage.SENT and message.attempts == 1


def test_a_twilio_outage_schedules_the_retry_and_the_sweep_sends_it(city, queue: Queue, twilio):
    factories.make_ticket(city.operator, category="other")
    twilio.fail_next(500, 20500, "Internal Server Error")

    output = run_workers(twilio)

    message = the_message()
    assert message.status == OutboundMessage.FAILED and message.attempts == 1, output
    assert message.next_attempt_at is not None and "500" in message.last_error
    scheduled = [queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()]
    retries = [job for job in scheduled if job is not None and job.func_name.endswith("send_message")]
    assert [job.args for job in retries] == [(message.id,)]  # the next attempt, 1 minute on

    # A minute later (moved here rather than waited for), the sweep finds it due.
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = recovery.requeue(timedelta(minutes=2))
    assert (result.messages_waiting, result.messages_enqueued) == (1, 1)
    output = run_workers(twilio)

    message = the_message()
    assert message.status == OutboundMessage.SENT and message.attempts == 2, output
    assert len(twilio.message_requests()) == 2 and len(twilio.messages()) == 1
