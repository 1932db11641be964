"""Supervisors' reports: received, dispatched, resolved, open and overdue tickets, the
three clocks (median, 90th percentile, mean) and the rates, per department, category,
district, channel or type, over a range of local days, optionally per day/week/month.

Figures come from the pre-aggregated day rows (services/reporting/report_figures.py): medians
and percentiles then come from histograms, within one minute or 1 % of the exact
value (rows say `approximate`). `exact=True` computes them from the tickets
themselves instead (bounded ranges only). "Overdue now" is always live. The
definitions are in report_figures.py and printed on the dashboard.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_request_context, request
from sqlalchemy import Select, and_, false, func, or_, select

from hotline.extensions import db
from hotline.models import Category, Department, District, RoutingOutcome, RoutingRule, Status, Ticket, User
from hotline.models.report import CLOCKS, COUNTS, ReportFact, ReportPeriodFact
from hotline.models.types import utcnow
from hotline.services.clocks.overdue import overdue_condition
from hotline.services.reporting import misrouting_figures
from hotline.services.reporting.report_figures import (
    SATISFIED,
    TICKET_COLUMNS,
    Codes,
    Tally,
    day_bounds,
    local_day,
    merge_packed,
    needs_rebuild,
    percentile,
    period_first,
    period_last,
    returned_column,
    ticket_figures,
    timezone,
)

GROUPINGS = ("department", "category", "district", "channel", "type", "operator")
PERIODS = ("day", "week", "month")
# What a figure's drill-down lists (see `drill_down`): the count behind each figure.
MEASURES = (
    "received",
    "dispatched",
    "accepted",
    "accepted_late",
    "resolved",
    "resolved_late",
    "open",
    "overdue",
    "direct_answers",
    "returned",
    "reopened",
    "rated",
    "unsatisfied",
)

__all__ = [
    "GROUPINGS",
    "MEASURES",
    "PERIODS",
    "ReportRow",
    "drill_down",
    "percentile",
    "report",
    "report_page",
    "response_times",
]


def period_start(day: date, period: str | None) -> date | None:
    return None if period is None else period_first(day, period)  # weeks start on Monday


@dataclass
class ReportRow:
    group_by: str  # "all" for the whole city
    key: str  # the group's code; "" where tickets have none (no district, say)
    name: str
    period: date | None
    received: int
    dispatched: int
    accepted: int
    resolved: int
    open: int
    overdue_open: int | None  # None where not asked for (report(overdue=False))
    direct_answers: int
    returned: int
    reopened: int
    rated: int
    accepted_late: int  # acceptance decided, and not on time (the drill-down "accepted_late")
    resolved_late: int  # resolved after the due time
    unsatisfied: int  # rated, and neither satisfied nor basically satisfied
    dispatch_p50_minutes: float | None
    dispatch_p90_minutes: float | None
    dispatch_mean_minutes: float | None
    accept_p50_minutes: float | None
    accept_p90_minutes: float | None
    accept_mean_minutes: float | None
    resolve_p50_hours: float | None
    resolve_p90_hours: float | None
    resolve_mean_hours: float | None
    response_rate: float | None  # accepted on time, among tickets whose acceptance is decided
    resolution_rate: float | None  # resolved, among received
    resolved_on_time_rate: float | None  # resolved on time, among resolved with a due time
    satisfaction_rate: float | None  # satisfied or basically satisfied, among rated
    direct_answer_rate: float | None  # closed at intake, among received
    return_rate: float | None  # returned by a department at least once, among dispatched
    reopen_rate: float | None  # reopened by the citizen, among resolved
    # First contact with the citizen (issue 17): dispatched → first contacted, and the share
    # contacted by the deadline among tickets contacted or past it.
    first_contact_p50_hours: float | None
    first_contact_p90_hours: float | None
    contacted_on_time_rate: float | None
    approximate: bool  # percentiles read from histograms (within 1 minute or 1 %)

    @property
    def tickets(self) -> int:
        return self.received

    @property
    def department(self) -> str:  # the first version's name for the group's code
        return self.key


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rounded(value: float | None, scale: float = 1.0) -> float | None:
    return None if value is None else round(value / scale, 2)


def _row(group_by: str, key: str, name: str, period: date | None, tally: Tally, overdue: int | None) -> ReportRow:
    c = tally.counts
    dispatch = tally.percentiles("dispatch", (0.5, 0.9))
    accept = tally.percentiles("accept", (0.5, 0.9))
    resolve = tally.percentiles("resolve", (0.5, 0.9))
    contact = tally.percentiles("contact", (0.5, 0.9))
    return ReportRow(
        group_by=group_by,
        key=key,
        name=name,
        period=period,
        received=c["received"],
        dispatched=c["dispatched"],
        accepted=c["accepted"],
        resolved=c["resolved"],
        open=c["open"],
        overdue_open=overdue,
        direct_answers=c["direct_answers"],
        returned=c["returned"],
        reopened=c["reopened"],
        rated=c["rated"],
        accepted_late=c["accept_decided"] - c["accepted_on_time"],
        resolved_late=c["resolve_with_due"] - c["resolved_on_time"],
        unsatisfied=c["rated"] - c["satisfied"],
        dispatch_p50_minutes=_rounded(dispatch[0]),
        dispatch_p90_minutes=_rounded(dispatch[1]),
        dispatch_mean_minutes=_rounded(tally.mean_minutes("dispatch")),
        accept_p50_minutes=_rounded(accept[0]),
        accept_p90_minutes=_rounded(accept[1]),
        accept_mean_minutes=_rounded(tally.mean_minutes("accept")),
        resolve_p50_hours=_rounded(resolve[0], 60),
        resolve_p90_hours=_rounded(resolve[1], 60),
        resolve_mean_hours=_rounded(tally.mean_minutes("resolve"), 60),
        response_rate=_rate(c["accepted_on_time"], c["accept_decided"]),
        resolution_rate=_rate(c["resolved"], c["received"]),
        resolved_on_time_rate=_rate(c["resolved_on_time"], c["resolve_with_due"]),
        satisfaction_rate=_rate(c["satisfied"], c["rated"]),
        direct_answer_rate=_rate(c["direct_answers"], c["received"]),
        return_rate=_rate(c["returned"], c["dispatched"]),
        reopen_rate=_rate(c["reopened"], c["resolved"]),
        first_contact_p50_hours=_rounded(contact[0], 60),
        first_contact_p90_hours=_rounded(contact[1], 60),
        contacted_on_time_rate=_rate(c["contacted_on_time"], c["contact_decided"]),
        approximate=tally.values is None,
    )


def group_names(group_by: str) -> dict[str, str]:
    """Display names by code; channels and types are named by the web layer's labels."""
    if group_by == "operator":
        return dict(db.session.execute(select(User.username, User.display_name)).all())
    model = {"department": Department, "category": Category, "district": District}.get(group_by)
    if model is None:
        return {}
    return dict(db.session.execute(select(model.code, model.name)).all())


