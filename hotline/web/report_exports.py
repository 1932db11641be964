"""The reports' tables as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese
right) and as Excel workbooks (openpyxl): readable headers, numbers as numbers, rates as
percentages. The ticket lists behind a figure stream, bounded at MAX_TICKET_ROWS. Every cell
goes through `export_cells`, so that no name or text becomes a formula."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile
from zoneinfo import ZoneInfo

from flask import Response, current_app, stream_with_context
from flask_babel import gettext as _
from flask_babel import pgettext
from openpyxl import Workbook
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy import Select, func, select

from hotline import labels
from hotline.extensions import db
from hotline.models import Department, District, Ticket
from hotline.services.platform.export_cells import CsvWriter, xlsx_cell
from hotline.services.reporting.reports import ReportRow
from hotline.web.report_params import GROUP_LABELS, category_paths, group_label
from hotline.web.report_views import ALL_COLUMNS, TIME_COLUMNS, Ranked, time_column_label

MAX_TICKET_ROWS = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Field:
    label: str
    kind: str = "text"  # text | count | number | rate | time
    width: int = 12


@dataclass
class Table:
    """A sheet: its fields, its rows (an iterable, streamed), and notes for the About sheet."""

    name: str
    fields: list[Field]
    rows: Iterable[list[Any]]
    notes: list[tuple[str, str]]
    footer: str = ""  # a last line for the CSV too (a list cut at MAX_TICKET_ROWS says so)


# --- the report tables --------------------------------------------------------------------


def _figure_fields() -> list[Field]:
    fields = []
    for column in ALL_COLUMNS:
        label = time_column_label(column) if column in TIME_COLUMNS else str(column.label)
        kind = {"count": "count", "rate": "rate"}.get(column.kind, "number")
        fields.append(Field(label, kind, 14 if kind == "rate" else 12))
    return fields


def _figures(row: ReportRow) -> list[Any]:
    return [getattr(row, column.name) for column in ALL_COLUMNS]


def group_table(rows: list[ReportRow], group_by: str, with_period: bool, notes: list[tuple[str, str]]) -> Table:
    fields = [Field(_("Code"), width=16), Field(str(_group_heading(group_by)), width=24), *_figure_fields()]
    if with_period:
        fields.insert(0, Field(_("Period starting"), "date", 14))
    body = []
    for row in rows:
        values = [row.key, group_label(group_by, row.key, row.name), *_figures(row)]
        body.append([row.period, *values] if with_period else values)
    return Table(pgettext("statistics", "Report"), fields, body, notes)


def ranking_table(ranking: list[Ranked], notes: list[tuple[str, str]]) -> Table:
    fields = [Field(_("Rank"), "count", 8), Field(_("Code"), width=16), Field(_("Department"), width=24)]
    fields += [*_figure_fields(), Field(_("Resolved on time: change (percentage points)"), "number", 16)]
    body = [
        [
            entry.position,
            entry.row.key,
            entry.row.name or entry.row.key,
            *_figures(entry.row),
            entry.on_time_change.difference,
        ]
        for entry in ranking
    ]
    return Table(_("Ranking"), fields, body, notes)


def _group_heading(group_by: str) -> str:
    return str(GROUP_LABELS.get(group_by, group_by))


# --- the tickets behind a figure ----------------------------------------------------------


def ticket_count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def ticket_table(query: Select, total: int, notes: list[tuple[str, str]]) -> Table:
    """Up to MAX_TICKET_ROWS tickets, read in batches; names come from three small lookups."""
    departments = dict(db.session.execute(select(Department.id, Department.name)).all())
    districts = dict(db.session.execute(select(District.id, District.name)).all())
    paths = category_paths()
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    columns = query.with_only_columns(
        Ticket.number,
        Ticket.created_at,
        Ticket.status,
        Ticket.type,
        Ticket.channel,
        Ticket.department_id,
        Ticket.category_id,
        Ticket.district_id,
        Ticket.accept_due_at,
        Ticket.accepted_at,
        Ticket.resolve_due_at,
        Ticket.resolved_at,
        Ticket.satisfaction,
    ).limit(MAX_TICKET_ROWS)

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(zone).replace(tzinfo=None) if value is not None else None

    def rows() -> Iterator[list[Any]]:
        for t in db.session.execute(columns.execution_options(yield_per=2000)):
            yield [
                t.number,
                local(t.created_at),
                str(labels.STATUS_LABELS.get(t.status, t.status)),
                str(labels.TYPE_LABELS.get(t.type, t.type)),
                str(labels.CHANNEL_LABELS.get(t.channel, t.channel)),
                departments.get(t.department_id, ""),
                paths.get(t.category_id, ""),
                districts.get(t.district_id, ""),
                local(t.accept_due_at),
                local(t.accepted_at),
                local(t.resolve_due_at),
                local(t.resolved_at),
                str(labels.RATING_LABELS.get(t.satisfaction, t.satisfaction or "")),
            ]

    fields = [
        Field(_("Number"), width=20),
        Field(_("Logged at"), "time", 17),
        Field(_("Status"), width=14),
        Field(_("Type"), width=12),
        Field(_("Channel"), width=10),
        Field(_("Department"), width=20),
        Field(_("Category"), width=28),
        Field(_("District"), width=12),
        Field(_("Accept by"), "time", 17),
        Field(_("Accepted at"), "time", 17),
        Field(_("Resolve by"), "time", 17),
        Field(_("Resolved at"), "time", 17),
        Field(_("Satisfaction"), width=14),
    ]
    footer = ""
    if total > MAX_TICKET_ROWS:
        footer = _("Only the first %(n)d of %(total)d tickets are listed.", n=MAX_TICKET_ROWS, total=total)
        notes = [*notes, (_("Note"), footer)]
    return Table(_("Tickets"), fields, rows(), notes, footer)


# --- writing ------------------------------------------------------------------------------


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"  # Excel reads "85.71%" as the number 0.8571
    if kind == "time":
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat()
    return value


def csv_response(table: Table, filename: str) -> Response:
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = CsvWriter(buffer)
        buffer.write("\ufeff")
        writer.writerow([field.label for field in table.fields])
        for row in table.rows:
            writer.writerow([_csv_value(v, f.kind) for v, f in zip(row, table.fields, strict=True)])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if table.footer:
            writer.writerow([f"# {table.footer}"])
        yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Type"] = CSV_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


class _Chunks(io.RawIOBase):
    """A write-only, unseekable sink: zipfile then writes each entry's sizes after it (data
    descriptors), so the archive goes out as it is written instead of after the last row."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class _StreamedSheetWriter(ExcelWriter):
    """openpyxl's writer, but the first sheet is already in the archive: it was written into
    its entry row by row (the rest, styles and workbook, can only follow the last row)."""

    def write_worksheet(self, ws: Any) -> None:
        if ws is not self.workbook.worksheets[0]:
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        ws._rels = ws._writer._rels
        self.manifest.append(ws)


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The workbook, streamed: the sheet's rows go out as they are read from the database
    (the first byte before the first row), the small parts after them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name[:31])
    sheet.freeze_panes = "A2"
    for index, field in enumerate(table.fields, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = field.width
    sink = _Chunks()
    archive = ZipFile(sink, "w", ZIP_DEFLATED, allowZip64=True)
    sheet._id = 1  # what openpyxl's writer numbers it: its place in the archive
    entry = archive.open(sheet.path[1:], "w", force_zip64=True)
    sheet._writer = WorksheetWriter(sheet, out=entry)
    sheet._writer.write_top()
    yield sink.take()
    bold = Font(bold=True)
    sheet.append([xlsx_cell(sheet, str(field.label), font=bold) for field in table.fields])
    formats = {"rate": "0.0%", "time": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd", "number": "0.00"}
    for row in table.rows:
        sheet.append([xlsx_cell(sheet, v, formats.get(f.kind)) for v, f in zip(row, table.fields, strict=True)])
        if sum(map(len, sink.parts)) > 64_000:
            yield sink.take()
    sheet.close()
    entry.close()
    about = workbook.create_sheet(_("About"))
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    for label, text in table.notes:
        about.append([xlsx_cell(about, label), xlsx_cell(about, text)])
    _StreamedSheetWriter(workbook, archive).save()
    yield sink.take()


def xlsx_response(table: Table, filename: str) -> Response:
    response = Response(stream_with_context(xlsx_chunks(table)), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def respond(table: Table, filename: str, fmt: str) -> Response:
    return csv_response(table, filename) if fmt == "csv" else xlsx_response(table, filename)


def safe_name(*parts: str) -> str:
    """A file name of ASCII letters, digits and dashes (codes may be anything)."""
    text = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "report"
