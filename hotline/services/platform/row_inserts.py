"""One row written with a plain INSERT, for the hot paths that skip the ORM's unit of work
(intake: services/ticketing/intake.py). The row comes back as an instance of its model, holding what
was written (its id too) and not attached to the session, so that an answer can be built
from it without reading it back. The ORM's flush hooks do not see these rows: the caller
does what they would have done (intake writes the search document itself, say)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Table, insert

Model = TypeVar("Model")


def insert_row(connection: Connection, model: type[Model], values: dict[str, Any]) -> Model:
    """INSERT one row of `model`, in the caller's transaction: `values`, and for the columns
    not given their scalar default (else NULL). A column with a call-time default (a
    `created_at`) must be given: the instance returned has to hold the value written."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults, call_time = _defaults(table)
    missing = call_time.difference(values)
    if missing:
        raise ValueError(f"{table.name}: give {', '.join(sorted(missing))} (a call-time default)")
    row = defaults | values
    row["id"] = connection.execute(_statement(table), row).scalar_one()
    return model(**row)


# Built once per table: building the statement cost about as much as running it, at every intake.
@lru_cache(maxsize=16)
def _statement(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


@lru_cache(maxsize=16)
def _defaults(table: Table) -> tuple[dict[str, Any], frozenset[str]]:
    """Every column but the id with its scalar default or None, and the columns whose default
    is computed at the time of the INSERT."""
    defaults: dict[str, Any] = {}
    call_time: set[str] = set()
    for column in table.columns:
        if column.primary_key:
            continue
        default = column.default
        scalar = default is not None and default.is_scalar
        defaults[column.name] = default.arg if scalar else None
        if default is not None and not scalar:
            call_time.add(column.name)
    return defaults, frozenset(call_time)


def insert_rows(connection: Connection, model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
    """INSERT many rows of `model` at once (one statement per batch of the driver's, ids
    returned in the order of `rows`), each with the scalar defaults of the columns it does not
    give, as `insert_row` writes one. Nothing comes back but the ids: a batch is history."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults, call_time = _defaults(table)
    filled = []
    for values in rows:
        missing = call_time.difference(values)
        if missing:
            raise ValueError(f"{table.name}: give {', '.join(sorted(missing))} (a call-time default)")
        filled.append(defaults | values)  # every row with every column: one executemany
    return list(connection.execute(_many_statement(table), filled).scalars())


@lru_cache(maxsize=16)
def _many_statement(table: Table) -> Insert:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)
