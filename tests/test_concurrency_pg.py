"""Several processes at once on PostgreSQL, as in production (several gunicorn workers, several
RQ workers on several machines): no double routing, no double text, no lost update, no
ticket number handed out twice.

Each test starts real processes (`python -m workers.worker --burst`, or a small script that
creates the app and calls a service) that share the test database and Redis, and lines them
up on a common start time so that they really overlap. SQLite serialises every writer with
one file lock, so these races cannot happen there: the tests need PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import OutboundMessage, Status, Ticket, TicketEvent
from hotline.services.platform import queueing
from hotline.services.ticketing import tickets
from tests import factories, fake_twilio
from tests.workers import ROOT, WORKER_TIMEOUT, worker_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.skipif(
        not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
        reason="needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises all writers, so these races cannot occur",
    ),
]

# A process that creates the app, loads what it needs, waits at a barrier (a file per process
# in a shared directory) until every process got that far, then acts.
SCRIPT = r"""
import json, os, sys, time
from hotline import create_app
from hotline.extensions import db
from hotline.models import Ticket, User
from hotline.services.ticketing import tickets
from hotline.services.errors import Conflict
from tests import factories

action, barrier, parties, *args = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:]


def wait_for_all():
    open(os.path.join(barrier, str(os.getpid())), "w").close()
    deadline = time.time() + 60
    while len(os.listdir(barrier)) < parties and time.time() < deadline:
        time.sleep(0.005)


app = create_app()
with app.app_context():
    if action == "intake":
        user_id, count = int(args[0]), int(args[1])
        actor = db.session.get(User, user_id)
        wait_for_all()
        numbers = [tickets.create_ticket(actor, factories.intake()).ticket.number for _ in range(count)]
        print(json.dumps({"numbers": numbers}))
    else:
        user_id, ticket_id, reply = int(args[0]), int(args[1]), args[2]
        actor = db.session.get(User, user_id)
        ticket = db.session.get(Ticket, ticket_id)  # both processes load the same version
        version = ticket.version
        # Kept loaded (not expired) across the barrier: each process updates from what it read.
        wait_for_all()
        try:
            if action == "accept":
                tickets.accept(actor, ticket)
            else:
                tickets.resolve(actor, ticket, reply)
            print(json.dumps({"won": True, "version": version}))
        except Conflict as error:
            print(json.dumps({"won": False, "version": version, "error": str(error)}))
"""


def run_together(*argvs: list[str], env: dict[str, str] | None = None) -> list[dict]:
    barrier = tempfile.mkdtemp(prefix="hotline-barrier-")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, argv[0], barrier, str(len(argvs)), *argv[1:]],
            cwd=ROOT,
            env=worker_env(**(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=WORKER_TIMEOUT)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    shutil.rmtree(barrier, ignore_errors=True)
    db.session.expire_all()
    return results


@pytest.fixture
def twilio(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_twilio.FakeTwilio]:
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


def test_three_workers_on_duplicated_jobs_route_once_and_text_once(city, queue: Queue, twilio) -> None:
    count = 12
    logged = [tickets.create_ticket(city.operator, factories.intake(category="potholes")).ticket for _ in range(count)]
    ids = [ticket.id for ticket in logged]
    messages = db.session.scalars(select(OutboundMessage.id)).all()
    # Handed over: the ids in intake's list, one drain job for them.
    assert len(messages) == count and queue.count == 1
    assert queue.connection.llen(queueing.intake_key(queue)) == count
    # Every ticket again, on purpose, each way there is (a drain delivered twice, a redelivered
    # job, a sweep racing intake), and the backlog in batches.
    queue.connection.rpush(queueing.intake_key(queue), *ids)
    for _ in range(3):
        queueing._enqueue_drain(queue)
    for ticket_id in ids:
        queueing.enqueue_routing_batches(queue, [ticket_id])
    for message_id in messages:
        queueing.enqueue_send_on(queue, message_id)
    queueing.enqueue_routing_batches(queue, ids, limit=4)
    assert queue.count == 1 + 3 + count + count + 6  # 4 drains, a job per ticket and per text, 6 batches of 2

    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "workers.worker", "--burst"],
            cwd=ROOT,
            env=worker_env(**fake_twilio.worker_env(twilio)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [worker.communicate(timeout=WORKER_TIMEOUT)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), "\n".join(outputs)
    db.session.expire_all()

    routed = db.session.execute(
        select(TicketEvent.ticket_id, func.count())
        .where(TicketEvent.kind == "routed", TicketEvent.ticket_id.in_(ids))
        .group_by(TicketEvent.ticket_id)
    ).all()
    assert dict(routed) == {ticket_id: 1 for ticket_id in ids}
    assert {db.session.get(Ticket, i).status for i in ids} == {Status.DISPATCHED}
    per_kind = db.session.execute(
        select(OutboundMessage.ticket_id, OutboundMessage.kind, func.count()).group_by(
            OutboundMessage.ticket_id, OutboundMessage.kind
        )
    ).all()
    assert {(ticket_id, kind): n for ticket_id, kind, n in per_kind} == {(i, "created"): 1 for i in ids}
    sent_to_twilio = twilio.messages()
    assert len(sent_to_twilio) == count  # each text reached Twilio once, though its job ran twice
    assert {m.status for m in db.session.scalars(select(OutboundMessage))} == {OutboundMessage.SENT}


def test_two_processes_accepting_the_same_ticket_one_wins(city) -> None:
    ticket = factories.make_routed_ticket(city.operator, category="potholes")
    assert ticket.status == Status.DISPATCHED
    results = run_together(
        ["accept", str(city.roads_staff.id), str(ticket.id), ""],
        ["accept", str(city.roads_staff.id), str(ticket.id), ""],
    )
    assert sorted(r["won"] for r in results) == [False, True]
    assert results[0]["version"] == results[1]["version"]  # both acted on the same version
    accepted = db.session.scalar(
        select(func.count()).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "accepted")
    )
    assert accepted == 1
    assert db.session.get(Ticket, ticket.id).status == Status.IN_PROGRESS


def test_two_processes_resolving_at_once_no_lost_update(city) -> None:
    ticket = factories.make_routed_ticket(city.operator, category="potholes")
    tickets.accept(city.roads_staff, ticket)
    results = run_together(
        ["resolve", str(city.roads_staff.id), str(ticket.id), "reply from the first process"],
        ["resolve", str(city.roads_staff.id), str(ticket.id), "reply from the second process"],
    )
    assert sorted(r["won"] for r in results) == [False, True]
    winner = ["reply from the first process", "reply from the second process"][[r["won"] for r in results].index(True)]
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket.id)
    assert stored.status == Status.RESOLVED and stored.resolution == winner  # the loser changed nothing
    events = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolved")
    ).all()
    assert [e.data["resolution"] for e in events] == [winner]


def test_ticket_numbers_unique_under_concurrent_intake(city) -> None:
    processes, each = 3, 10
    results = run_together(*[["intake", str(city.operator.id), str(each)] for _ in range(processes)])
    numbers = [number for result in results for number in result["numbers"]]
    assert len(numbers) == len(set(numbers)) == processes * each
    stored = db.session.scalars(select(Ticket.number)).all()
    assert sorted(stored) == sorted(numbers)
    # One day's counter, no gaps: 1..N in some interleaving.
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, processes * each + 1))
    # Within one process, numbers only go up.
    for result in results:
        assert result["numbers"] == sorted(result["numbers"])
