"""Two people acting on one ticket at once: one wins, the other gets a Conflict.

Each thread has its own app context and so its own database session, as two
web requests would; on PostgreSQL they are two real connections.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Status, Ticket, TicketEvent, User
from hotline.services.ticketing import tickets
from tests import factories


def run_in_threads(app, *actions):
    """Run each action in its own thread and app context; all load, then all act."""
    loaded = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def worker(index, action):
        with app.app_context():
            try:
                outcomes[index] = action(loaded)
            except Exception as error:  # the outcome under test
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_staff_accepting_at_once_one_wins(app, city):
    ticket = factories.make_routed_ticket(city.operator)
    number, staff_id = ticket.number, city.roads_staff.id
    db.session.remove()

    def accept(loaded):
        actor = db.session.get(User, staff_id)
        mine = db.session.scalar(select(Ticket).where(Ticket.number == number))
        seen = mine.version
        loaded.wait()
        return tickets.accept(actor, mine, expected_version=seen).status

    outcomes = run_in_threads(app, accept, accept)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "str"]
    accepted = db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == "accepted"))
    assert accepted == 1
    assert db.session.scalar(select(Ticket.status).where(Ticket.number == number)) == Status.IN_PROGRESS


def test_concurrent_intake_hands_out_distinct_numbers(app, city):
    operator_id = city.operator.id

    def log_call(loaded):
        actor = db.session.get(User, operator_id)
        loaded.wait()
        return [tickets.create_ticket(actor, factories.intake()).ticket.number for _ in range(5)]

    outcomes = run_in_threads(app, log_call, log_call, log_call)
    numbers = [n for batch in outcomes for n in batch]
    assert len(numbers) == 15 and len(set(numbers)) == 15
