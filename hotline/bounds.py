"""Numbers read from addresses, bounded where they are parsed: ids in paths and whole numbers in
query strings. An id past 32 bits makes PostgreSQL raise NumericValueOutOfRange (the ids are
Integer columns), past 64 bits SQLite raises OverflowError, and past 4,300 digits Python's int()
refuses to convert at all: each a 500 that a typo in an address must never cause.

Path ids go through the app's `int` converter (`IdConverter`): out of range, no route matches
and the answer is the app's 404. Query parameters go through `whole_number`; the pages read
them leniently (`hotline.web.paging`), the API and Open311 refuse a bad one with a 400.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, ValidationError

MAX_ID = 2**31 - 1  # the largest id the tables hold: Integer, 32 bits on PostgreSQL
MAX_DIGITS = 9  # a page number or a count longer than this is a typo (or a probe)
MAX_PAGE = 100_000  # the lists' last page number: past it, an OFFSET scans for nothing


class IdConverter(IntegerConverter):
    """The app's `int` converter: an id a table may hold, else no route matches (404)."""

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if not value.isascii() or len(value) > len(str(MAX_ID)) + 1:  # before int() chews on it
            raise ValidationError()
        return super().to_python(value)


def whole_number(raw: str | None, max_digits: int = MAX_DIGITS) -> int | None:
    """`raw` as a whole number of ASCII digits (no sign, no spaces, at most `max_digits`), else None."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > max_digits:
        return None
    return int(raw)


def id_number(raw: str | None) -> int | None:
    """`raw` as an id a table may hold (1 to MAX_ID), else None: no such row."""
    value = whole_number(raw, max_digits=len(str(MAX_ID)))
    return value if value is not None and 0 < value <= MAX_ID else None


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: their `<int:...>` rules take the converter then."""
    app.url_map.converters["int"] = IdConverter
