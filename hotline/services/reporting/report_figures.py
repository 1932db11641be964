"""The figures that supervisors' reports are made of, per ticket and per day.

Definitions (the dashboard prints them too):
- A ticket counts on the local day it was created, in the hotline's time zone.
  Merged duplicates do not count: their parent answers for them.
- The three clocks: to dispatch = created → dispatched; to accept = dispatched →
  accepted; to resolve = dispatched → resolved. A ticket that was never
  dispatched (imported history) starts its resolve clock at creation.
- On time means at or before the due time. Acceptance is "decided" once the ticket
  was accepted or its accept deadline passed; the response rate is accepted on time
  among decided. Resolved on time counts among resolved tickets that had a due time.
- A direct answer is a consultation closed at intake (never dispatched). Returned
  means sent back at least once by a department (misrouted), among tickets ever
  dispatched; reopened means the
  citizen's dissatisfaction reopened it at least once.

`refresh_day` recomputes a day's rows from its tickets; every change to a ticket
marks its day dirty in the same transaction (`mark_tickets_changed`, called by its writer:
`lifecycle.apply` through `derived`, intake, the sweep's bulk UPDATE), and the RQ
sweep refreshes dirty days every minute, then adds up again the week and month rows
(`refresh_period`) of the periods those days fall in, so that a report over years reads
a few hundred rows per group instead of thousands of days. `rebuild` recomputes every day, streaming
one day at a time, so its memory stays bounded whatever the number of tickets.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import Insert, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from hotline.extensions import db
from hotline.models import Category, Department, District, RoutingOutcome, Status, Ticket, User
from hotline.models.report import (
    CLOCKS,
    COUNTS,
    GRAINS,
    MisroutingFact,
    ReportDirtyDay,
    ReportFact,
    ReportPeriodFact,
    ReportState,
)
from hotline.models.types import utcnow
from hotline.services.reporting import misrouting_figures

# 满意率 as 12345 hotlines report it: "satisfied" and "basically satisfied" both count.
SATISFIED = ("satisfied", "basically_satisfied")

# Histogram buckets of minutes: one per minute below EXACT_BELOW, then geometric with
# ratio GROWTH, so any value read back is within one minute, or within 1 %.
EXACT_BELOW = 100
GROWTH = 1.02
_LOG_GROWTH = math.log(GROWTH)


def bucket_of(seconds: float) -> int:
    minutes = max(seconds, 0.0) / 60
    if minutes < EXACT_BELOW:
        return int(minutes)
    return EXACT_BELOW + int(math.log(minutes / EXACT_BELOW) / _LOG_GROWTH)


def bucket_minutes(bucket: int) -> float:
    """The value that stands for a bucket: its whole minute (whole minutes read back exactly,
    anything else less than a minute low), or the geometric middle (within 1 %)."""
    if bucket < EXACT_BELOW:
        return float(bucket)
    return EXACT_BELOW * GROWTH ** (bucket - EXACT_BELOW + 0.5)


def pack_histogram(histogram: dict[int, int]) -> bytes:
    """A histogram as stored in a day row: little-endian int32 (bucket, count) pairs."""
    return np.array(sorted(histogram.items()), dtype="<i4").tobytes() if histogram else b""


def merge_packed(blobs: list[bytes]) -> dict[int, int]:
    """The sum of many packed histograms, added up in one pass in C."""
    data = b"".join(blobs)
    if not data:
        return {}
    pairs = np.frombuffer(data, dtype="<i4").reshape(-1, 2)
    totals = np.bincount(pairs[:, 0], weights=pairs[:, 1])
    buckets = np.nonzero(totals)[0]
    return dict(zip(buckets.tolist(), totals[buckets].astype(np.int64).tolist(), strict=True))


def merge_to_packed(blobs: list[bytes]) -> bytes:
    """The sum of many packed histograms, packed again (a week's or month's row), in C."""
    data = b"".join(blobs)
    if not data:
        return b""
    pairs = np.frombuffer(data, dtype="<i4").reshape(-1, 2)
    totals = np.bincount(pairs[:, 0], weights=pairs[:, 1])
    buckets = np.nonzero(totals)[0]
    return np.column_stack((buckets, totals[buckets])).astype("<i4").tobytes()


def histogram_percentiles(histogram: dict[int, int], fractions: tuple[float, ...]) -> list[float | None]:
    """Minutes at each fraction, interpolating between the closest ranks as `percentile` does
    on exact values, with each value read as its bucket's stand-in (one sort for all)."""
    if not histogram:
        return [None] * len(fractions)
    buckets = sorted(histogram)
    cumulative = list(accumulate(histogram[b] for b in buckets))
    total = cumulative[-1]
    found: list[float | None] = []
    for fraction in fractions:
        position = (total - 1) * fraction
        low_rank, high_rank = math.floor(position), math.ceil(position)
        # The first bucket whose running count passes a rank holds that rank.
        low = bucket_minutes(buckets[bisect_right(cumulative, low_rank)])
        high = bucket_minutes(buckets[bisect_right(cumulative, high_rank)])
        found.append(low + (high - low) * (position - low_rank))
    return found


