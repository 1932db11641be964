"""Importing a city's ticket history from its old system's CSV export (`flask import-csv`).

- The file is streamed with the csv module, one row at a time, and saved in batches of
  BATCH rows, each committed: memory stays bounded whatever the file's size, and an
  import that stopped half-way continues where it stopped when run again.
- Each imported ticket keeps its old id (`external_id`, with `source` naming the old
  system; searchable) and its times; its number is `SOURCE-ID`. A row whose (source, id)
  is already in the database is skipped as already imported, so a second run of the same
  file imports nothing twice. An id repeated within the file is refused the first time
  (the database says its ticket was saved by this run); no set of every id read is kept,
  so on a later run the repeat finds its ticket and counts as already imported.
- A row that cannot be read (a date that is not one, closed before created, no id,
  department or category, an id seen earlier in the file) is refused with its line
  number (the header is line 1) and the reason; the other rows still import. Over-long
  addresses and names are shortened rather than refused.
- Status: a closing time makes the ticket closed, resolved then; otherwise an old
  "closed" status closes it without a resolve time, "started"-like statuses are in
  progress, and everything else is dispatched to its department. The old system's
  dispatch time is unknown, so `dispatched_at` stays empty and the report's resolve
  clock starts at creation (see `report_figures`).
- Imported tickets start no SLA clocks, are never routed (they are not `new`), and
  send no texts: the history is recorded, not replayed. Every ticket keeps its due time:
  a closed one for the on-time rate, an open one as its deadline, so that an open ticket
  whose deadline passed in the old system counts as overdue now (the old system's own
  export says so; services/clocks/overdue.py), marked as imported by its `source` so that the
  overdue list can show it apart. Departments, categories (two
  levels) and districts are found by code or name, or created (`import_directory`).
- The report figures of the days touched are refreshed at the end.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import TICKET_TYPES, Channel, Status, Ticket, TicketEvent
from hotline.models.types import utcnow
from hotline.services.errors import ServiceError
from hotline.services.history_import.import_directory import Directory
from hotline.services.history_import.import_mapping import (
    CLOSED_STATUSES,
    EXTERNAL_ID_MAX,
    IN_PROGRESS_STATUSES,
    Mapping,
    MappingError,
    bind_header,
    channel_of,
    read_time,
    ticket_number,
)
from hotline.services.reporting import report_figures
from hotline.services.ticketing import intake, lifecycle

BATCH = 500
ADDRESS_MAX = 300
STATUS_MAX = 100


@dataclass
class ImportResult:
    source: str
    dry_run: bool = False
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in file order
    departments_created: int = 0
    categories_created: int = 0
    districts_created: int = 0
    report_days: int = 0


@dataclass
class _Row:
    """One readable row, before it is checked against the database."""

    line: int
    external_id: str
    created_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    status: str  # as the old system wrote it
    values: dict[str, str]  # the mapped columns' text


def import_csv(
    path: Path,
    mapping: Mapping,
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    dry_run: bool = False,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import the file's rows as tickets; raises MappingError when the file or the mapping
    cannot be used at all. A dry run reads and checks everything and saves nothing."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"--encoding: unknown encoding {encoding!r}") from None
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise MappingError(f"--delimiter: {delimiter!r} is not one character (e.g. , or ;)")
    result = ImportResult(source=mapping.source, dry_run=dry_run)
    # Undecodable bytes are kept as surrogates and refused per row, not for the whole file.
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        rows = _records(csv.reader(handle, delimiter=delimiter))
        first = next(rows, None)
        if first is None:
            raise MappingError(f"{path.name} is empty: no header line")
        header = first[1]
        if isinstance(header, str):
            raise MappingError(f"{path.name}: the header line {header}")
        columns = bind_header(header, mapping)
        run = _Run(mapping, columns, len(header), path.name, result)
        pending: list[_Row] = []
        for line, fields in rows:
            result.rows += 1
            row = run.read(line, fields)
            if row is not None:
                pending.append(row)
            if len(pending) >= BATCH:
                run.save(pending)
                pending = []
                if progress:
                    progress(result)
        run.save(pending)
        run.finish()
    if dry_run:
        db.session.rollback()
    else:
        while True:  # a large history dirties many days; refresh them all, a batch at a time
            refreshed = report_figures.refresh_dirty(limit=400)
            result.report_days += refreshed
            if refreshed < 400:
                break
    if progress:
        progress(result)
    return result


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, fields) per record, skipping blank lines; (line, reason) when the csv module
    cannot read one. A record may span lines (a quoted newline): its first line is given."""
    last = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = last + 1
            yield line, f"cannot be read as CSV: {error}"
            if reader.line_num <= last:  # no progress: stop rather than loop
                return
            last = reader.line_num
            continue
        line, last = last + 1, reader.line_num
        if fields and any(f.strip() for f in fields):
            yield line, fields


