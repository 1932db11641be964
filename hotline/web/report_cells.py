"""The figures of the reports dashboard's tables, written in Python rather than by a Jinja
macro: a month by department is some 900 cells (a month by category many thousands), and
the macro's call, its nested macros and its translated title per cell were half the page's
time. The same HTML as the macro it replaces (templates/reports/_figures.html `cell`)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from hotline.web.formatting import number, percent
from hotline.web.report_views import Column


def drill_href(span_args: dict, group_by: str, key: str, measure: str) -> str:
    """The drill-down link behind one figure. url_for runs once per row (group and key), not
    once per cell: a month by category has thousands of figures, and url_for was a fifth of
    the page's time."""
    cache = request.__dict__.setdefault("_hotline_drill_hrefs", {})
    row = (tuple(sorted(span_args.items())), group_by, key)
    base = cache.get(row)
    if base is None:
        base = cache[row] = url_for("reports.tickets", group_by=group_by, key=key, measure="MEASURE", **span_args)
    return base.replace("measure=MEASURE", f"measure={measure}")


def shown(value: Any, kind: str) -> str:
    """A figure as the tables and cards show it (the `show` macro)."""
    if kind == "count":
        return "—" if value is None else str(value)
    if kind == "rate":
        return percent(value)
    return number(value)


def _title(column: Column) -> str:
    """The link's title, translated once per column and request rather than once per cell."""
    cache = request.__dict__.setdefault("_hotline_cell_titles", {})
    title = cache.get(column.name)
    if title is None:
        title = cache[column.name] = _("List %(what)s", what=column.hint) if column.hint else _("List these tickets")
    return title


def figure_cell(row: Any, column: Column, span_args: dict, extra_class: str = "") -> Markup:
    """A figure in a table cell; counts and rates link to the tickets behind them."""
    value = getattr(row, column.name) if row else (0 if column.kind == "count" else None)
    classes = "text-end text-nowrap"
    if extra_class:
        classes += f" {extra_class}"
    if column.name == "overdue_open" and value:
        classes += " text-danger fw-semibold"
    # Every part escaped here; str.format through Markup.format cost more than the macro.
    text = escape(shown(value, column.kind))
    if column.measure and row and value:
        href = escape(drill_href(span_args, row.group_by, row.key, column.measure))
        text = f'<a class="figure-link" href="{href}"\n       title="{escape(_title(column))}">{text}</a>'
    return Markup(f'<td class="{escape(classes)}" data-col="{escape(column.name)}">{text}</td>')  # noqa: S704
