"""The reports' parameters, checked at the edge: the dates asked for (presets, and the previous
period to compare with), the grouping, the trend granularity, the group and the measure of a
drill-down; and the names the pages give to groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline import labels
from hotline.extensions import db
from hotline.models import Category, Department, District, User
from hotline.services.reporting.reports import GROUPINGS, MEASURES, PERIODS, ReportRow

DEFAULT_DAYS = 30
MAX_DAYS = 366  # pages that read tickets live (misrouting, calls): a year at most
# The figures' pages read week and month rows (services/reporting/reports.py): ten years answer as fast
# as one, per week or month; per day, a year at most (a chart of 3,650 points says nothing).
LONG_MAX_DAYS = 3653
DAILY_MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
PRESETS = ("today", "week", "month", "30d", "custom")
MAX_KEY = 64  # ReportFact.key

PRESET_LABELS = {
    "today": _l("Today"),
    "week": _l("This week"),
    "month": _l("This month"),
    "30d": _l("Last 30 days"),
    "custom": _l("Custom"),
}
GROUP_LABELS = {
    "all": _l("Whole city"),
    "department": _l("Department"),
    "category": _l("Category"),
    "district": _l("District"),
    "channel": _l("Channel"),
    "type": _l("Ticket type"),
    "operator": _l("Operator"),
}
# Under a group's column: the group that a ticket without one falls in (key "").
NO_GROUP_LABELS = {
    "department": _l("No department"),
    "category": _l("No category"),
    "district": _l("No district"),
    "channel": _l("No channel"),
    "type": _l("No type"),
    "operator": _l("No operator"),
}
TREND_LABELS = {"day": _l("Daily"), "week": _l("Weekly"), "month": _l("Monthly")}
# The first column of a trend table (a period is named by its first day).
PERIOD_HEADERS = {"day": _l("Date"), "week": _l("Week starting"), "month": _l("Month")}

# What each drill-down lists; shown as the list's heading and in the exports' names.
MEASURE_LABELS = {
    "received": _l("Received"),
    "dispatched": _l("Dispatched"),
    "accepted": _l("Accepted"),
    "accepted_late": _l("Accepted late, or not accepted and past the deadline"),
    "resolved": _l("Resolved"),
    "resolved_late": _l("Resolved after the deadline"),
    "open": _l("Open"),
    "overdue": _l("Open and overdue now"),
    "direct_answers": _l("Answered directly at intake"),
    "returned": _l("Returned by a department at least once"),
    "reopened": _l("Reopened after the citizen was not satisfied"),
    "rated": _l("Rated by the citizen"),
    "unsatisfied": _l("Rated not satisfied"),
}
# Measures whose tickets are picked by the clock at this moment (not at the last refresh).
LIVE_MEASURES = ("accepted_late", "overdue")


# --- the dates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def preset_span(preset: str, today: date) -> Span:
    if preset == "today":
        return Span(today, today)
    if preset == "week":  # weeks start on Monday, as the 12345 weekly reports do
        return Span(today - timedelta(days=today.weekday()), today)
    if preset == "month":
        return Span(today.replace(day=1), today)
    return Span(today - timedelta(days=DEFAULT_DAYS - 1), today)


def previous_span(span: Span, preset: str) -> Span:
    """The period to compare with: yesterday for today, the same weekdays of last week, the
    same days of last month (cut at its end), else the same number of days just before."""
    if preset == "week":
        return Span(span.start - timedelta(days=7), span.end - timedelta(days=7))
    if preset == "month" and span.start.day == 1:
        last_month_end = span.start - timedelta(days=1)
        first = last_month_end.replace(day=1)
        return Span(first, min(first + timedelta(days=span.days - 1), last_month_end))
    return Span(span.start - timedelta(days=span.days), span.start - timedelta(days=1))


def hotline_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).date()


def parse_dates(
    raw_start: str, raw_end: str, today: date, max_days: int = MAX_DAYS
) -> tuple[Span | None, str | None, tuple[str, ...]]:
    """The inclusive local dates asked for (default: the last 30 days), at most `max_days`,
    or an error message and the names of the inputs at fault."""
    try:
        end = date.fromisoformat(raw_end) if raw_end else today
    except ValueError:
        return None, _("“%(value)s” is not a date; use YYYY-MM-DD.", value=raw_end), ("to",)
    try:
        start = date.fromisoformat(raw_start) if raw_start else None
    except ValueError:
        return None, _("“%(value)s” is not a date; use YYYY-MM-DD.", value=raw_start), ("from",)
    # Far-off years would overflow the time arithmetic (and the previous period's).
    if not (EARLIEST <= end <= LATEST and (start is None or EARLIEST <= start <= LATEST)):
        message = _("Choose dates between %(earliest)s and %(latest)s.", earliest=EARLIEST, latest=LATEST)
        return None, message, ("from", "to")
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        return None, _("The start date is after the end date."), ("from", "to")
    if (end - start).days + 1 > max_days:
        return None, _("Choose at most %(n)d days.", n=max_days), ("from", "to")
    return Span(start, end), None, ()


def default_trend(span: Span) -> str:
    """Days for two months or less, weeks up to half a year, months beyond: a readable chart."""
    return "day" if span.days <= 62 else "week" if span.days <= 183 else "month"


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> tuple[str, str | None]:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default, None
    if raw not in allowed:
        return default, _("“%(value)s” is not one of: %(allowed)s.", value=raw, allowed=", ".join(allowed))
    return raw, None


@dataclass
class Query:
    """The dashboard's parameters, checked: what the form, the links and the exports carry."""

    span: Span
    preset: str
    previous: Span
    group_by: str
    trend: str
    focus: str = ""  # a group (key in group_by) whose trends the charts show instead of the city's
    # Categories (and units in a tree, issue 17) shown: "1" the first level (the default: a few
    # dozen rows), "2", or "all" (hundreds of rows; the exports always carry every level).
    level: str = "1"
    error: str | None = None
    bad: tuple[str, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)  # what was typed, shown back with the error

    def args(self, **overrides: Any) -> dict[str, str]:
        """Query-string arguments that reproduce this view (with overrides; None drops one)."""
        values: dict[str, Any] = {
            "from": self.span.start.isoformat(),
            "to": self.span.end.isoformat(),
            "group_by": self.group_by,
            "trend": self.trend,
        }
        if self.preset != "custom":
            values = {"range": self.preset, "group_by": self.group_by, "trend": self.trend}
        if self.focus:
            values["focus"] = self.focus
        if self.group_by in TREE_GROUPINGS and self.level != "1":
            values["level"] = self.level
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    def range_args(self, span: Span | None = None) -> dict[str, str]:
        span = span or self.span
        return {"from": span.start.isoformat(), "to": span.end.isoformat()}


