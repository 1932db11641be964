"""Routing a batch (`tickets.route_batch`, what the sweep's batch jobs run): the same outcome as
routing each ticket alone, with the reference data loaded once, and nothing lost or doubled
when another writer gets to a ticket first or one ticket fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, update

from hotline.extensions import db
from hotline.models import SlaPolicy, Status, Ticket, TicketAssist, TicketEvent
from hotline.services.clocks import sla
from hotline.services.dispatch import routing
from hotline.services.ticketing import tickets
from tests import factories


def routed_events(ticket_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(TicketEvent.ticket_id, func.count())
        .where(TicketEvent.kind == "routed", TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
    ).all()
    return dict(rows)


# Process-wide caches read these when they are first used or when their recheck time comes,
# whichever batch that falls in (they have their own tests).
PROCESS_CACHED = ("FROM calendar_day", "FROM calendar_year", "FROM routing_classifier")


@contextmanager
def selects() -> Iterator[list[str]]:
    """The SELECT statements the database receives meanwhile, apart from the process caches'."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        cached = any(table in statement for table in PROCESS_CACHED)
        if statement.lstrip().upper().startswith("SELECT") and not cached:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def mixed(city) -> list[int]:
    """New tickets that routing sends every way: a rule with a helper, a category default
    (inherited), another department, the dispatcher's desk; urgent ones with their own policy."""
    routing.save_rule({"department": "water", "keywords": ["水管"], "assisting": ["roads"], "name": "pipes"})
    db.session.add(
        SlaPolicy(
            category=city.infrastructure,
            urgency="urgent",
            accept_amount=15,
            accept_unit="calendar_minutes",
            resolve_amount=12,
            resolve_unit="calendar_hours",
        )
    )
    db.session.commit()
    specs = [
        {"category": "potholes", "description": "人行道上的水管破裂了。"},
        {"category": "potholes"},
        {"category": "potholes", "urgency": "urgent"},
        {"category": "water-supply"},
        {"category": "other"},
        {"category": "infrastructure", "urgency": "urgent"},
    ]
    return [factories.make_ticket(city.operator, **spec).id for spec in specs * 2]


def outcome(ticket_id: int) -> tuple:
    ticket = db.session.get(Ticket, ticket_id)
    assists = db.session.scalars(select(TicketAssist.department_id).where(TicketAssist.ticket_id == ticket_id)).all()
    terms = ticket.sla_terms or {}
    return (
        ticket.status,
        ticket.department_id,
        ticket.routed_by,
        ticket.routing_rule_id,
        sorted(assists),
        terms.get("source"),
        terms.get("resolve_amount"),
        ticket.resolve_due_at is not None,
    )


