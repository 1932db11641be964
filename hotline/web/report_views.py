"""What the reports dashboard shows, computed from `services.reporting.reports`: the table columns and
the drill-down measure behind each figure, the change against the previous period, the
ranking of departments and the trend series.

Every figure comes from `reports.report` (the pre-aggregated day rows), called a bounded
number of times per page; tickets are only read by the paginated drill-down.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.models.types import utcnow
from hotline.services.clocks.overdue import OverdueNow, overdue_now
from hotline.services.reporting import report_figures
from hotline.services.reporting.reports import (
    ReportRow,
    categories_to_level,
    departments_to_level,
    period_start,
    report,
)
from hotline.web.formatting import local_time
from hotline.web.report_params import GROUP_LABELS, Query, Span, group_label, hotline_today, with_paths

# --- columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str  # the ReportRow attribute
    label: Any  # lazy string
    kind: str  # count | minutes | hours | rate
    measure: str | None = None  # the drill-down behind the figure
    hint: Any = ""  # what the link lists, for a rate


COUNT_COLUMNS = (
    Column("received", _l("Received"), "count", "received"),
    Column("dispatched", _l("Dispatched"), "count", "dispatched"),
    Column("accepted", _l("Accepted"), "count", "accepted"),
    Column("resolved", _l("Resolved"), "count", "resolved"),
    Column("open", _l("Open"), "count", "open"),
    # Of the tickets logged in the period; the headline card counts every ticket (OverdueNow).
    Column("overdue_open", _l("Overdue now, logged in the period"), "count", "overdue"),
    Column("direct_answers", _l("Direct answers"), "count", "direct_answers"),
    Column("returned", _l("Returned"), "count", "returned"),
    Column("reopened", _l("Reopened"), "count", "reopened"),
    Column("rated", _l("Rated"), "count", "rated"),
)
TIME_GROUPS = (
    (_l("Time to dispatch (minutes)"), "dispatch", "minutes"),
    (_l("Time to accept (minutes)"), "accept", "minutes"),
    (_l("Time to resolve (hours)"), "resolve", "hours"),
)
TIME_COLUMNS = tuple(
    Column(f"{clock}_{stat}_{unit}", label, unit)
    for _group, clock, unit in TIME_GROUPS
    for stat, label in (("p50", _l("Median")), ("p90", _l("90th percentile")), ("mean", _l("Mean")))
)
RATE_COLUMNS = (
    Column("response_rate", _l("Response rate"), "rate", "accepted_late", _l("the tickets accepted late")),
    Column("accepted_late", _l("Accepted late"), "count", "accepted_late"),
    Column("resolution_rate", _l("Resolution rate"), "rate", "resolved", _l("the resolved tickets")),
    Column("resolved_on_time_rate", _l("Resolved on time"), "rate", "resolved_late", _l("the tickets resolved late")),
    Column("resolved_late", _l("Resolved late"), "count", "resolved_late"),
    Column("satisfaction_rate", _l("Satisfaction"), "rate", "unsatisfied", _l("the tickets rated not satisfied")),
    Column("unsatisfied", _l("Not satisfied"), "count", "unsatisfied"),
    Column("direct_answer_rate", _l("Direct-answer rate"), "rate", "direct_answers", _l("the direct answers")),
    Column("return_rate", _l("Return rate"), "rate", "returned", _l("the returned tickets")),
    Column("reopen_rate", _l("Reopen rate"), "rate", "reopened", _l("the reopened tickets")),
    # First contact with the citizen (issue 17): dispatched → first contacted.
    Column("first_contact_p50_hours", _l("First contact, median (hours)"), "hours"),
    Column("first_contact_p90_hours", _l("First contact, 90th percentile (hours)"), "hours"),
    Column("contacted_on_time_rate", _l("Contacted-on-time rate"), "rate"),
)
ALL_COLUMNS = (*COUNT_COLUMNS, *TIME_COLUMNS, *RATE_COLUMNS)


def time_column_label(column: Column) -> str:
    """'Time to resolve (hours): median', for the exports' single header row."""
    for group, clock, _unit in TIME_GROUPS:
        if column.name.startswith(f"{clock}_"):
            return _("%(label)s: %(value)s", label=group, value=column.label)
    return str(column.label)


