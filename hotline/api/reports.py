"""Report queries for supervisors' scripts: response times per department, misrouting per rule and category,
the phone line's figures.

Described once: the row schemas below write the rows (`reports.ReportRow`, `call_report.CallRow`,
`reports.Misrouting`, `overdue.OverdueNow`) and are the document's `ResponseTimeRow`,
`CallReportRow`, `MisroutingRow`, `MisroutingReport` and `OverdueNow`. The units report's rows
(`tree.unit_figures`) are open objects, as before."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask_babel import gettext as _
from marshmallow import fields, missing

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.queries import department_by_code
from hotline.api.responses import json_response
from hotline.api.schemas import Computed, Count, Output, Time, nullable
from hotline.bounds import MAX_PAGE
from hotline.models import Role
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR
from hotline.services.clocks.overdue import overdue_now
from hotline.services.reporting.call_report import CALL_GROUPINGS, call_report
from hotline.services.reporting.report_figures import day_bounds, timezone
from hotline.services.reporting.reports import (
    GROUPINGS,
    PERIODS,
    ReportRow,
    categories_to_level,
    departments_to_level,
    misrouting,
    report_page,
)
from hotline.services.ticketing import tree

DEFAULT_DAYS = 30
# A page of rows: 30 days of every category per day is over 9,000 rows (8 MB of JSON).
REPORT_PAGE_SIZE = 1000
MAX_REPORT_PAGE_SIZE = 5000
MAX_DAYS = 366  # a year, leap or not: the reports that read tickets live (misrouting, calls)
# Response times read week and month rows for whole periods (services/reporting/reports.py): ten years
# (three leap days at most) answer as fast as one, per week, month or in all; per day, or
# exactly from the tickets, a year at most.
LONG_MAX_DAYS = 3653
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rate(**kwargs: Any) -> fields.Field:
    return fields.Float(allow_none=True, metadata={"minimum": 0, "maximum": 1}, **kwargs)


def _figure(**kwargs: Any) -> fields.Field:
    return fields.Float(allow_none=True, **kwargs)


def _group_field(grouping: str, value: Callable[[ReportRow], str | None]) -> fields.Field:
    """The first version's names for the group (`department`, `department_name`...): only the row's own grouping."""
    return Computed(
        lambda row: value(row) if row.group_by == grouping else missing, allow_none=True, metadata={"type": "string"}
    )


class _ResponseTimes(Output):
    group_by = fields.String(required=True, metadata={"enum": ["all", *GROUPINGS]})
    key = fields.String(required=True, metadata={"description": "The group's code; empty where tickets have none."})
    name = fields.String(required=True)
    period = nullable(fields.Date(required=True))
    received = Count(required=True)
    dispatched = Count()
    accepted = Count()
    resolved = Count()
    open = Count()
    overdue_open = Count(allow_none=True)
    direct_answers = Count()
    returned = Count()
    reopened = Count()
    rated = Count()
    accepted_late = Count()
    resolved_late = Count()
    unsatisfied = Count()
    dispatch_p50_minutes = _figure()
    dispatch_p90_minutes = _figure()
    dispatch_mean_minutes = _figure()
    accept_p50_minutes = _figure()
    accept_p90_minutes = _figure()
    accept_mean_minutes = _figure()
    resolve_p50_hours = _figure()
    resolve_p90_hours = _figure()
    resolve_mean_hours = _figure()
    response_rate = _rate()
    resolution_rate = _rate()
    resolved_on_time_rate = _rate()
    satisfaction_rate = _rate()
    direct_answer_rate = _rate()
    return_rate = _rate()
    reopen_rate = _rate()
    first_contact_p50_hours = _figure()  # issue 17
    first_contact_p90_hours = _figure()
    contacted_on_time_rate = _rate()
    approximate = fields.Boolean(required=True)
    tickets = Count(required=True)


# A row of GET /reports/response-times (`ReportRow`), with the first version's names for its group.
ResponseTimeRowSchema = type(
    "ResponseTimeRowSchema",
    (_ResponseTimes,),
    {
        name: _group_field(grouping, value)
        for grouping in GROUPINGS
        for name, value in ((grouping, lambda row: row.key or None), (f"{grouping}_name", lambda row: row.name))
    },
)


class CallReportRowSchema(Output):
    group_by = fields.String(required=True, metadata={"enum": list(CALL_GROUPINGS)})
    key = fields.String(
        required=True,
        metadata={
            "description": "The local hour (2026-11-25T10:00) or day, or the operator's user name; "
            "empty for all, and for calls no operator answered."
        },
    )
    name = fields.String(required=True)
    offered = Count(required=True)
    answered = Count(required=True)
    answered_within_15s = Count(required=True)
    abandoned = Count(required=True)
    voicemail = Count(required=True)
    out_of_hours = Count(required=True)
    answer_rate = _rate(required=True)
    answer_within_15s_rate = _rate(required=True)
    wait_p50_seconds = _figure(required=True, metadata={"minimum": 0})
    wait_p90_seconds = _figure(required=True, metadata={"minimum": 0})
    talk_mean_seconds = _figure(required=True, metadata={"minimum": 0})
    missed = Count(required=True)
    missed_called_back = Count(required=True)
    callback_p50_seconds = _figure(required=True, metadata={"minimum": 0})


class MisroutingRowSchema(Output):
    key = fields.String(required=True, metadata={"examples": ["rule:7", "category_default", "potholes"]})
    label = fields.String(required=True)
    routed = Count(required=True)
    returned = Count(required=True)
    reassigned = Count(required=True)
    ping_pong = Count(
        required=True, metadata={"description": "Dispatches back to a department that had returned the ticket."}
    )
    misrouting_rate = _rate(required=True, attribute="rate")


class MisroutingReportSchema(Output):
    rules = fields.List(fields.Nested(MisroutingRowSchema), required=True)
    categories = fields.List(fields.Nested(MisroutingRowSchema), required=True)


class OverdueNowSchema(Output):
    overdue_now = Count(required=True, attribute="total")
    imported = Count(required=True)
    at = Time(required=True)


RESPONSE_TIMES = ResponseTimeRowSchema(many=True)
CALL_REPORT = CallReportRowSchema(many=True)
MISROUTING = MisroutingReportSchema()
OVERDUE = OverdueNowSchema()


@bp.get("/reports/response-times")
@api_roles(*access.REPORT_ROLES)
def response_times_report() -> Response:
    """One object per group (department, category, district, channel or type), and per
    day, week or month if `period` is given, for tickets created on the local dates
    from..to (inclusive). Figures come from the pre-aggregated day rows, refreshed every
    minute, with percentiles within one minute or 1 % (`approximate`); `exact=1` reads
    the tickets instead."""
    start, end, _tz = _date_range(LONG_MAX_DAYS)
    group_by = _choice("group_by", ("all", *GROUPINGS), "department")
    period = _choice("period", PERIODS, None)
    exact = _choice("exact", ("0", "1", "true", "false"), "0") in ("1", "true")
    days = (end - start).days + 1
    if period == "day" and days > MAX_DAYS:
        message = _(
            "Figures per day cover at most %(n)d days: ask for period=week or period=month for a longer range.",
            n=MAX_DAYS,
        )
        raise ApiError(400, "invalid_input", message, field="period")
    if exact and days > MAX_DAYS:
        message = _(
            "Exact figures read every ticket: at most %(n)d days; leave out exact for a longer range.", n=MAX_DAYS
        )
        raise ApiError(400, "invalid_input", message, field="exact")
    keys = None
    level = _choice("level", ("all", *(str(n) for n in range(1, 10))), "all")
    if group_by == "category" and level != "all":
        keys = categories_to_level(int(level))
    if group_by == "department" and level != "all":  # units in a tree (issue 17)
        keys = departments_to_level(int(level))
    page = query_int("page", 1, maximum=MAX_PAGE)
    per_page = query_int("per_page", REPORT_PAGE_SIZE, maximum=MAX_REPORT_PAGE_SIZE)
    rows, total = report_page(
        start, end, group_by, period, exact=exact, keys=keys, offset=(page - 1) * per_page, limit=per_page
    )
    return json_response(RESPONSE_TIMES.dump(rows), headers=_page_headers(page, per_page, total))


def _page_headers(page: int, per_page: int, total: int) -> dict[str, str]:
    """The body stays a plain list (the first version's shape); the total and the links to
    the neighbouring pages travel in headers, as GitHub's API does."""
    headers = {"X-Total-Count": str(total)}
    links = []
    if page * per_page < total:
        links.append(f'<{_page_url(page + 1, per_page)}>; rel="next"')
    if page > 1:
        links.append(f'<{_page_url(page - 1, per_page)}>; rel="prev"')
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def _page_url(page: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(page), per_page=str(per_page))
    return f"{request.base_url}?{urlencode(args)}"


def _choice(name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if raw not in allowed:
        message = _("“%(field)s” must be one of: %(allowed)s.", field=name, allowed=", ".join(allowed))
        raise ApiError(400, "invalid_input", message, field=name)
    return raw


@bp.get("/reports/misrouting")
@api_roles(*access.REPORT_ROLES)
def misrouting_report() -> Response:
    """Returns and reassignments counted against the rule (or routing kind) and the category
    that sent tickets created on the local dates from..to to the wrong department."""
    start, end, tz = _date_range()
    found = misrouting(start, end, tz)
    return json_response(MISROUTING.dump(found))


# --- Units in a tree (issue 17) ------------------------------------------------------------------


@bp.get("/reports/units")
@api_roles(*access.REPORT_ROLES, Role.DEPARTMENT)
def units_report() -> Response:
    """Per unit: tickets sent down to it (下派), returned up by it (回退), its replies sent up for
    review and refused (审核). `unit` narrows to a unit and those below it, with each handler's
    part; a unit lead sees their own unit only, supervisors any."""
    start, end, tz = _date_range()
    user = api_user()
    unit = request.args.get("unit", "").strip() or None
    if user.role == Role.DEPARTMENT:
        if not user.is_unit_lead or user.department is None:
            raise ApiError(403, "forbidden", _("Only the unit lead may do this."))
        if unit not in (None, user.department.code):
            raise ApiError(403, "forbidden", _("Only the unit lead may do this."))
        unit = user.department.code
    elif unit is not None and department_by_code(unit) is None:
        raise ApiError(400, "invalid_input", _("Unknown department “%(code)s”.", code=unit), field="unit")
    low, high = day_bounds(start, end, ZoneInfo(tz) if tz else timezone())
    return json_response(tree.unit_figures(low, high, unit))


@bp.get("/reports/overdue")
@api_roles(*access.REPORT_ROLES)
def overdue_report() -> Response:
    """Tickets overdue now, whenever they were logged (services/clocks/overdue.py): the dashboard's
    headline figure and the overdue list's count; `imported` says how many came from another
    system. The rows of response-times count only the tickets logged in their range."""
    return json_response(OVERDUE.dump(overdue_now(utcnow())))


@bp.get("/reports/calls")
@api_roles(*access.REPORT_ROLES)
def calls_report() -> Response:
    """The phone line's figures (接通率) for calls that rang on the local dates from..to, per
    local hour or day, per answering operator, or for all (the default); definitions in
    services/reporting/call_report.py and docs/api.md."""
    start, end, _tz = _date_range()
    group_by = _choice("group_by", CALL_GROUPINGS, "all") or "all"
    return json_response(CALL_REPORT.dump(call_report(start, end, group_by)))


def _date_range(max_days: int = MAX_DAYS) -> tuple[date, date, str]:
    """`from` and `to` as local dates in the hotline's time zone (at most `max_days`), and that zone.

    Missing `to` is today in the hotline's time zone; missing `from` is 29 days
    before `to`, so that the default is the last 30 days, today included.
    """
    tz = current_app.config["HOTLINE_TIMEZONE"]
    end = _date_arg("to") or datetime.now(ZoneInfo(tz)).date()
    start = _date_arg("from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ApiError(400, "invalid_input", _("“from” is after “to”."), field="from")
    if (end - start).days + 1 > max_days:
        raise ApiError(400, "invalid_input", _("Ask for at most %(n)d days at once.", n=max_days), field="from")
    return start, end, tz


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        # Days near date.min/max have no UTC bounds (OverflowError, a 500): no report reaches them.
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(raw)
        return day
    except ValueError:
        raise ApiError(
            400, "invalid_input", _("“%(field)s” must be a date as YYYY-MM-DD.", field=name), field=name
        ) from None