CATEGORY_LEVELS = ("1", "2", "all")
TREE_GROUPINGS = ("category", "department")  # the groupings whose rows are a tree, shown by level


def parse_query(args: Mapping[str, str], today: date | None = None) -> Query:
    """Read the dashboard's arguments: `range` (a preset) or `from`/`to`, `group_by`,
    `trend` and `focus`. Errors are collected into `error` (the first one) and `bad`."""
    today = today or hotline_today()
    raw = {name: (args.get(name) or "").strip() for name in ("from", "to", "range", "group_by", "trend", "focus")}
    group_by, group_error = _choice(args, "group_by", GROUPINGS, "department")
    level, level_error = _choice(args, "level", CATEGORY_LEVELS, "1")
    trend, trend_error = _choice(args, "trend", PERIODS, "")
    preset, preset_error = _choice(args, "range", PRESETS, "custom")
    span: Span | None
    date_error, bad = None, ()
    if preset != "custom":
        span = preset_span(preset, today)
    else:
        span, date_error, bad = parse_dates(raw["from"], raw["to"], today, LONG_MAX_DAYS)
        if span is not None:  # dates that are a preset's compare as that preset does
            preset = next((p for p in PRESETS[:-1] if preset_span(p, today) == span), "custom")
    focus = raw["focus"][:MAX_KEY]
    span = span or preset_span("30d", today)
    trend = trend or default_trend(span)
    query = Query(span, preset, previous_span(span, preset), group_by, trend, focus, level, raw=raw)
    errors = (("range", preset_error), ("group_by", group_error), ("trend", trend_error), ("level", level_error))
    for name, error in errors:
        if error:
            query.error, query.bad = query.error or error, (*query.bad, name)
    if date_error:
        query.error, query.bad = query.error or date_error, (*query.bad, *bad)
    elif trend == "day" and span.days > DAILY_MAX_DAYS:
        query.error = query.error or _(
            "A daily trend covers at most %(n)d days: choose a weekly or monthly trend for a longer range.",
            n=DAILY_MAX_DAYS,
        )
        query.bad = (*query.bad, "trend")
    return query


