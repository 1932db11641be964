"""Routing jobs (urgent queue): one ticket, a batch from the sweep, and intake's drain."""

from __future__ import annotations

import time
from collections import Counter

from flask import current_app

from hotline.extensions import db
from hotline.services.citizens import outbox
from hotline.services.clocks import calendar
from hotline.services.dispatch import suggestions
from hotline.services.platform import queueing, write_turns
from hotline.services.ticketing import tickets

ROUTE_CHUNK = 10  # tickets per routing transaction in a drain (see drain_intake)


def route_ticket(ticket_id: int) -> str | None:
    try:
        ticket = tickets.route(ticket_id)
        return ticket.status if ticket else None
    finally:
        db.session.remove()


def route_batch(ticket_ids: list[int]) -> dict[str, int]:
    """Route a batch of tickets (a backlog that the sweep enqueued) with the rules and the
    reference data loaded once; returns the count per resulting status."""
    try:
        return tickets.route_batch(ticket_ids)
    finally:
        db.session.remove()


def drain_intake() -> dict[str, int]:
    """Route and text a batch of the tickets that intake handed over (`queueing.enqueue_intake`)."""
    try:
        return hand_over_batch()
    finally:
        db.session.remove()


def hand_over_batch() -> dict[str, int]:
    """Take a batch of tickets intake handed over, route the new ones ROUTE_CHUNK to a
    transaction and enqueue their texts. Returns the count per status; raises
    BatchRoutingFailed, after the rest are routed, for tickets that failed."""
    ticket_ids = queueing.take_intake()
    counts: Counter[str] = Counter()
    # A few tickets per transaction: a routing commit holds the day's report row (and, on
    # SQLite, the file's write lock) that every intake writes too, so a batch of a hundred in
    # one transaction kept intake waiting for its whole length (benchmarks/intake.py). On
    # SQLite each takes its turn with the intakes (write_turns), so that neither side sleeps.
    failed: dict[int, str] = {}
    for start in range(0, len(ticket_ids), ROUTE_CHUNK):
        try:
            with write_turns.write_turn():
                counts.update(tickets.route_batch(ticket_ids[start : start + ROUTE_CHUNK]))
        except tickets.BatchRoutingFailed as error:  # the rest still go; those stay new for the sweep
            failed |= error.failed
    queueing.enqueue_sends(outbox.queued_for_tickets(ticket_ids))
    if failed:
        raise tickets.BatchRoutingFailed(failed)
    return dict(counts)


WARM_UP_EVERY = 30.0  # seconds; the caches themselves keep what they load for a minute
_warmed_at = float("-inf")


def warm_up() -> None:
    """Load in the worker, before it forks a work horse, what routing needs in every job: the
    holiday calendar and the suggestion model (with scikit-learn and rjieba's dictionary). The
    horse inherits them (copy-on-write) rather than loading them again, which cost a cold horse
    well over a second per job once a model was trained. Done at most every WARM_UP_EVERY, so
    that a job pays nothing for it; never fails the worker."""
    global _warmed_at
    if time.monotonic() - _warmed_at < WARM_UP_EVERY:
        return
    _warmed_at = time.monotonic()
    try:
        calendar.work_calendar()
        suggestions.suggest("预热", limit=1)  # loads the active model, if any, and tokenizes once
    except Exception:  # noqa: BLE001 (the job itself will load what it needs, or report why not)
        current_app.logger.exception("warm-up before the job failed")
    finally:
        db.session.remove()  # no transaction left open in the worker while the horse writes
