"""Reports for supervisors: the dashboard (figures per department, category, district,
channel or type, against the previous period, with trends and a ranking), the tickets
behind each figure, their exports, misrouting per rule and category, and the phone line's
figures (接通率)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, District
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.reporting import report_figures
from hotline.services.reporting.call_report import CALLBACK_HOURS, call_report_with_total
from hotline.services.reporting.reports import GROUPINGS, drill_down, report
from hotline.services.reporting.reports import misrouting as compute_misrouting
from hotline.web import report_cells, report_charts, report_definitions, report_exports, report_params, report_views
from hotline.web.formatting import local_time
from hotline.web.guards import roles_required
from hotline.web.paging import page_number

bp = Blueprint("reports", __name__, url_prefix="/reports")
# The figures of the tables, and the links behind them (hotline/web/report_cells.py).
bp.add_app_template_global(report_cells.drill_href)
bp.add_app_template_global(report_cells.figure_cell)


PAGE_SIZE = 50
TABLES = ("groups", "trend", "ranking")


@bp.context_processor
def _report_helpers() -> dict:
    return {
        "view": report_views,
        "params": report_params,
        "definitions": report_definitions.definitions,
        "groupings": GROUPINGS,
    }


@bp.get("/")
@roles_required(*access.REPORT_ROLES)
def index():
    return redirect(url_for("reports.response_times"))


@bp.get("/response-times")
@roles_required(*access.REPORT_ROLES)
def response_times():
    """The dashboard (the URL of the first report, which the menu and home page link to)."""
    query = report_params.parse_query(request.args)
    if query.error:
        return render_template("reports/response_times.html", query=query, board=None)
    board = report_views.build_dashboard(query)
    charts = {
        "received": report_charts.received_resolved(board.trend, board.trend_name),
        "resolve": report_charts.resolve_times(board.trend, board.trend_name),
        "rates": report_charts.rates(board.trend, board.trend_name),
        "worst": report_charts.worst_on_time(board.worst),
    }
    return render_template("reports/response_times.html", query=query, board=board, charts=charts)


@bp.get("/response-times.<any(csv, xlsx):fmt>")
@roles_required(*access.REPORT_ROLES)
def response_times_export(fmt: str):
    """The per-group table (`table=groups`), per period too (`table=trend`), or the ranking."""
    query = report_params.parse_query(request.args)
    table = request.args.get("table", "groups").strip() or "groups"
    if not query.error and table not in TABLES:
        query.error = _("“%(value)s” is not one of: %(allowed)s.", value=table, allowed=", ".join(TABLES))
    if query.error:
        return render_template("reports/response_times.html", query=query, board=None), 400
    span, notes = query.span, _report_notes(query, table)
    if table == "ranking":
        previous = query.previous
        ranked = report_views.rank_departments(
            report(span.start, span.end, "department"), report(previous.start, previous.end, "department")
        )
        sheet = report_exports.ranking_table(ranked, notes)
        name = report_exports.safe_name("hotline-ranking", span.start.isoformat(), span.end.isoformat())
    else:
        period = query.trend if table == "trend" else None
        rows = report_params.with_paths(report(span.start, span.end, query.group_by, period))
        sheet = report_exports.group_table(rows, query.group_by, period is not None, notes)
        parts = ("hotline-report", query.group_by, period or "", span.start.isoformat(), span.end.isoformat())
        name = report_exports.safe_name(*parts)
    return report_exports.respond(sheet, name, fmt)


def _report_notes(query: report_params.Query, table: str) -> list[tuple[str, str]]:
    notes = [
        (pgettext("statistics", "Report"), _("Hotline report")),
        (_("Dates"), f"{query.span.start.isoformat()} – {query.span.end.isoformat()}"),
        (_("Group by"), str(report_params.GROUP_LABELS["department" if table == "ranking" else query.group_by])),
    ]
    if table == "trend":
        notes.append((_("Trend"), str(report_params.TREND_LABELS[query.trend])))
    return [*notes, *_common_notes()]


def _common_notes() -> list[tuple[str, str]]:
    refreshed = report_figures.last_refreshed()
    return [
        (_("Exported at"), local_time(utcnow())),
        (_("Figures as of"), local_time(refreshed) if refreshed else _("not built yet")),
        (_("Accuracy"), _("Medians and percentiles are within 1 minute or %(share)s of the exact value.", share="1%")),
        *report_definitions.definitions(),
    ]


@bp.get("/tickets")
@roles_required(*access.REPORT_ROLES)
def tickets():
    """The tickets behind one figure: the same definitions, so the count is the figure's."""
    query = report_params.parse_drill_query(request.args)
    back_url = _back_url(query)
    if query.error:
        return render_template("reports/tickets.html", query=query, pagination=None, back_url=back_url), 400
    page = page_number()
    select_tickets = drill_down(query.span.start, query.span.end, query.group_by, query.key, query.measure)
    pagination = db.paginate(select_tickets, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "reports/tickets.html",
        query=query,
        pagination=pagination,
        back_url=back_url,
        group_name=report_params.group_name(query.group_by, query.key),
        departments=dict(db.session.execute(select(Department.id, Department.name)).all()),
        districts=dict(db.session.execute(select(District.id, District.name)).all()),
        paths=report_params.category_paths(),
        now=utcnow(),
        max_rows=report_exports.MAX_TICKET_ROWS,
    )


