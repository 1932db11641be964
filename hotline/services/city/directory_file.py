"""A city's directory as a CSV file that a person keeps in a spreadsheet: its departments
(and the units above them), its districts, and the category tree with each category's
default department, which routing falls back on. `load` creates what is new and updates
names, parents and defaults by code; it never deletes (tickets point at these rows). A file
with any error loads nothing, and every error is listed with its line: a tree half loaded
would route tickets to the wrong places. `export` writes the same format back, with names
that a spreadsheet would read as a formula made text (`export_cells`; `load` takes it off).

Columns: kind (department, district or category), code, name, parent (a code of the same
kind), department (categories only: the default department's code).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, Department, District
from hotline.services.platform.export_cells import CsvWriter, restored

COLUMNS = ("kind", "code", "name", "parent", "department")
REQUIRED = ("kind", "code", "name")
KINDS = ("department", "district", "category")
CODE_MAX = 64
NAME_MAX = 200
_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
MODELS = {"department": Department, "district": District, "category": Category}


@dataclass
class Entry:
    line: int
    kind: str
    code: str
    name: str
    parent: str
    department: str


@dataclass
class LoadResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def load(stream: TextIO, dry_run: bool = False) -> LoadResult:
    """Read the whole file, check it against itself and the database, then write it in one
    transaction, or nothing if any line is wrong."""
    result = LoadResult()
    entries = _read(stream, result.errors)
    if not entries and result.errors:
        return result
    existing = {kind: _by_code(model) for kind, model in MODELS.items()}
    _check(entries, existing, result.errors)  # the lines read well, so that every error is listed
    result.errors.sort(key=lambda error: int(error.split(":")[0].removeprefix("line ")))
    if result.errors or dry_run:
        _count(entries, existing, result)
        return result
    _write(entries, existing, result)
    db.session.commit()
    return result


def _read(stream: TextIO, errors: list[str]) -> list[Entry]:
    reader = csv.DictReader(stream)
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        errors.append(f"line 1: the header needs the columns {', '.join(REQUIRED)} (missing: {', '.join(missing)})")
        return []
    reader.fieldnames = header
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        values = {name: (row.get(name) or "").strip() for name in COLUMNS}
        if not any(values.values()):
            continue  # a blank line
        entry = Entry(
            line,
            values["kind"].lower(),
            values["code"].lower(),
            restored(values["name"]),  # what `export` neutralised (a name that reads as a formula)
            values["parent"].lower(),
            values["department"].lower(),
        )
        problem = _problem(entry)
        if problem is None and (entry.kind, entry.code) in seen:
            problem = f"{entry.kind} “{entry.code}” is already on line {seen[(entry.kind, entry.code)]}"
        if problem:
            errors.append(f"line {line}: {problem}")
            continue
        seen[(entry.kind, entry.code)] = line
        entries.append(entry)
    return entries


def _problem(entry: Entry) -> str | None:
    if entry.kind not in KINDS:
        return f"kind “{entry.kind}” is not one of: {', '.join(KINDS)}"
    if not _valid_code(entry.code):
        return f"code “{entry.code}” must be lower-case letters, digits, “-”, “_” or “.” (at most {CODE_MAX})"
    if not entry.name:
        return "the name is empty"
    if len(entry.name) > NAME_MAX:
        return f"the name is longer than {NAME_MAX} characters"
    if entry.parent and entry.kind == "district":
        return "districts have no parent"
    if entry.parent and not _valid_code(entry.parent):
        return f"parent “{entry.parent}” is not a code"
    if entry.parent == entry.code:
        return "a row cannot be its own parent"
    if entry.department and entry.kind != "category":
        return "only categories have a default department"
    if entry.department and not _valid_code(entry.department):
        return f"department “{entry.department}” is not a code"
    return None


def _valid_code(code: str) -> bool:
    return len(code) <= CODE_MAX and _CODE.fullmatch(code) is not None


def _by_code(model: type) -> dict[str, object]:
    return {row.code: row for row in db.session.scalars(select(model))}


def _check(entries: list[Entry], existing: dict[str, dict[str, object]], errors: list[str]) -> None:
    """Parents and departments that exist (in the file or the database), and no loop."""
    in_file = {kind: {e.code: e for e in entries if e.kind == kind} for kind in KINDS}
    for entry in entries:
        if entry.parent and entry.parent not in in_file[entry.kind] and entry.parent not in existing[entry.kind]:
            errors.append(f"line {entry.line}: parent {entry.kind} “{entry.parent}” is neither in the file nor known")
        if (
            entry.department
            and entry.department not in in_file["department"]
            and entry.department not in existing["department"]
        ):
            errors.append(f"line {entry.line}: department “{entry.department}” is neither in the file nor known")
    for kind in ("department", "category"):
        parents = {code: _parent_code(row) for code, row in existing[kind].items()}
        parents.update({code: entry.parent or None for code, entry in in_file[kind].items()})
        for code, entry in in_file[kind].items():
            seen, current = {code}, parents.get(code)
            while current is not None:
                if current in seen:
                    errors.append(f"line {entry.line}: {kind} “{code}” would be its own ancestor (through “{current}”)")
                    break
                seen.add(current)
                current = parents.get(current)


def _parent_code(row: object) -> str | None:
    parent = getattr(row, "parent", None)
    return parent.code if parent is not None else None


def _fields(entry: Entry, existing: dict[str, dict[str, object]]) -> dict[str, object]:
    """The values the row should have; parents and defaults as rows (found after creation)."""
    values: dict[str, object] = {"name": entry.name}
    if entry.kind in ("department", "category"):
        values["parent"] = existing[entry.kind].get(entry.parent) if entry.parent else None
    if entry.kind == "category":
        values["default_department"] = existing["department"].get(entry.department) if entry.department else None
    return values


def _write(entries: list[Entry], existing: dict[str, dict[str, object]], result: LoadResult) -> None:
    # Create the new rows first (with their names only), so that parents and defaults can
    # point at rows of the same file whatever their order; then set every field.
    new = set()
    for entry in entries:
        if entry.code not in existing[entry.kind]:
            row = MODELS[entry.kind](code=entry.code, name=entry.name)
            db.session.add(row)
            existing[entry.kind][entry.code] = row
            new.add((entry.kind, entry.code))
    for entry in entries:
        row = existing[entry.kind][entry.code]
        changed = False
        for name, value in _fields(entry, existing).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if (entry.kind, entry.code) in new:
            result.created[entry.kind] += 1
        elif changed:
            result.updated[entry.kind] += 1
        else:
            result.unchanged[entry.kind] += 1
    db.session.flush()


def _count(entries: list[Entry], existing: dict[str, dict[str, object]], result: LoadResult) -> None:
    """What a load would do (a dry run, or a file with errors): new rows and known ones."""
    for entry in entries:
        if entry.code in existing[entry.kind]:
            result.unchanged[entry.kind] += 1
        else:
            result.created[entry.kind] += 1


def export() -> str:
    """The directory in the format `load` reads: departments and categories parents first."""
    out = io.StringIO()
    writer = CsvWriter(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for kind in KINDS:
        rows = list(db.session.scalars(select(MODELS[kind]).order_by(MODELS[kind].code)))
        for row in _parents_first(rows):
            department = getattr(row, "default_department", None)
            writer.writerow((kind, row.code, row.name, _parent_code(row) or "", department.code if department else ""))
    return out.getvalue()


def _parents_first(rows: Iterable[object]) -> list[object]:
    rows = list(rows)
    ids = {row.id for row in rows}
    placed: set[int] = set()
    ordered: list[object] = []
    while len(ordered) < len(rows):
        before = len(ordered)
        for row in rows:
            parent = getattr(row, "parent_id", None)
            if row.id not in placed and (parent is None or parent in placed or parent not in ids):
                placed.add(row.id)
                ordered.append(row)
        if len(ordered) == before:  # a loop made elsewhere: the rest as they come
            ordered.extend(row for row in rows if row.id not in placed)
    return ordered