class _Run:
    """The state of one import: the mapping bound to the header, the reference data by name
    and code (loaded once, grown as rows create departments and categories), the counts."""

    def __init__(self, mapping: Mapping, columns: dict[str, int], width: int, file: str, result: ImportResult):
        self.mapping = mapping
        self.columns = columns
        self.width = width
        self.file = file
        self.result = result
        self.now = utcnow()
        # Tickets of this source with a larger id were saved by this run: a second row with
        # their id is a duplicate in the file, not an earlier import (no set of all ids kept).
        self.first_new_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
        self.directory = Directory(result)

    # --- reading ------------------------------------------------------------------------

    def column(self, key: str) -> str:
        return self.mapping.columns[key]

    def read(self, line: int, fields: list[str] | str) -> _Row | None:
        """The row's values, or None after recording why it is refused."""
        if isinstance(fields, str):
            return self.refuse(line, fields)
        if len(fields) < self.width:
            return self.refuse(line, f"has {len(fields)} fields where the header has {self.width}: a broken line?")
        if len(fields) > self.width and any(f.strip() for f in fields[self.width :]):
            return self.refuse(line, f"has {len(fields)} fields where the header has {self.width}: a broken line?")
        values = {key: fields[index].strip() for key, index in self.columns.items()}
        for key, value in values.items():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return self.refuse(line, f"{self.column(key)} is not readable text (is the file in another encoding?)")
        for key in ("id", "created", "department", "category"):
            if not values[key]:
                return self.refuse(line, f"{self.column(key)} is empty")
        if len(values["id"]) > EXTERNAL_ID_MAX:
            return self.refuse(line, f"{self.column('id')} is longer than {EXTERNAL_ID_MAX} characters")
        times: dict[str, datetime | None] = {}
        for key in ("created", "closed", "due"):
            text = values.get(key, "")
            if not text:
                times[key] = None
                continue
            try:
                times[key] = read_time(text, self.mapping)
            except (ValueError, OverflowError):
                expected = self.mapping.date_format or "ISO 8601 (e.g. 2024-03-01 14:30)"
                return self.refuse(line, f"{self.column(key)} {text!r} is not a time in the format {expected}")
        created, closed = times["created"], times["closed"]
        assert created is not None
        if closed is not None and closed < created:
            return self.refuse(
                line,
                f"{self.column('closed')} ({values['closed']}) is before {self.column('created')} ({values['created']})",
            )
        return _Row(line, values["id"], created, closed, times["due"], values.get("status", ""), values)

    def refuse(self, line: int, reason: str) -> None:
        self.result.errors.append((line, reason))
        return None

    # --- saving -------------------------------------------------------------------------

    def save(self, rows: list[_Row]) -> None:
        """Save one batch: skip what is already imported, refuse repeats, commit the rest."""
        if not rows:
            return
        source = self.mapping.source
        existing = dict(
            db.session.execute(
                select(Ticket.external_id, Ticket.id).where(
                    Ticket.source == source, Ticket.external_id.in_({r.external_id for r in rows})
                )
            ).all()
        )
        numbers = {r.external_id: ticket_number(source, r.external_id) for r in rows}
        taken = set(db.session.scalars(select(Ticket.number).where(Ticket.number.in_(set(numbers.values())))))
        errors: list[tuple[int, str]] = []
        first_line: dict[str, int] = {}
        accepted: list[_Row] = []
        for row in rows:
            ticket_id = existing.get(row.external_id)
            if ticket_id is not None and ticket_id < self.first_new_id:
                self.result.already_imported += 1
            elif ticket_id is not None or row.external_id in first_line:
                earlier = first_line.get(row.external_id) or self.line_of(ticket_id)
                where = f" (line {earlier})" if earlier else ""
                errors.append((row.line, f"{self.column('id')} {row.external_id} appears earlier in the file{where}"))
            elif numbers[row.external_id] in taken:
                errors.append((row.line, f"ticket number {numbers[row.external_id]} is taken by another ticket"))
            else:
                first_line[row.external_id] = row.line
                accepted.append(row)
        self._merge_errors(errors, rows[0].line)
        # Departments and categories first (found or created), then the batch's tickets at once.
        references = [self.references(row.values) for row in accepted]
        db.session.flush()  # what the directory created, before the tickets that refer to it
        drafts = [
            self.draft(row, numbers[row.external_id], department_id, category_id, district_id)
            for row, (department_id, category_id, district_id) in zip(accepted, references, strict=True)
        ]
        self.result.imported += len(accepted)
        try:
            intake.open_history(drafts)
        except IntegrityError:
            db.session.rollback()
            raise ServiceError(
                "another import of the same source (or new tickets with these numbers) was saved meanwhile; "
                "run the import again: it continues where it stopped"
            ) from None
        if not self.result.dry_run:
            db.session.commit()

    def _merge_errors(self, errors: list[tuple[int, str]], since: int) -> None:
        """Keep the errors in line order: the batch's come after the read errors of later lines."""
        if not errors:
            return
        listed = self.result.errors
        start = len(listed)
        while start and listed[start - 1][0] > since:
            start -= 1
        listed[start:] = sorted(listed[start:] + errors)

    def line_of(self, ticket_id: int | None) -> int | None:
        """The line that imported a ticket, from its import event."""
        data = db.session.scalar(
            select(TicketEvent.data).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "imported")
        )
        return data.get("line") if data else None

    def references(self, values: dict[str, str]) -> tuple[int, int, int | None]:
        """The row's department, category and district ids, found or created."""
        district = values.get("district", "")
        return (
            self.directory.department(values["department"], values.get("department_name", "")),
            self.directory.category(values["category"], values.get("subcategory", "")),
            None if district.lower() in self.mapping.no_district else self.directory.district(district),
        )

    def draft(
        self, row: _Row, number: str, department_id: int, category_id: int, district_id: int | None
    ) -> tuple[Ticket, list[dict[str, Any]]]:
        """The row's ticket, as the old system left it, and its import event."""
        values = row.values
        status, resolved_at = self.status(row)
        description = values.get("description") or self.describe(values)
        resolution = values.get("resolution") or None
        kind = values.get("type", "").lower()
        fields = {
            "type": kind if kind in TICKET_TYPES else "report",
            "category_id": category_id,
            "district_id": district_id,
            "address": values.get("address", "")[:ADDRESS_MAX],
            "description": description,
            "caller_phone": "",
        }
        channel = channel_of(values["channel"]) if "channel" in values else Channel.OTHER
        ticket = intake.draft(None, channel, fields, at=row.created_at, number=number)
        lifecycle.replay(ticket, status)
        ticket.department_id = department_id
        ticket.resolved_at = resolved_at
        ticket.closed_at = resolved_at if status == Status.CLOSED else None
        # Kept even where it passed in the old system: an open ticket past it is overdue now
        # (counted as imported). No Hotline clock runs on it (`sla_terms` stays empty): it is
        # shown in calendar time, and no sweep turns it amber or red or notifies anyone.
        ticket.resolve_due_at = row.due_at
        # The old answer of a ticket still open stays in the import event, not as a reply.
        ticket.resolution = resolution if status == Status.CLOSED else None
        ticket.source = self.mapping.source
        ticket.external_id = row.external_id
        data = {"source": self.mapping.source, "id": row.external_id, "status": row.status[:STATUS_MAX]}
        data.update({"file": self.file, "line": row.line})
        if resolution and status != Status.CLOSED:
            data["resolution"] = resolution
        event = {"kind": "imported", "at": self.now, "actor_id": None, "from_status": None, "to_status": status}
        return ticket, [event | {"data": data}]

    def status(self, row: _Row) -> tuple[str, datetime | None]:
        if row.closed_at is not None:
            return Status.CLOSED, row.closed_at
        old = row.status.strip().lower()
        if old in CLOSED_STATUSES:
            return Status.CLOSED, None
        if old in IN_PROGRESS_STATUSES:
            return Status.IN_PROGRESS, None
        return Status.DISPATCHED, None

    def describe(self, values: dict[str, str]) -> str:
        """`Complaint type: descriptor (location type)` when the file has no description."""
        text = values["category"]
        if values.get("subcategory"):
            text += f": {values['subcategory']}"
        if values.get("location"):
            text += f" ({values['location']})"
        return text

    def finish(self) -> None:
        self.directory.name_new_departments()
        db.session.flush()
        if not self.result.dry_run:
            db.session.commit()