# --- groups -------------------------------------------------------------------------------


def category_paths(by_code: bool = False) -> dict[Any, str]:
    """'交通运输 / 出租车管理' for each category id (or code), from one query: names alone
    repeat across branches (其他)."""
    rows = db.session.execute(select(Category.id, Category.code, Category.name, Category.parent_id)).all()
    by_id = {r.id: r for r in rows}
    paths = {}
    for r in rows:
        chain, node = [], r
        while node is not None and len(chain) < 20:  # a cycle cannot loop forever
            chain.append(node.name)
            node = by_id.get(node.parent_id)
        paths[r.code if by_code else r.id] = " / ".join(reversed(chain))
    return paths


def with_paths(rows: list[ReportRow]) -> list[ReportRow]:
    """Rows per category named by their path."""
    if rows and rows[0].group_by == "category":
        paths = category_paths(by_code=True)
        for row in rows:
            row.name = paths.get(row.key, row.name)
    return rows


def group_label(group_by: str, key: str, name: str = "") -> str:
    """The name to show for a group: labels for channel and type codes, a phrase for none."""
    if group_by == "all":
        return str(GROUP_LABELS["all"])
    if not key:
        return str(NO_GROUP_LABELS.get(group_by, "—"))
    if group_by == "channel":
        return str(labels.CHANNEL_LABELS.get(key, key))
    if group_by == "type":
        return str(labels.TYPE_LABELS.get(key, key))
    return name or key


def _named_by_code(group_by: str) -> tuple[Any, Any] | None:
    """The (code, name) columns of the table a grouping's keys name, if any."""
    if group_by == "operator":
        return User.username, User.display_name
    model = {"department": Department, "category": Category, "district": District}.get(group_by)
    return (model.code, model.name) if model is not None else None


def known_group(group_by: str, key: str) -> bool:
    """Whether a drill-down's key names a group: an existing department, category, district or
    operator (a district may be "": tickets without one); channels and types are any short code."""
    if group_by == "all":
        return key == ""
    if len(key) > MAX_KEY:
        return False
    columns = _named_by_code(group_by)
    if columns is None:
        return True
    if not key:
        return group_by == "district"
    return db.session.scalar(select(columns[0]).where(columns[0] == key)) is not None


def group_name(group_by: str, key: str) -> str:
    if group_by == "category" and key:
        return category_paths(by_code=True).get(key) or key
    columns = _named_by_code(group_by)
    name = db.session.scalar(select(columns[1]).where(columns[0] == key)) if columns is not None and key else ""
    return group_label(group_by, key, name or "")


# --- the drill-down -----------------------------------------------------------------------


@dataclass
class DrillQuery:
    span: Span
    group_by: str
    key: str
    measure: str
    error: str | None = None
    bad: tuple[str, ...] = ()

    def args(self, **overrides: Any) -> dict[str, str]:
        values = {
            "from": self.span.start.isoformat(),
            "to": self.span.end.isoformat(),
            "group_by": self.group_by,
            "key": self.key,
            "measure": self.measure,
            **overrides,
        }
        return {k: v for k, v in values.items() if v is not None}


def parse_drill_query(args: Mapping[str, str], today: date | None = None) -> DrillQuery:
    """The figure whose tickets to list: dates, `group_by` (or "all"), `key` and `measure`."""
    today = today or hotline_today()
    group_by, group_error = _choice(args, "group_by", ("all", *GROUPINGS), "all")
    measure, measure_error = _choice(args, "measure", MEASURES, "received")
    key = (args.get("key") or "").strip()
    raw_start, raw_end = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    span, date_error, bad = parse_dates(raw_start, raw_end, today, LONG_MAX_DAYS)
    query = DrillQuery(span or preset_span("30d", today), group_by, key, measure)
    if date_error:
        query.error, query.bad = date_error, bad
    elif group_error:
        query.error, query.bad = group_error, ("group_by",)
    elif measure_error:
        query.error, query.bad = measure_error, ("measure",)
    elif not known_group(group_by, key):
        query.error = _(
            "There is no %(group)s “%(key)s”.", group=str(GROUP_LABELS[group_by]).lower(), key=key[:MAX_KEY]
        )
        if group_by == "all":
            query.error = _("The whole city has no key: leave “key” empty.")
        query.bad = ("key",)
    return query