def report(
    start: date,
    end: date,
    group_by: str = "department",
    period: str | None = None,
    exact: bool = False,
    now: datetime | None = None,
    tz: str | None = None,
    overdue: bool = True,
    keys: Collection[str] | None = None,
) -> list[ReportRow]:
    """One row per group (and period, if asked), sorted by period then code; `group_by`
    "all" gives the whole city's row(s). Days are local to the hotline's time zone (`tz`
    only changes that for exact figures: the day rows are made in the hotline's zone).
    `keys` keeps only those groups (the first level of the category tree, say)."""
    return report_page(start, end, group_by, period, exact, now, tz, overdue, keys)[0]


def report_page(
    start: date,
    end: date,
    group_by: str = "department",
    period: str | None = None,
    exact: bool = False,
    now: datetime | None = None,
    tz: str | None = None,
    overdue: bool = True,
    keys: Collection[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[ReportRow], int]:
    """`limit` rows of the report from `offset` on, and how many rows it has in all. The
    counts of every row are summed by the database (cheap); the histograms, the costly part,
    are read and merged for the rows of the page only."""
    now = now or utcnow()
    zone = ZoneInfo(tz) if tz else timezone()
    dim = "all" if group_by == "all" else group_by
    wanted = frozenset(keys) if keys is not None else None
    sums: dict[tuple[date | None, str], list[tuple]] = {}
    if exact:
        tallies = _exact_tallies(start, end, dim, period, now, zone)
    else:
        sums = _fact_sums(start, end, dim, period, wanted)
    # Overdue now is live; a comparison with an earlier period can go without it (overdue=False).
    overdue_now = _overdue_now(start, end, dim, period, now, zone) if overdue else {}
    groups = sorted(set(tallies if exact else sums) | set(overdue_now), key=lambda k: (k[0] or date.min, k[1]))
    if wanted is not None:
        groups = [group for group in groups if group[1] in wanted]
    total = len(groups)
    groups = groups[offset : None if limit is None else offset + limit]
    if not exact:  # tallies for the rows of the page only
        tallies = {group: _summed(sums[group]) for group in groups if group in sums}
        _add_histograms(start, end, dim, period, tallies, groups)
    names = group_names(dim)
    rows = []
    for period_key, key in groups:
        tally = tallies.get((period_key, key)) or Tally(values={c: [] for c in CLOCKS} if exact else None)
        rows.append(
            _row(
                dim,
                key,
                names.get(key) or key,
                period_key,
                tally,
                overdue_now.get((period_key, key), 0) if overdue else None,
            )
        )
    return rows, total


def response_times(start: date, end: date, tz: str | None = None, now: datetime | None = None) -> list[ReportRow]:
    """The first version's report: exact figures per department, straight from the tickets."""
    return report(start, end, "department", exact=True, now=now, tz=tz)


def departments_to_level(level: int) -> set[str]:
    """The codes of the units down to a level of the tree (1: the top units), as for categories."""
    lineages = Codes.for_request().department_lineage.values()
    return {lineage[0] for lineage in lineages if lineage and len(lineage) <= level}


def categories_to_level(level: int) -> set[str]:
    """The codes of the categories down to a level of the tree (1: the first level), and ""
    (tickets without a category keep their row)."""
    lineages = Codes.for_request().category_lineage.values()
    return {lineage[0] for lineage in lineages if lineage and len(lineage) <= level} | {""}


# Past this many groups an IN list costs more than reading the day's other rows.
_MOST_KEYS_IN_SQL = 500


@dataclass(frozen=True)
class _Segment:
    """Days low..high read from the day rows, or from the rows of whole weeks or months."""

    low: date
    high: date
    grain: str | None = None  # None: day rows

    @property
    def model(self) -> type[ReportFact] | type[ReportPeriodFact]:
        return ReportFact if self.grain is None else ReportPeriodFact

    def where(self, dim: str) -> list[Any]:
        model = self.model
        where = [model.dim == dim, model.day >= self.low, model.day <= self.high]
        if self.grain is not None:  # the rows of the periods that start in low..high
            where.append(ReportPeriodFact.grain == self.grain)
        return where


def _segments(start: date, end: date, period: str | None) -> list[_Segment]:
    """Where the days start..end are read from: the whole weeks (per week) or months (per
    month, or no period) inside the range from their own rows, the days at either end
    from the day rows. Ten years are some 120 month rows per group, fewer than a year's
    365 day rows, so a long range answers as fast as a year."""
    grain = {None: "month", "month": "month", "week": "week"}.get(period)
    if grain is None:
        return [_Segment(start, end)]
    first = period_first(start, grain)
    if first < start:
        first = period_last(first, grain) + timedelta(days=1)
    last = period_first(end, grain)
    if period_last(last, grain) > end:
        last = period_first(last - timedelta(days=1), grain)
    if first > last:
        return [_Segment(start, end)]
    segments = [_Segment(first, last, grain)]
    if start < first:
        segments.append(_Segment(start, first - timedelta(days=1)))
    after = period_last(last, grain) + timedelta(days=1)
    if after <= end:
        segments.append(_Segment(after, end))
    return segments


def _fact_sums(
    start: date, end: date, dim: str, period: str | None, keys: frozenset[str] | None
) -> dict[tuple[date | None, str], list[tuple]]:
    """The counts and sums of seconds per group, added up by the database, as its rows: per
    period it groups by day (or week or month row), and the rows of a week or month are added
    up by `_summed`, for the rows of a page only (30 days of every category per day is over
    9,000 groups)."""
    grouped: dict[tuple[date | None, str], list[tuple]] = defaultdict(list)
    for segment in _segments(start, end, period):
        model = segment.model
        in_range = segment.where(dim)
        if keys is not None and len(keys) <= _MOST_KEYS_IN_SQL:
            in_range.append(model.key.in_(sorted(keys)))
        columns = [getattr(model, name) for name in COUNTS] + [getattr(model, f"{clock}_seconds") for clock in CLOCKS]
        if period is not None:  # a row is one group's day or period already: no GROUP BY (and its sort)
            for row in db.session.execute(select(model.day, model.key, *columns).where(*in_range)):
                grouped[(period_start(row[0], period), row[1])].append(row[2:])
            continue
        sums = [func.sum(column) for column in columns]
        query = select(model.key, *sums).where(*in_range).group_by(model.key)
        for row in db.session.execute(query):
            grouped[(None, row[0])].append(row[1:])
    return grouped


def _summed(rows: list[tuple]) -> Tally:
    """A group's Tally from its rows of `_fact_sums` (one per day, or one in all)."""
    tally = Tally()
    counts, seconds = tally.counts, tally.seconds
    for values in rows:
        for name, value in zip(COUNTS, values, strict=False):
            counts[name] += int(value)
        for clock, value in zip(CLOCKS, values[len(COUNTS) :], strict=True):
            seconds[clock] += float(value)
    return tally


def _add_histograms(
    start: date,
    end: date,
    dim: str,
    period: str | None,
    tallies: dict[tuple[date | None, str], Tally],
    groups: list[tuple[date | None, str]],
) -> None:
    """Merge the day (or week, or month) rows' histograms into the tallies of `groups` (a page
    of the report): only the days and keys those groups cover are read."""
    wanted = {group for group in groups if group in tallies}
    if not wanted:
        return
    low, high = start, end
    if period is not None:  # the days of the page's periods only
        low = max(start, min(p for p, _k in wanted))
        high = min(end, period_last(max(p for p, _k in wanted), period))
    keys = {key for _p, key in wanted}
    blobs: dict[tuple[date | None, str], dict[str, list[bytes]]] = defaultdict(lambda: {c: [] for c in CLOCKS})
    for segment in _segments(low, high, period):
        model = segment.model
        where = segment.where(dim)
        if len(keys) <= _MOST_KEYS_IN_SQL:
            where.append(model.key.in_(sorted(keys)))
        histograms = [getattr(model, f"{clock}_hist") for clock in CLOCKS]  # the first-contact one too (issue 17)
        for row in db.session.execute(select(model.day, model.key, *histograms).where(*where)):
            group = (period_start(row.day, period), row.key)
            if group not in wanted:
                continue
            lists = blobs[group]
            for clock in CLOCKS:
                lists[clock].append(getattr(row, f"{clock}_hist"))
    for group, lists in blobs.items():
        for clock in CLOCKS:
            tallies[group].histograms[clock] = merge_packed(lists[clock])


def _exact_tallies(
    start: date, end: date, dim: str, period: str | None, now: datetime, zone: ZoneInfo
) -> dict[tuple[date | None, str], Tally]:
    low, high = day_bounds(start, end, zone)
    codes = Codes.for_request()
    rows = db.session.execute(
        select(*TICKET_COLUMNS, returned_column()).where(
            Ticket.created_at >= low, Ticket.created_at < high, Ticket.status != Status.MERGED
        )
    )
    tallies: dict[tuple[date | None, str], Tally] = {}
    for row in rows:
        figures = ticket_figures(row, now)
        period_key = period_start(local_day(row.created_at, zone), period)
        for row_dim, key in codes.keys(row):
            if row_dim != dim:
                continue
            tally = tallies.get((period_key, key))
            if tally is None:
                tally = tallies[(period_key, key)] = Tally(values={c: [] for c in CLOCKS})
            tally.add_ticket(figures, keep_values=True)
    return tallies


def _whole_hours(zone: ZoneInfo, low: datetime, high: datetime) -> bool:
    """Whether local days start on a whole UTC hour over the range (Beijing: always)."""
    return all(zone.utcoffset(at.replace(tzinfo=None)).total_seconds() % 3600 == 0 for at in (low, high))


def _utc_hour(dialect: str):
    """The UTC hour a ticket was created in, as text "YYYY-MM-DD HH" (times are stored naive UTC)."""
    if dialect == "postgresql":
        return func.to_char(Ticket.created_at, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", Ticket.created_at)


_OVERDUE_GROUPS = (
    Ticket.department_id,
    Ticket.category_id,
    Ticket.district_id,
    Ticket.channel,
    Ticket.type,
    Ticket.created_by_id,
)
_OVERDUE_INDEX = {"department": 0, "category": 1, "district": 2, "channel": 3, "type": 4, "operator": 5}


def _overdue_by_day(low: datetime, high: datetime, now: datetime, zone: ZoneInfo) -> dict[tuple, int]:
    """Tickets overdue now (services/clocks/overdue.py), created in [low, high), counted per local
    day and every group column at once: one query serves every report of a page (kept on the
    request), counted per UTC hour by the database where local days start on whole hours."""
    cache = request.__dict__.setdefault("_hotline_overdue", {}) if has_request_context() else {}
    found = cache.get((low, high))
    if found is not None:
        return found
    where = (overdue_condition(now), Ticket.created_at >= low, Ticket.created_at < high)
    counts: dict[tuple, int] = defaultdict(int)
    if _whole_hours(zone, low, high):
        hour = _utc_hour(db.session.get_bind().dialect.name)
        query = select(hour, *_OVERDUE_GROUPS, func.count()).where(*where).group_by(hour, *_OVERDUE_GROUPS)
        days: dict[str, date] = {}
        for started, *groups, n in db.session.execute(query):
            day = days.get(started)
            if day is None:
                day = days[started] = local_day(datetime.strptime(started, "%Y-%m-%d %H").replace(tzinfo=UTC), zone)
            counts[(day, *groups)] += n
    else:  # a zone a half hour off UTC: the local day of each overdue ticket, worked out here
        for created, *groups in db.session.execute(select(Ticket.created_at, *_OVERDUE_GROUPS).where(*where)):
            counts[(local_day(created, zone), *groups)] += 1
    cache[(low, high)] = counts
    return counts


def _overdue_now(
    start: date, end: date, dim: str, period: str | None, now: datetime, zone: ZoneInfo
) -> dict[tuple[Any, str], int]:
    """Tickets overdue now (services/clocks/overdue.py), by group: read live (an index on
    status, deadline and creation keeps it to the overdue tickets of the range); ids become
    codes once per group, categories count for their ancestors."""
    low, high = day_bounds(start, end, zone)
    index = _OVERDUE_INDEX.get(dim)
    grouped: dict[tuple[date | None, Any], int] = defaultdict(int)
    for (day, *groups), n in _overdue_by_day(low, high, now, zone).items():
        grouped[(period_start(day, period), groups[index] if index is not None else "")] += n
    dated = [(p, g, n) for (p, g), n in grouped.items()]
    codes = Codes.for_request() if dim in ("department", "category", "district", "operator") else None
    counts: dict[tuple[Any, str], int] = defaultdict(int)
    for p, g, n in dated:
        if not n:
            continue
        if dim == "department" or dim == "operator":
            if g is None:  # held by no department / logged by no operator: in no row
                continue
            if dim == "department":  # the unit and those above it (units in a tree, issue 17)
                keys = codes.department_lineage.get(g) or [codes.departments.get(g, "")]
            else:
                keys = [codes.operators.get(g, "")]
        elif dim == "category":
            keys = codes.category_lineage.get(g, [])
        elif dim == "district":
            keys = [codes.districts.get(g, "") if g else ""]
        else:
            keys = [g or ""]
        for key in keys:
            counts[(p, key)] += n
    return counts


# --- drill-down -------------------------------------------------------------------------


def _direct_answer():
    return and_(
        Ticket.status == Status.CLOSED,
        Ticket.dispatched_at.is_(None),
        Ticket.department_id.is_(None),
        Ticket.source == "",
    )


def _measure_condition(measure: str, now: datetime):
    returned = (
        select(RoutingOutcome.id)
        .where(RoutingOutcome.ticket_id == Ticket.id, RoutingOutcome.kind == "returned")
        .exists()
    )
    resolved = and_(Ticket.resolved_at.is_not(None), ~_direct_answer())
    conditions = {
        "received": None,
        "dispatched": or_(Ticket.dispatched_at.is_not(None), returned),
        "accepted": Ticket.accepted_at.is_not(None),
        "accepted_late": or_(
            and_(Ticket.accepted_at.is_not(None), Ticket.accepted_at > Ticket.accept_due_at),
            and_(
                Ticket.accepted_at.is_(None),
                Ticket.accept_due_at < now,
                Ticket.status.in_(Status.WITH_DEPARTMENT),
            ),
        ),
        "resolved": resolved,
        "resolved_late": and_(resolved, Ticket.resolved_at > Ticket.resolve_due_at),
        "open": Ticket.status.in_(Status.OPEN),
        "overdue": overdue_condition(now),
        "direct_answers": _direct_answer(),
        "returned": returned,
        "reopened": Ticket.reopen_count > 0,
        "rated": Ticket.satisfaction.is_not(None),
        "unsatisfied": and_(Ticket.satisfaction.is_not(None), Ticket.satisfaction.not_in(SATISFIED)),
    }
    return conditions[measure]


def _group_condition(group_by: str, key: str):
    if group_by == "all":
        return None
    if group_by == "department":  # the unit and the units below it (units in a tree, issue 17)
        ids = department_subtree(key)
        return Ticket.department_id.in_(ids) if ids else false()
    if group_by == "district":
        if not key:
            return Ticket.district_id.is_(None)
        return Ticket.district_id == select(District.id).where(District.code == key).scalar_subquery()
    if group_by == "category":
        ids = category_subtree(key)
        return Ticket.category_id.in_(ids) if ids else false()
    if group_by == "operator":
        return Ticket.created_by_id == select(User.id).where(User.username == key).scalar_subquery()
    column = Ticket.channel if group_by == "channel" else Ticket.type
    return column == key


def category_subtree(code: str) -> list[int]:
    return _subtree(db.session.execute(select(Category.id, Category.code, Category.parent_id)).all(), code)


def department_subtree(code: str) -> list[int]:
    """The unit with this code and every unit below it (units in a tree, issue 17)."""
    return _subtree(db.session.execute(select(Department.id, Department.code, Department.parent_id)).all(), code)


def _subtree(rows: Any, code: str) -> list[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row.id)
    found = [row.id for row in rows if row.code == code]
    for category_id in found:  # grows while walking: breadth-first
        found.extend(c for c in children[category_id] if c not in found)
    return found


def drill_down(
    start: date, end: date, group_by: str, key: str, measure: str, now: datetime | None = None
) -> Select[tuple[Ticket]]:
    """The tickets behind one figure, newest first, through the (group, created_at)
    indexes: the same definitions as the figures, so the count matches the figure
    (overdue and late acceptance are as of now; figures as of their last refresh)."""
    now = now or utcnow()
    low, high = day_bounds(start, end, timezone())
    query = select(Ticket).where(Ticket.created_at >= low, Ticket.created_at < high, Ticket.status != Status.MERGED)
    for condition in (_group_condition(group_by, key), _measure_condition(measure, now)):
        if condition is not None:
            query = query.where(condition)
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc())


@dataclass
class Misrouting:
    key: str  # rule id, routing kind, or category code
    label: str
    routed: int
    returned: int
    reassigned: int
    ping_pong: int = 0  # dispatches back to a department that had returned the ticket (services/dispatch/ping_pong)

    @property
    def rate(self) -> float | None:
        return round((self.returned + self.reassigned) / self.routed, 4) if self.routed else None

    def as_dict(self) -> dict:
        return {**asdict(self), "misrouting_rate": self.rate}


def misrouting(start: date, end: date, tz: str) -> dict[str, list[Misrouting]]:
    """Returns and reassignments counted against the routing that caused them, per rule (or
    routing kind: category default, suggestion, dispatcher) and per category, for tickets
    created in the range. A routing either still holds (it is on the ticket) or ended in an
    outcome, so routed = tickets it currently holds + its outcomes. The days' rows kept by the
    report refresh, the days changed since from the tickets (`misrouting_figures`)."""
    zone = ZoneInfo(tz)
    if zone != timezone() or needs_rebuild():  # no day rows in this time zone (yet)
        counts = misrouting_figures.counted(*day_bounds(start, end, zone))
    else:
        changed = misrouting_figures.changed_days(start, end)
        counts = misrouting_figures.summed(start, end, leaving=changed)
        for day in changed:
            counts += misrouting_figures.counted(*day_bounds(day, day, zone))
    rules = {r.id: r.name for r in db.session.scalars(select(RoutingRule))}
    # Named by their path (交通运输 / 其他): a leaf's name alone repeats across branches.
    categories = {c.id: (c.code, c.path_name) for c in db.session.scalars(select(Category)).all()}

    def rule_key(routed_by: str, rule_id: int | None) -> tuple[str, str]:
        if routed_by == "rule" and rule_id is not None:
            return f"rule:{rule_id}", rules.get(rule_id) or f"#{rule_id}"
        return routed_by, routed_by

    by_rule: dict[str, Misrouting] = {}
    by_category: dict[str, Misrouting] = {}
    for count in counts:
        key, label = rule_key(count.routed_by, count.rule_id)
        code, name = categories[count.category_id]
        for table, k, lab in ((by_rule, key, label), (by_category, code, name)):
            entry = table.setdefault(k, Misrouting(k, lab, 0, 0, 0))
            entry.routed += count.routed
            entry.returned += count.returned
            entry.reassigned += count.reassigned
            entry.ping_pong += count.ping_pong

    def ranked(table: dict[str, Misrouting]) -> list[Misrouting]:
        return sorted(table.values(), key=lambda m: (-(m.returned + m.reassigned), m.key))

    return {"rules": ranked(by_rule), "categories": ranked(by_category)}
