"""`export_cells`: the one rule every CSV and XLSX export writes its cells through."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from hotline.services.platform.export_cells import CsvWriter, neutral, restored, xlsx_cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_string_that_begins_a_formula_is_made_text(start):
    text = f"{start}1+1"
    assert neutral(text) == "'" + text
    assert restored(neutral(text)) == text


@pytest.mark.parametrize("text", ["'=1+1", "''-1"])
def test_a_quote_already_in_front_still_round_trips(text):
    assert neutral(text) == "'" + text
    assert restored(neutral(text)) == text


@pytest.mark.parametrize("value", ["道路管理局", "a=b", "'quoted", "'", "", None, -3, -2.5, 0, datetime(2026, 11, 3)])
def test_everything_else_is_left_as_it_is(value):
    assert neutral(value) == value
    if isinstance(value, str):
        assert restored(value) == value


def test_csv_writer():
    out = io.StringIO()
    CsvWriter(out, lineterminator="\n").writerows([["=1+1", -2.5, "@x", "ok"]])
    assert out.getvalue() == "'=1+1,-2.5,'@x,ok\n"


def test_xlsx_cells_are_typed():
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("s")
    sheet.append([xlsx_cell(sheet, v) for v in ["=1+1", "#N/A", -2.5, None, "ok"]])
    sheet.append([xlsx_cell(sheet, -0.25, "0.0%")])
    out = io.BytesIO()
    workbook.save(out)
    first, second = load_workbook(io.BytesIO(out.getvalue()))["s"].iter_rows()
    assert [(c.value, c.data_type) for c in first[:3]] == [("'=1+1", "s"), ("#N/A", "s"), (-2.5, "n")]
    assert first[3].value is None and first[4].value == "ok"
    assert (second[0].value, second[0].data_type, second[0].number_format) == (-0.25, "n", "0.0%")