def histogram_percentile(histogram: dict[int, int], fraction: float) -> float | None:
    return histogram_percentiles(histogram, (fraction,))[0]


def percentile(values: list[float], fraction: float) -> float | None:
    """Exact percentile, linear between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 6)


# --- one ticket -------------------------------------------------------------------------

TICKET_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.type,
    Ticket.channel,
    Ticket.source,
    Ticket.category_id,
    Ticket.district_id,
    Ticket.department_id,
    Ticket.created_by_id,
    Ticket.created_at,
    Ticket.dispatched_at,
    Ticket.accepted_at,
    Ticket.resolved_at,
    Ticket.accept_due_at,
    Ticket.resolve_due_at,
    Ticket.satisfaction,
    Ticket.reopen_count,
    Ticket.contact_due_at,  # first contact with the citizen (issue 17)
    Ticket.first_contacted_at,
)


def returned_column():
    """Whether a department ever sent the ticket back (a misrouting)."""
    return (
        exists()
        .where(RoutingOutcome.ticket_id == Ticket.id, RoutingOutcome.kind == "returned")
        .correlate(Ticket)
        .label("was_returned")
    )


@dataclass
class TicketFigures:
    """What one ticket adds to each group it belongs to."""

    counts: dict[str, int]
    seconds: dict[str, float]  # clock name → duration, for the clocks that ran


def ticket_figures(row: Any, now: datetime) -> TicketFigures:
    counts = dict.fromkeys(COUNTS, 0)
    seconds: dict[str, float] = {}
    counts["received"] = 1
    if row.dispatched_at is not None:
        seconds["dispatch"] = (row.dispatched_at - row.created_at).total_seconds()
    # Sent to a department at least once: a ticket returned and waiting for the dispatcher
    # again has no dispatch time now, yet it was dispatched (the base of the return rate).
    counts["dispatched"] = int(row.dispatched_at is not None or bool(row.was_returned))
    if row.accepted_at is not None:
        counts["accepted"] = 1
        if row.dispatched_at is not None:
            seconds["accept"] = (row.accepted_at - row.dispatched_at).total_seconds()
    if row.accept_due_at is not None:
        if row.accepted_at is not None:
            counts["accept_decided"] = 1
            counts["accepted_on_time"] = int(row.accepted_at <= row.accept_due_at)
        elif row.accept_due_at < now and row.status in Status.WITH_DEPARTMENT:
            counts["accept_decided"] = 1  # still not accepted, and late already
    direct = row.status == Status.CLOSED and row.dispatched_at is None and row.department_id is None and not row.source
    if direct:
        counts["direct_answers"] = 1
    if row.resolved_at is not None and not direct:
        counts["resolved"] = 1
        seconds["resolve"] = (row.resolved_at - (row.dispatched_at or row.created_at)).total_seconds()
        if row.resolve_due_at is not None:
            counts["resolve_with_due"] = 1
            counts["resolved_on_time"] = int(row.resolved_at <= row.resolve_due_at)
    # First contact (issue 17): dispatched → first contacted; decided once contacted or its deadline passed.
    if row.first_contacted_at is not None and row.dispatched_at is not None:
        seconds["contact"] = max((row.first_contacted_at - row.dispatched_at).total_seconds(), 0.0)
    if row.contact_due_at is not None:
        if row.first_contacted_at is not None:
            counts["contact_decided"] = 1
            counts["contacted_on_time"] = int(row.first_contacted_at <= row.contact_due_at)
        elif row.contact_due_at < now:
            counts["contact_decided"] = 1  # not contacted, and late already
    counts["open"] = int(row.status in Status.OPEN)
    counts["returned"] = int(bool(row.was_returned))
    counts["reopened"] = int(row.reopen_count > 0)
    if row.satisfaction:
        counts["rated"] = 1
        counts["satisfied"] = int(row.satisfaction in SATISFIED)
    return TicketFigures(counts, seconds)


@dataclass
class Codes:
    """Codes of departments, districts and categories (with each category's ancestors), and
    the user names of operators."""

    departments: dict[int, str]
    districts: dict[int, str]
    category_lineage: dict[int, list[str]]
    operators: dict[int, str]
    # Units in a tree (issue 17): each unit's code and its ancestors', as for categories: a
    # district's row counts its streets' tickets.
    department_lineage: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Codes:
        departments = dict(db.session.execute(select(Department.id, Department.code)).all())
        districts = dict(db.session.execute(select(District.id, District.code)).all())
        lineage = _lineages(db.session.execute(select(Category.id, Category.code, Category.parent_id)).all())
        operators = dict(db.session.execute(select(User.id, User.username)).all())
        units = _lineages(db.session.execute(select(Department.id, Department.code, Department.parent_id)).all())
        return cls(departments, districts, lineage, operators, units)

    @classmethod
    def for_request(cls) -> Codes:
        """Loaded once per web request: a dashboard asks for several reports."""
        if not has_request_context():
            return cls.load()
        # On the request itself, not on `g`: `g` outlives the request where an app context
        # was pushed around it (tests, CLI), and the codes must not go stale.
        codes = getattr(request, "_hotline_report_codes", None)
        if codes is None:
            codes = cls.load()
            request._hotline_report_codes = codes  # type: ignore[attr-defined]
        return codes

    def keys(self, row: Any) -> Iterator[tuple[str, str]]:
        """Each (dimension, key) the ticket counts under. Department: only tickets that a
        department holds; other dimensions: "" when the ticket has none."""
        yield "all", ""
        if row.department_id is not None:  # the unit and those above it (units in a tree, issue 17)
            for code in self.department_lineage.get(row.department_id) or [self.departments.get(row.department_id, "")]:
                yield "department", code
        for code in self.category_lineage.get(row.category_id, []):
            yield "category", code
        yield "district", self.districts.get(row.district_id, "") if row.district_id else ""
        yield "channel", row.channel or ""
        yield "type", row.type or ""
        if row.created_by_id is not None:  # who logged it: for the direct-answer rate per operator
            yield "operator", self.operators.get(row.created_by_id, "")


def _lineages(rows: Any) -> dict[int, list[str]]:
    """id -> its code, its parent's, and on up (a cycle stops at the first code seen again)."""
    code = {r.id: r.code for r in rows}
    parent = {r.id: r.parent_id for r in rows}
    lineage: dict[int, list[str]] = {}
    for node_id in code:
        chain, node = [], node_id
        while node is not None and node in code and code[node] not in chain:
            chain.append(code[node])
            node = parent.get(node)
        lineage[node_id] = chain
    return lineage


# --- accumulating -----------------------------------------------------------------------


@dataclass
class Tally:
    """Counts, sums and either histograms (from facts) or exact values (live) of a group."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CLOCKS, 0.0))
    histograms: dict[str, dict[int, int]] = field(default_factory=lambda: {c: {} for c in CLOCKS})
    values: dict[str, list[float]] | None = None  # exact durations in minutes, when kept

    def add_ticket(self, figures: TicketFigures, keep_values: bool = False) -> None:
        for name, n in figures.counts.items():
            if n:
                self.counts[name] += n
        for clock, duration in figures.seconds.items():
            self.seconds[clock] += duration
            bucket = bucket_of(duration)
            histogram = self.histograms[clock]
            histogram[bucket] = histogram.get(bucket, 0) + 1
            if keep_values:
                if self.values is None:
                    self.values = {c: [] for c in CLOCKS}
                self.values[clock].append(duration / 60)

    def clock_count(self, clock: str) -> int:
        return sum(self.histograms[clock].values())

    def minutes_at(self, clock: str, fraction: float) -> float | None:
        return self.percentiles(clock, (fraction,))[0]

    def percentiles(self, clock: str, fractions: tuple[float, ...]) -> list[float | None]:
        if self.values is not None:
            return [percentile(self.values[clock], fraction) for fraction in fractions]
        return histogram_percentiles(self.histograms[clock], fractions)

    def mean_minutes(self, clock: str) -> float | None:
        n = self.clock_count(clock)
        return self.seconds[clock] / 60 / n if n else None


# --- days -------------------------------------------------------------------------------


def timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def day_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants from the start of local day `start` to the end of `end` (inclusive)."""
    low = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return low, high


def day_facts(day: date, now: datetime, codes: Codes, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The fact rows of one local day, computed from its tickets."""
    low, high = day_bounds(day, day, zone)
    rows = db.session.execute(
        select(*TICKET_COLUMNS, returned_column()).where(
            Ticket.created_at >= low, Ticket.created_at < high, Ticket.status != Status.MERGED
        )
    )
    tallies: dict[tuple[str, str], Tally] = {}
    for row in rows:
        figures = ticket_figures(row, now)
        for dim_key in codes.keys(row):
            tally = tallies.get(dim_key)
            if tally is None:
                tally = tallies[dim_key] = Tally()
            tally.add_ticket(figures)
    facts = []
    for (dim, key), tally in tallies.items():
        fact: dict[str, Any] = {"day": day, "dim": dim, "key": key, **tally.counts}
        for clock in CLOCKS:
            fact[f"{clock}_seconds"] = tally.seconds[clock]
            fact[f"{clock}_hist"] = pack_histogram(tally.histograms[clock])
        facts.append(fact)
    return facts


def refresh_day(day: date, now: datetime | None = None, codes: Codes | None = None) -> int:
    """Replace one day's fact rows; the caller commits. Returns the number of rows."""
    now = now or utcnow()
    zone = timezone()
    facts = day_facts(day, now, codes or Codes.load(), zone)
    db.session.execute(delete(ReportFact).where(ReportFact.day == day))
    if facts:
        db.session.execute(insert(ReportFact), facts)
    misrouting_figures.refresh_day(day, *day_bounds(day, day, zone))  # the misrouting report's
    return len(facts)


def refresh_dirty(limit: int = 400) -> int:
    """Refresh the days marked dirty (oldest mark first), each in its own transaction, then
    the week and month rows of each month's days; a first run on a database that was never
    aggregated rebuilds everything."""
    if needs_rebuild():
        return rebuild().days
    # The figures are as of the moment the marks are read: a change committed after it leaves
    # its mark for the next run (the dashboard counts those days as not counted yet).
    read_at = utcnow()
    marks = db.session.execute(
        select(ReportDirtyDay.day, ReportDirtyDay.generation).order_by(ReportDirtyDay.marked_at).limit(limit)
    ).all()
    codes = Codes.load() if marks else None
    by_month: dict[date, list[tuple[date, int]]] = {}
    for day, generation in marks:
        by_month.setdefault(period_first(day, "month"), []).append((day, generation))
    for month_marks in by_month.values():
        for day, _generation in month_marks:
            refresh_day(day, codes=codes)
            db.session.commit()
        # The marks go with the periods' rows, in one transaction: a run that stops between
        # leaves the marks, and the next run adds the periods up again.
        refresh_periods(day for day, _generation in month_marks)
        for day, generation in month_marks:
            db.session.execute(
                delete(ReportDirtyDay).where(ReportDirtyDay.day == day, ReportDirtyDay.generation == generation)
            )
        db.session.commit()
    # Stamped on every run, changes or none: "数据截至 09:41:07" says the figures were current
    # then, and a quiet hour does not make them look an hour old.
    if limit > len(marks):  # a full batch leaves more marks behind: not current yet
        _state().refreshed_at = read_at
        db.session.commit()
    return len(marks)


# --- weeks and months -------------------------------------------------------------------


def period_first(day: date, grain: str) -> date:
    """The first day of the week (Monday, as the 12345 weekly reports count) or month of `day`."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def period_last(first: date, grain: str) -> date:
    """The last day of the week or month that starts on `first`."""
    if grain == "week":
        return first + timedelta(days=6)
    if grain == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first


_VALUE_COLUMNS = (*COUNTS, *(f"{clock}_seconds" for clock in CLOCKS), *(f"{clock}_hist" for clock in CLOCKS))


def refresh_period(grain: str, first: date) -> int:
    """Replace the rows of one week or month by the sum of its day rows (counts and seconds
    added up by the database, histograms merged here); the caller commits. Returns the
    number of rows."""
    last = period_last(first, grain)
    in_period = (ReportFact.day >= first, ReportFact.day <= last)
    numbers = _VALUE_COLUMNS[: len(COUNTS) + len(CLOCKS)]
    sums = select(ReportFact.dim, ReportFact.key, *(func.sum(getattr(ReportFact, name)) for name in numbers))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for dim, key, *values in db.session.execute(sums.where(*in_period).group_by(ReportFact.dim, ReportFact.key)):
        rows[(dim, key)] = {
            "grain": grain,
            "day": first,
            "dim": dim,
            "key": key,
            **dict(zip(numbers, values, strict=True)),
        }
    blobs: dict[tuple[str, str], dict[str, list[bytes]]] = defaultdict(lambda: {clock: [] for clock in CLOCKS})
    histograms = [getattr(ReportFact, f"{clock}_hist") for clock in CLOCKS]
    for dim, key, *packed in db.session.execute(select(ReportFact.dim, ReportFact.key, *histograms).where(*in_period)):
        lists = blobs[(dim, key)]
        for clock, blob in zip(CLOCKS, packed, strict=True):
            if blob:
                lists[clock].append(blob)
    for group, row in rows.items():
        for clock in CLOCKS:
            row[f"{clock}_hist"] = merge_to_packed(blobs[group][clock])
    db.session.execute(delete(ReportPeriodFact).where(ReportPeriodFact.grain == grain, ReportPeriodFact.day == first))
    if rows:
        db.session.execute(insert(ReportPeriodFact), list(rows.values()))
    return len(rows)


def refresh_periods(days: Iterable[date]) -> None:
    """Add up again the weeks and months these days fall in; the caller commits."""
    days = set(days)
    for grain in GRAINS:
        for first in sorted({period_first(day, grain) for day in days}):
            refresh_period(grain, first)


@dataclass
class RebuildResult:
    days: int
    rows: int
    tickets: int


def rebuild(progress: Callable[[date, int], None] | None = None) -> RebuildResult:
    """Recompute every day from the tickets, one day per transaction (bounded memory)."""
    zone = timezone()
    now = utcnow()
    first, last = db.session.execute(
        select(func.min(Ticket.created_at), func.max(Ticket.created_at)).where(Ticket.status != Status.MERGED)
    ).one()
    db.session.execute(delete(ReportDirtyDay))
    result = RebuildResult(0, 0, 0)
    if first is None:
        db.session.execute(delete(ReportFact))
        db.session.execute(delete(ReportPeriodFact))
        db.session.execute(delete(MisroutingFact))
    else:
        start, end = local_day(first, zone), local_day(last, zone)
        db.session.execute(delete(ReportFact).where((ReportFact.day < start) | (ReportFact.day > end)))
        misrouting_figures.delete_outside(start, end)
        db.session.execute(
            delete(ReportPeriodFact).where(
                (ReportPeriodFact.day < period_first(start, "week")) | (ReportPeriodFact.day > end)
            )
        )
        codes = Codes.load()
        day = start
        while day <= end:
            rows = refresh_day(day, now, codes)
            # A week or month is added up once, on its last day (or the last day of all).
            for grain in GRAINS:
                if day == end or day == period_last(period_first(day, grain), grain):
                    refresh_period(grain, period_first(day, grain))
            if rows or day.day == 1:  # empty days (long gaps in imported history) share a commit
                db.session.commit()
            result.days += 1
            result.rows += rows
            if progress:
                progress(day, rows)
            day += timedelta(days=1)
        result.tickets = db.session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.status != Status.MERGED)
        )
    state = _state()
    state.rebuilt_at = state.refreshed_at = utcnow()
    db.session.commit()
    return result


def needs_rebuild() -> bool:
    """True until the figures were built once from all the tickets (a new or upgraded database)."""
    state = db.session.get(ReportState, 1)
    return state is None or state.rebuilt_at is None


def _state() -> ReportState:
    state = db.session.get(ReportState, 1)
    if state is None:
        state = ReportState(id=1)
        db.session.add(state)
        db.session.flush()
    return state


def last_refreshed() -> datetime | None:
    state = db.session.get(ReportState, 1)
    return state.refreshed_at if state else None


def pending_days() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportDirtyDay)) or 0


# --- marking days dirty -----------------------------------------------------------------


def mark_days(days: Iterable[date], session: Session | None = None) -> None:
    """Mark local days for refresh, in the caller's transaction (an upsert per day)."""
    days = sorted(set(days))
    if not days:
        return
    connection = (session or db.session).connection()
    now = utcnow()
    rows = [{"day": d, "generation": 1, "marked_at": now} for d in days]
    connection.execute(_mark_statement(connection.dialect.name), rows)


@lru_cache(maxsize=4)
def _mark_statement(dialect: str) -> Insert:
    """Built once per dialect: every intake runs it, and building it cost more than running it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert(ReportDirtyDay).on_conflict_do_update(
        index_elements=[ReportDirtyDay.day],
        set_={"generation": ReportDirtyDay.generation + 1},
    )


def mark_tickets_changed(tickets: Iterable[Ticket], session: Session | None = None) -> None:
    if not has_app_context():
        return
    zone = timezone()
    mark_days((local_day(t.created_at, zone) for t in tickets if t.created_at is not None), session)


def mark_ticket_ids_changed(ticket_ids: Iterable[int]) -> None:
    ids = list(ticket_ids)
    if not ids:
        return
    zone = timezone()
    created = db.session.scalars(select(Ticket.created_at).where(Ticket.id.in_(ids)))
    mark_days(local_day(at, zone) for at in created)
