"""The shortcuts that make intake cheap (benchmarks/intake.py --cpu) keep what intake promises.

The answer to POST /api/v1/tickets is built from the rows as written, without reading them
back: it must be the ticket as stored. The ticket, its event and its text are one commit, and
the ticket is handed to the workers with one push to Redis; the workers route and text it in
batches, with the sweep as the safety net when Redis or a worker lost it.
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
from hotline.services.platform import queueing, redis_guard
from hotline.services.ticketing import recovery, tickets
from hotline.tasks import routing
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
    from hotline.services.citizens import citizen_sms

    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(citizen_sms, "render", broken)
    result = tickets.create_ticket(city.operator, factories.intake())
    db.session.expire_all()
    assert db.session.get(Ticket, result.ticket.id).status == Status.NEW
    assert result.messages == [] and stored_messages() == []


def commands_sent(queue: Queue, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands that intake sends to Redis on their own (not in a pipeline) from now on:
    through the side client, with its short timeouts (redis_guard)."""
    sent: list[str] = []
    connection = redis_guard.side_client(queue.connection)
    execute = connection.execute_command

    def counting(*args, **options):
        sent.append(str(args[0]))
        return execute(*args, **options)

    monkeypatch.setattr(connection, "execute_command", counting)
    return sent


@pytest.mark.redis
def test_intake_hands_a_ticket_over_with_one_push_and_arms_one_drain(city, queue: Queue, twilio, monkeypatch):
    pushed = commands_sent(queue, monkeypatch)
    first = tickets.create_ticket(city.operator, factories.intake())
    assert first.routing_queued
    assert pushed[0] == "RPUSH"  # the list was empty: a drain job is enqueued (a pipeline) after it
    [job] = [queue.fetch_job(job_id) for job_id in queue.job_ids]
    assert job.func_name.endswith("drain_intake")

    pushed.clear()
    second = tickets.create_ticket(city.operator, factories.intake())
    assert second.routing_queued and pushed == ["RPUSH"]
    assert queue.count == 1  # a drain is due already: no second job
    assert [int(i) for i in queue.connection.lrange(queueing.intake_key(queue), 0, -1)] == [
        first.written.id,
        second.written.id,
    ]


@pytest.mark.redis
def test_a_drain_routes_its_batch_and_enqueues_the_texts_once(city, queue: Queue, twilio):
    made = [tickets.create_ticket(city.operator, factories.intake()) for _ in range(3)]
    assert queueing.take_intake(limit=2) == [made[0].written.id, made[1].written.id]
    # One left: the drain enqueued the next one, so a second worker may take it meanwhile.
    assert sum(job.func_name.endswith("drain_intake") for job in queue.jobs) == 2
    counts = routing.hand_over_batch()  # the third
    assert counts == {Status.DISPATCHED: 1} or sum(counts.values()) == 1
    db.session.expire_all()
    assert db.session.get(Ticket, made[2].written.id).status != Status.NEW
    sends = [job for job in queue.jobs if job.func_name.endswith("send_messages")]
    [message] = [m for m in stored_messages() if m.ticket_id == made[2].written.id]
    assert [job.args for job in sends] == [([message.id],)]
    assert routing.hand_over_batch() == {}  # nothing left: a drain delivered twice does nothing


@pytest.mark.redis
def test_when_redis_refuses_the_ticket_is_kept_and_the_sweep_routes_and_texts_it(
    city, queue: Queue, twilio, monkeypatch
):
    def refused(self, *args, **kwargs):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(Pipeline, "execute", refused)
    try:
        result = tickets.create_ticket(city.operator, factories.intake())
    finally:
        monkeypatch.undo()
        redis_guard.mark_up(queue.connection)  # the memo of the failure, for the next test
    assert result.routing_queued is False
    assert queue.count == 0
    [message] = stored_messages()
    assert message.status == OutboundMessage.QUEUED  # kept in the outbox, waiting for the sweep

    swept = recovery.requeue()
    assert (swept.waiting, swept.enqueued, swept.messages_waiting, swept.messages_enqueued) == (1, 1, 1, 1)
    assert queue.count == 2


@pytest.mark.parametrize("answer", [None, "办事指南请见政务服务网。"])
def test_intake_indexes_the_ticket_as_the_index_would_read_it(city, no_queue, answer):
    from hotline.services.search import search_index, ticket_search

    kind = {"type": "consultation", "category": "other", "direct_answer": answer} if answer else {}
    result = tickets.create_ticket(city.operator, factories.intake(address="人民路12号", **kind))
    connection = db.session.connection()
    documents = ticket_search.TICKETS.documents()
    written = connection.execute(select(documents.c.document).where(documents.c.id == result.written.id)).scalar_one()
    assert written == ticket_search.documents_for(connection, [result.written.id])[result.written.id]
    assert search_index.tokens("人民路")[0] in written.split()


@pytest.mark.redis
def test_a_drain_routes_in_short_transactions_and_a_failing_one_stops_none_of_the_others(
    city, queue: Queue, monkeypatch
):
    made = [tickets.create_ticket(city.operator, factories.intake()).written.id for _ in range(25)]
    route_batch = tickets.route_batch
    chunks: list[list[int]] = []

    def spying(ticket_ids: list[int]) -> dict[str, int]:
        chunks.append(list(ticket_ids))
        if made[12] in ticket_ids:
            raise tickets.BatchRoutingFailed({made[12]: "the database went away"})
        return route_batch(ticket_ids)

    monkeypatch.setattr(tickets, "route_batch", spying)
    with pytest.raises(tickets.BatchRoutingFailed) as failed:
        routing.hand_over_batch()
    assert [len(chunk) for chunk in chunks] == [10, 10, 5] and sum(chunks, []) == made
    assert list(failed.value.failed) == [made[12]]
    db.session.expire_all()
    statuses = {ticket_id: db.session.get(Ticket, ticket_id).status for ticket_id in made}
    assert [i for i, status in statuses.items() if status == Status.NEW] == made[10:20]  # left for the sweep
