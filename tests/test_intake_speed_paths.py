"""The shortcuts that make intake cheap (benchmarks/intake.py --cpu) keep what intake promises.

The answer to POST /api/v1/tickets is built from the rows as written, without reading them
back: it must be the ticket as stored. The ticket, its event and its text are one commit, and
its two jobs (routing, sending the text) go to Redis in one round trip: both, or neither,
with the sweep as the safety net.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboundMessage, Status, Ticket
from hotline.services import queueing, tickets
from tests import factories, fake_twilio
from tests.api.test_create import CALL as API_CALL

CALL = {key: value for key, value in API_CALL.items() if key != "channel"}  # the channel's default too


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


@pytest.fixture
def no_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


def stored_messages() -> list[OutboundMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


@pytest.mark.parametrize("sender", ["twilio", "none"])
def test_the_intake_answer_is_the_ticket_as_stored(request, api, city, no_queue, sender):
    if sender == "twilio":
        request.getfixturevalue("twilio")
    client = api(city.operator)
    created = client.post("/api/v1/tickets", json=CALL)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    assert answer.pop("routing_queued") is False  # no Redis here

    stored = client.get(f"/api/v1/tickets/{answer['number']}").get_json()
    assert answer == stored
    [notification] = answer["notifications"]  # the text with the number, in the same commit
    assert notification["status"] == ("queued" if sender == "twilio" else "held")
    assert answer["number"] in notification["body"]


def test_a_consultation_answered_at_once_is_answered_as_stored(api, city, no_queue, twilio):
    client = api(city.operator)
    body = {**CALL, "type": "consultation", "category": "other", "direct_answer": "办事指南请见政务服务网。"}
    answer = client.post("/api/v1/tickets", json=body).get_json()
    answer.pop("routing_queued")
    assert answer == client.get(f"/api/v1/tickets/{answer['number']}").get_json()
    assert [e["kind"] for e in answer["events"]] == ["created", "direct_answer"]
    assert answer["status"] == Status.CLOSED and answer["notifications"] == []


def test_a_text_that_cannot_be_written_leaves_the_ticket(city, no_queue, twilio, monkeypatch):
    from hotline.services import citizen_sms

    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(citizen_sms, "render", broken)
    result = tickets.create_ticket(city.operator, factories.intake())
    db.session.expire_all()
    assert db.session.get(Ticket, result.ticket.id).status == Status.NEW
    assert result.messages == [] and stored_messages() == []


@pytest.mark.redis
def test_both_jobs_go_in_one_round_trip(city, queue: Queue, twilio, monkeypatch):
    executed = []
    execute = Pipeline.execute

    def counting(self, *args, **kwargs):
        executed.append(len(self.command_stack))
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", counting)
    result = tickets.create_ticket(city.operator, factories.intake())
    assert result.routing_queued
    assert len(executed) == 1  # one round trip for the routing job and the text's job
    jobs = [queue.fetch_job(job_id) for job_id in queue.job_ids]
    [message] = stored_messages()
    assert sorted((job.func_name.rsplit(".", 1)[-1], job.args) for job in jobs) == [
        ("route_ticket_job", (result.ticket.id,)),
        ("send_message_job", (message.id,)),
    ]


@pytest.mark.redis
def test_when_that_round_trip_fails_neither_job_went_and_the_sweep_sends_both(city, queue: Queue, twilio, monkeypatch):
    def refused(self, *args, **kwargs):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(Pipeline, "execute", refused)
    try:
        result = tickets.create_ticket(city.operator, factories.intake())
    finally:
        monkeypatch.undo()
        queueing._down_until.pop(queue.connection, None)  # the memo of the failure, for the next test
    assert result.routing_queued is False
    assert queue.count == 0
    [message] = stored_messages()
    assert message.status == OutboundMessage.QUEUED  # kept in the outbox, waiting for the sweep

    swept = queueing.requeue()
    assert (swept.waiting, swept.enqueued, swept.messages_waiting, swept.messages_enqueued) == (1, 1, 1, 1)
    assert queue.count == 2