# Headline cards: the whole city's figures, and whether a rise is good news (None: neither).
CARDS = (
    ("received", None),
    ("resolved", True),
    ("open", None),
    ("overdue_open", False),
    ("response_rate", True),
    ("resolution_rate", True),
    ("resolved_on_time_rate", True),
    ("satisfaction_rate", True),
    ("direct_answer_rate", None),
    ("return_rate", False),
    ("reopen_rate", False),
)
COLUMNS_BY_NAME = {column.name: column for column in ALL_COLUMNS}


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: the difference (percentage points for rates)."""

    difference: float | None
    better: bool | None  # None: neither good nor bad, or no change

    @property
    def arrow(self) -> str:
        if not self.difference:
            return "→" if self.difference == 0 else ""
        return "▲" if self.difference > 0 else "▼"


def change(current: float | None, previous: float | None, rate: bool, rise_is_good: bool | None) -> Change:
    if current is None or previous is None:
        return Change(None, None)
    difference = round((current - previous) * 100, 1) if rate else current - previous
    better = None if rise_is_good is None or not difference else (difference > 0) == rise_is_good
    return Change(difference, better)


# --- ranking ------------------------------------------------------------------------------


@dataclass
class Ranked:
    position: int | None  # None: not ranked (no resolved ticket with a deadline)
    row: ReportRow
    on_time_change: Change


def rank_departments(rows: list[ReportRow], previous: list[ReportRow]) -> list[Ranked]:
    """Worst first: the lowest resolved-on-time rate, then the lowest response rate, then
    the most tickets overdue now. Departments without a resolved-on-time rate come last."""
    before = {row.key: row for row in previous}

    def order(row: ReportRow) -> tuple:
        response = row.response_rate if row.response_rate is not None else 2.0
        return (row.resolved_on_time_rate is None, row.resolved_on_time_rate or 0.0, response, -row.overdue_open)

    ranked = []
    for position, row in enumerate(sorted(rows, key=lambda r: (*order(r), r.key)), start=1):
        old = before.get(row.key)
        on_time = change(row.resolved_on_time_rate, old.resolved_on_time_rate if old else None, True, True)
        ranked.append(Ranked(position if row.resolved_on_time_rate is not None else None, row, on_time))
    return ranked


# --- trends -------------------------------------------------------------------------------


def period_starts(span: Span, period: str) -> list[date]:
    """Every period (its first day) that the span touches, so that empty ones show as gaps."""
    starts: list[date] = []
    day = period_start(span.start, period)
    while day is not None and day <= span.end:
        starts.append(day)
        if period == "day":
            day += timedelta(days=1)
        elif period == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def period_span(first: date, period: str, within: Span) -> Span:
    """The days of one period, cut to the range asked for (what its drill-down lists)."""
    if period == "day":
        last = first
    elif period == "week":
        last = first + timedelta(days=6)
    else:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return Span(max(first, within.start), min(last, within.end))


def period_label(first: date, period: str) -> str:
    if period == "month":
        return first.strftime("%Y-%m")
    if period == "week":
        return _("Week of %(day)s", day=first.strftime("%m-%d"))
    return first.strftime("%m-%d")


@dataclass
class Trend:
    """One series of rows per period (every period of the range, None where no ticket)."""

    period: str
    starts: list[date]
    rows: list[ReportRow | None]
    spans: list[Span]

    @cached_property  # read once per table row: 522 weeks of ten years made it quadratic (8 s)
    def labels(self) -> list[str]:
        return [period_label(first, self.period) for first in self.starts]

    def values(self, name: str, scale: float = 1.0) -> list[float | None]:
        """A figure per period: 0 for a count in a period without tickets, None for a time or rate."""
        empty = 0 if COLUMNS_BY_NAME[name].kind == "count" else None
        out: list[float | None] = []
        for row in self.rows:
            value = getattr(row, name) if row is not None else empty
            out.append(None if value is None else round(value * scale, 2))
        return out


def trend_of(rows: list[ReportRow], key: str, span: Span, period: str) -> Trend:
    by_period = {row.period: row for row in rows if row.key == key}
    starts = period_starts(span, period)
    return Trend(
        period, starts, [by_period.get(first) for first in starts], [period_span(s, period, span) for s in starts]
    )


# --- the whole dashboard ------------------------------------------------------------------


@dataclass
class Dashboard:
    query: Query
    rows: list[ReportRow]  # per group
    city: ReportRow | None
    previous_city: ReportRow | None
    ranking: list[Ranked]
    trend: Trend  # the city's, or the focused group's
    trend_name: str
    worst: list[tuple[str, Trend]]  # resolved-on-time trends of the lowest-ranked departments
    refreshed_at: datetime | None
    pending_days: int
    building: bool  # the day rows were never built: figures are empty until the first sweep
    overdue: OverdueNow  # every ticket overdue now, whenever logged: the overdue list's count

    def as_of(self) -> str:
        """When the day rows were last refreshed: the time, and the date too if not today."""
        if self.refreshed_at is None:
            return ""
        same_day = local_time(self.refreshed_at, "%Y-%m-%d") == hotline_today().isoformat()
        return local_time(self.refreshed_at, "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")

    @property
    def approximate(self) -> bool:
        return any(row.approximate for row in self.rows) or bool(self.city and self.city.approximate)

    def cards(self) -> list[tuple[Column, Any, Change]]:
        out = []
        for name, rise_is_good in CARDS:
            column = COLUMNS_BY_NAME[name]
            if name == "overdue_open":  # now, whenever logged: no comparison with a period
                out.append((column, self.overdue.total, Change(None, None)))
                continue
            value = getattr(self.city, name) if self.city else None
            if value is None and self.city is None and column.kind == "count":
                value = 0
            before = getattr(self.previous_city, name) if self.previous_city else None
            if before is None and self.previous_city is None and column.kind == "count":
                before = 0
            out.append((column, value, change(value, before, column.kind == "rate", rise_is_good)))
        return out


WORST_CHARTED = 5


def build_dashboard(query: Query) -> Dashboard:
    """At most eight report() calls, each over day rows: the period by group and for the
    city, the previous period for the city and by department, the departments now (unless
    grouped so already), and the trends for the city and per department."""
    span, previous = query.span, query.previous
    rows = with_paths(report(span.start, span.end, query.group_by, keys=shown_keys(query)))
    city = _only(report(span.start, span.end, "all"))
    # The previous period without "overdue now" (live, and no comparison for it: it is now).
    previous_city = _only(report(previous.start, previous.end, "all", overdue=False))
    departments = rows if query.group_by == "department" else report(span.start, span.end, "department")
    ranking = rank_departments(departments, report(previous.start, previous.end, "department", overdue=False))
    worst_keys = [entry.row.key for entry in ranking if entry.position is not None][:WORST_CHARTED]
    if query.focus:
        focused = report(span.start, span.end, query.group_by, query.trend, keys={query.focus})
        trend = trend_of(focused, query.focus, span, query.trend)
        names = {row.key: row.name for row in rows}
        trend_name = group_label(query.group_by, query.focus, names.get(query.focus, ""))
    else:
        trend = trend_of(report(span.start, span.end, "all", query.trend), "", span, query.trend)
        trend_name = str(GROUP_LABELS["all"])
    # Trends of the departments charted only: per day, all of them are hundreds of rows.
    by_department = report(span.start, span.end, "department", query.trend, keys=set(worst_keys))
    department_names = {entry.row.key: entry.row.name or entry.row.key for entry in ranking}
    worst = [(department_names[key], trend_of(by_department, key, span, query.trend)) for key in worst_keys]
    return Dashboard(
        query=query,
        rows=rows,
        city=city,
        previous_city=previous_city,
        ranking=ranking,
        trend=trend,
        trend_name=trend_name,
        worst=worst,
        refreshed_at=report_figures.last_refreshed(),
        pending_days=report_figures.pending_days(),
        building=report_figures.needs_rebuild(),
        overdue=overdue_now(utcnow()),
    )


def shown_keys(query: Query) -> set[str] | None:
    """The groups the page shows: categories, or units in a tree, down to the chosen level, so
    that the deeper ones are not even added up; every group otherwise."""
    if query.level == "all":
        return None
    if query.group_by == "category":
        return categories_to_level(int(query.level))
    if query.group_by == "department":
        return departments_to_level(int(query.level))
    return None


def _only(rows: list[ReportRow]) -> ReportRow | None:
    return rows[0] if rows else None