def test_a_batch_routes_as_each_ticket_alone_would(city, mixed: list[int]) -> None:
    alone = mixed[: len(mixed) // 2]
    together = mixed[len(mixed) // 2 :]
    for ticket_id in alone:
        tickets.route(ticket_id)

    counts = tickets.route_batch(together)

    db.session.expire_all()
    assert [outcome(i) for i in together] == [outcome(i) for i in alone[: len(together)]]
    assert counts == {Status.DISPATCHED: 5, Status.PENDING_DISPATCH: 1}
    assert routed_events(mixed) == dict.fromkeys(mixed, 1)
    pipes = outcome(together[0])
    assert (pipes[0], pipes[2], pipes[4]) == (Status.DISPATCHED, "rule", [city.roads.id])
    assert outcome(together[5])[5:7] == ("infrastructure", 12)  # the urgent policy, inherited


def test_a_batch_reads_the_same_few_times_however_large(city, mixed: list[int]) -> None:
    with selects() as small:
        tickets.route_batch(mixed[:3])
    db.session.remove()
    with selects() as large:
        tickets.route_batch(mixed[3:])
    # rules, their helpers, categories, departments, policies, tickets; on PostgreSQL their scopes
    # too, and the open holds of their chains (a unit a ticket was sent down to finds it: issue 17)
    assert len(large) == len(small) <= 9


def test_a_batch_delivered_twice_routes_once(city, mixed: list[int]) -> None:
    tickets.route_batch(mixed)
    again = tickets.route_batch([*mixed, 987654])
    assert again == {Status.DISPATCHED: 10, Status.PENDING_DISPATCH: 2, "missing": 1}
    assert routed_events(mixed) == dict.fromkeys(mixed, 1)


def test_a_ticket_moved_meanwhile_is_left_to_whoever_moved_it(
    city, mixed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = mixed[4]
    decide = routing.decide

    def decide_while_a_dispatcher_acts(*args, **kwargs):
        if not taken_already:
            # Another connection (a dispatcher's request) moves one ticket of the batch first.
            with db.engine.begin() as other:
                other.execute(
                    update(Ticket)
                    .where(Ticket.id == taken)
                    .values(status=Status.PENDING_DISPATCH, version=Ticket.version + 1)
                )
            taken_already.append(taken)
        return decide(*args, **kwargs)

    taken_already: list[int] = []
    monkeypatch.setattr(routing, "decide", decide_while_a_dispatcher_acts)
    counts = tickets.route_batch(mixed)

    assert sum(counts.values()) == len(mixed)
    db.session.expire_all()
    events = routed_events(mixed)
    assert taken not in events  # the batch's transaction was rolled back, then the ticket skipped
    assert events == {i: 1 for i in mixed if i != taken}
    assert db.session.get(Ticket, taken).status == Status.PENDING_DISPATCH


def test_a_ticket_that_fails_does_not_hold_up_the_others(
    city, mixed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = mixed[1]
    start_clocks = sla.start_clocks

    def failing(ticket, *args, **kwargs):
        if ticket.id == broken:
            raise ValueError("no working time within 3 years")
        return start_clocks(ticket, *args, **kwargs)

    monkeypatch.setattr(sla, "start_clocks", failing)
    with pytest.raises(tickets.BatchRoutingFailed) as failed:
        tickets.route_batch(mixed)

    assert list(failed.value.failed) == [broken]  # the job fails, so RQ retries it
    db.session.expire_all()
    assert db.session.get(Ticket, broken).status == Status.NEW  # and the sweep will find it
    assert routed_events(mixed) == {i: 1 for i in mixed if i != broken}


def test_the_jobs_time_running_out_ends_the_batch(city, mixed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    from rq.timeouts import JobTimeoutException

    def out_of_time(*args, **kwargs):
        raise JobTimeoutException("Task exceeded maximum timeout value (180 seconds)")

    monkeypatch.setattr(sla, "start_clocks", out_of_time)
    with pytest.raises(JobTimeoutException):  # not swallowed as one ticket's failure
        tickets.route_batch(mixed)
    db.session.rollback()
    assert routed_events(mixed) == {}  # the batch's transaction is not committed


# -- the worker's warm-up before each fork (hotline.tasks.routing.warm_up) -------------------------------


def test_the_warm_up_loads_the_calendar_at_most_every_half_minute(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.services.clocks import calendar
    from hotline.tasks import routing as jobs

    loads = []
    monkeypatch.setattr(calendar, "work_calendar", lambda: loads.append(1))
    monkeypatch.setattr(jobs, "_warmed_at", float("-inf"))
    jobs.warm_up()
    jobs.warm_up()  # the next job, moments later: nothing to do
    assert loads == [1]
    monkeypatch.setattr(jobs, "_warmed_at", jobs._warmed_at - jobs.WARM_UP_EVERY)
    jobs.warm_up()
    assert loads == [1, 1]


def test_a_failing_warm_up_does_not_stop_the_worker(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.services.clocks import calendar
    from hotline.tasks import routing as jobs

    def broken():
        raise RuntimeError("database away")

    monkeypatch.setattr(calendar, "work_calendar", broken)
    monkeypatch.setattr(jobs, "_warmed_at", float("-inf"))
    jobs.warm_up()  # logged, not raised: the job itself will say what is wrong
