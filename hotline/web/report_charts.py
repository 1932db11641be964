"""Trend charts for the reports dashboard: pygal SVG made on the server and inlined in the
page, with no script (pygal's tooltips would load JavaScript from its CDN; the page must
work with local files only). Every chart also has its figures in a table beside it."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict

import pygal
from flask_babel import gettext as _
from markupsafe import Markup
from pygal.style import Style

from hotline.web.report_views import Trend

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    font_family='system-ui, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
    value_font_size=10,
    no_data_font_size=16,
    # Bootstrap's primary, success, warning, danger, info, secondary, and two more.
    colors=("#0d6efd", "#198754", "#fd7e14", "#dc3545", "#0dcaf0", "#6c757d", "#6f42c1", "#20c997"),
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
MAX_X_LABELS = 12
MAX_DOTTED = 14


Series = list[tuple[str, list[float | None]]]
# The same figures make the same chart: a supervisor's dashboard is redrawn on every visit,
# while its figures change once a minute at most. Keyed by everything drawn (the words are
# translated already), so a changed figure is a new chart; the oldest are dropped.
_DRAWN: OrderedDict[tuple, Markup] = OrderedDict()
_DRAWN_MAX = 64
_DRAWN_LOCK = threading.Lock()


def _chart(title: str, labels: list[str], series: Series, percent: bool = False) -> Markup:
    """The chart of these series over these period labels, drawn once for the same figures."""
    no_data = _("No tickets in this period")
    key = (title, tuple(labels), tuple((name, tuple(values)) for name, values in series), percent, no_data)
    with _DRAWN_LOCK:
        drawn = _DRAWN.get(key)
        if drawn is not None:
            _DRAWN.move_to_end(key)
            return drawn
    drawn = _render(_draw(title, labels, series, percent, no_data))
    with _DRAWN_LOCK:
        _DRAWN[key] = drawn
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return drawn


def _draw(title: str, labels: list[str], series: Series, percent: bool, no_data: str) -> pygal.Line:
    chart = pygal.Line(
        style=STYLE,
        js=[],  # no pygal.js from a CDN
        width=640,
        height=300,
        title=title,
        x_label_rotation=0,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        allow_interruptions=True,  # a period without figures is a gap, not a line to zero
        dots_size=2,
        # Dots make a lone point visible between gaps, but cost most of the drawing time:
        # only on short trends, where they matter.
        show_dots=len(labels) <= MAX_DOTTED,
        margin=8,
        margin_bottom=30,  # room for a second row of legend
        truncate_legend=-1,
        truncate_label=-1,
        no_data_text=no_data,
    )
    chart.x_labels = labels
    chart.x_labels_major_every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    if percent:
        chart.range = (0, 100)
        chart.value_formatter = lambda v: f"{v:.0f}%"
    for name, values in series:
        chart.add(name, values)
    return chart


def _render(chart: pygal.Line) -> Markup:
    svg = chart.render(is_unicode=True, disable_xml_declaration=True)
    # Labels come from the database; pygal writes them through ElementTree, which escapes them.
    return Markup(_SCRIPT.sub("", svg))  # noqa: S704


def _has_data(series: list[list[float | None]]) -> bool:
    return any(v for values in series for v in values)


def received_resolved(trend: Trend, name: str) -> Markup:
    series = [trend.values("received"), trend.values("resolved")]
    drawn: Series = [(_("Received"), series[0]), (_("Resolved"), series[1])] if _has_data(series) else []
    return _chart(_("Received and resolved: %(name)s", name=name), trend.labels, drawn)


def resolve_times(trend: Trend, name: str) -> Markup:
    series = [trend.values("resolve_p50_hours"), trend.values("resolve_p90_hours")]
    drawn: Series = []
    if any(v is not None for values in series for v in values):
        drawn = [(_("Median"), series[0]), (_("90th percentile"), series[1])]
    return _chart(_("Time to resolve (hours): %(name)s", name=name), trend.labels, drawn)


def rates(trend: Trend, name: str) -> Markup:
    series = {
        _("Response rate"): trend.values("response_rate", 100),
        _("Resolution rate"): trend.values("resolution_rate", 100),
        _("Resolved on time"): trend.values("resolved_on_time_rate", 100),
        _("Satisfaction"): trend.values("satisfaction_rate", 100),
    }
    drawn: Series = []
    if any(v is not None for values in series.values() for v in values):
        drawn = list(series.items())
    return _chart(_("Rates: %(name)s", name=name), trend.labels, drawn, percent=True)


def worst_on_time(trends: list[tuple[str, Trend]]) -> Markup:
    if not trends:
        return Markup("")
    drawn: Series = [(name, trend.values("resolved_on_time_rate", 100)) for name, trend in trends]
    return _chart(_("Resolved on time: the lowest-ranked departments"), trends[0][1].labels, drawn, percent=True)
