"""Reports for supervisors: response times per department, and misrouting per rule and category."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hotline.services import access
from hotline.services.reports import misrouting as compute_misrouting
from hotline.services.reports import response_times as compute_response_times
from hotline.web.guards import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a live scan over more than a year belongs in a precomputed report
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@bp.get("/")
@roles_required(*access.REPORT_ROLES)
def index():
    return redirect(url_for("reports.response_times"))


@bp.get("/response-times")
@roles_required(*access.REPORT_ROLES)
def response_times():
    tz = current_app.config["HOTLINE_TIMEZONE"]
    today = datetime.now(ZoneInfo(tz)).date()
    raw_start = request.args.get("from", "").strip()
    raw_end = request.args.get("to", "").strip()
    start, end, error, bad = _date_range(raw_start, raw_end, today)
    rows = None if error else compute_response_times(start, end, tz)
    return render_template(
        "reports/response_times.html",
        rows=rows,
        error=error,
        bad=bad,
        start=raw_start if error else start.isoformat(),
        end=raw_end if error else end.isoformat(),
    )


@bp.get("/misrouting")
@roles_required(*access.REPORT_ROLES)
def misrouting():
    """Returns and reassignments counted against the routing that sent each ticket."""
    tz = current_app.config["HOTLINE_TIMEZONE"]
    today = datetime.now(ZoneInfo(tz)).date()
    raw_start = request.args.get("from", "").strip()
    raw_end = request.args.get("to", "").strip()
    start, end, error, bad = _date_range(raw_start, raw_end, today)
    tables = None if error else compute_misrouting(start, end, tz)
    return render_template(
        "reports/misrouting.html",
        tables=tables,
        error=error,
        bad=bad,
        start=raw_start if error else start.isoformat(),
        end=raw_end if error else end.isoformat(),
    )


def _date_range(raw_start: str, raw_end: str, today: date) -> tuple[date, date, str | None, tuple[str, ...]]:
    """The inclusive local dates asked for (default: the last 30 days), or an error message
    and the names of the inputs at fault."""
    try:
        end = date.fromisoformat(raw_end) if raw_end else today
    except ValueError:
        return today, today, _("“%(value)s” is not a date; use YYYY-MM-DD.", value=raw_end), ("to",)
    try:
        start = date.fromisoformat(raw_start) if raw_start else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return today, today, _("“%(value)s” is not a date; use YYYY-MM-DD.", value=raw_start), ("from",)
    if not (start >= EARLIEST and end <= LATEST):  # far-off years would overflow the time arithmetic
        message = _("Choose dates between %(earliest)s and %(latest)s.", earliest=EARLIEST, latest=LATEST)
        return start, end, message, ("from", "to")
    if start > end:
        return start, end, _("The start date is after the end date."), ("from", "to")
    if (end - start).days + 1 > MAX_DAYS:
        return start, end, _("Choose at most %(n)d days.", n=MAX_DAYS), ("from", "to")
    return start, end, None, ()
