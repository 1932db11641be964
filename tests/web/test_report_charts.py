"""The dashboard's trend charts (web/report_charts.py): drawn once for the same figures, since
a supervisor's dashboard is redrawn on every visit while its figures change once a minute."""

from __future__ import annotations

import re

from hotline.web import report_charts


def _drawing(svg: str) -> str:
    return re.sub(r"chart-[0-9a-f-]{36}", "chart", str(svg))  # each drawing has its own id


def test_the_same_figures_draw_the_same_chart_once_and_a_changed_figure_anew(app, monkeypatch):
    labels = ["12-01", "12-02"]
    with app.test_request_context("/"):
        first = report_charts._chart("收到与办结", labels, [("收到", [3.0, 4.0])])
        again = report_charts._chart("收到与办结", labels, [("收到", [3.0, 4.0])])
        changed = report_charts._chart("收到与办结", labels, [("收到", [3.0, 5.0])])
        renamed = report_charts._chart("收到与办结：东城区", labels, [("收到", [3.0, 4.0])])
        monkeypatch.setattr(report_charts, "_DRAWN", report_charts.OrderedDict())
        fresh = report_charts._chart("收到与办结", labels, [("收到", [3.0, 4.0])])
    assert again is first  # not drawn again
    assert _drawing(fresh) == _drawing(first)  # what drawing it again would give
    assert _drawing(changed) != _drawing(first)
    assert "东城区" in renamed and "东城区" not in first


def test_the_drawn_charts_are_bounded(app, monkeypatch):
    monkeypatch.setattr(report_charts, "_DRAWN_MAX", 3)
    monkeypatch.setattr(report_charts, "_DRAWN", report_charts.OrderedDict())
    with app.test_request_context("/"):
        for n in range(6):
            report_charts._chart(f"chart {n}", ["12-01"], [("收到", [float(n)])])
    assert len(report_charts._DRAWN) == 3