def _back_url(query: report_params.DrillQuery) -> str:
    """The dashboard the figure was on: its dates (a preset's dates show as that preset)."""
    args = query.args(key=None, measure=None, group_by=query.group_by if query.group_by != "all" else None)
    return url_for("reports.response_times", **args)


@bp.get("/tickets.<any(csv, xlsx):fmt>")
@roles_required(*access.REPORT_ROLES)
def tickets_export(fmt: str):
    query = report_params.parse_drill_query(request.args)
    if query.error:
        return render_template("reports/tickets.html", query=query, pagination=None, back_url=_back_url(query)), 400
    select_tickets = drill_down(query.span.start, query.span.end, query.group_by, query.key, query.measure)
    total = report_exports.ticket_count(select_tickets)
    group = report_params.group_name(query.group_by, query.key)
    notes = [
        (_("Tickets"), str(report_params.MEASURE_LABELS[query.measure])),
        (_("Group"), f"{report_params.GROUP_LABELS[query.group_by]}: {group}"),
        (_("Dates"), f"{query.span.start.isoformat()} – {query.span.end.isoformat()}"),
        (_("Count"), str(total)),
        *_common_notes(),
    ]
    sheet = report_exports.ticket_table(select_tickets, total, notes)
    key = query.key if query.group_by != "all" else ""
    parts = (
        "hotline-tickets",
        query.group_by,
        key,
        query.measure,
        query.span.start.isoformat(),
        query.span.end.isoformat(),
    )
    return report_exports.respond(sheet, report_exports.safe_name(*parts), fmt)


@bp.get("/misrouting")
@roles_required(*access.REPORT_ROLES)
def misrouting():
    """Returns and reassignments counted against the routing that sent each ticket."""
    tz = current_app.config["HOTLINE_TIMEZONE"]
    raw_start = request.args.get("from", "").strip()
    raw_end = request.args.get("to", "").strip()
    span, error, bad = report_params.parse_dates(raw_start, raw_end, report_params.hotline_today())
    tables = None if span is None else compute_misrouting(span.start, span.end, tz)
    return render_template(
        "reports/misrouting.html",
        tables=tables,
        error=error,
        bad=bad,
        start=raw_start if span is None else span.start.isoformat(),
        end=raw_end if span is None else span.end.isoformat(),
    )


CALL_TABLES = ("day", "hour", "operator")


@bp.get("/calls")
@roles_required(*access.REPORT_ROLES)
def calls():
    """The phone line's figures per local day, hour or answering operator, with the totals."""
    raw_start = request.args.get("from", "").strip()
    raw_end = request.args.get("to", "").strip()
    span, error, bad = report_params.parse_dates(raw_start, raw_end, report_params.hotline_today())
    group_by = request.args.get("group_by", "").strip() or "day"
    if group_by not in CALL_TABLES:
        if not error:
            error = _("“%(value)s” is not one of: %(allowed)s.", value=group_by, allowed=", ".join(CALL_TABLES))
            bad = ("group_by",)
        group_by = "day"
    rows = total = None
    if span is not None and not error:
        rows, total = call_report_with_total(span.start, span.end, group_by)
    page = render_template(
        "reports/calls.html",
        rows=rows,
        total=total,
        group_by=group_by,
        tables=CALL_TABLES,
        callback_hours=CALLBACK_HOURS,
        error=error,
        bad=bad,
        start=raw_start if span is None else span.start.isoformat(),
        end=raw_end if span is None else span.end.isoformat(),
    )
    return (page, 400) if error else page
