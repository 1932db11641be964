"""The supervisors' page of the phone line's figures (接通率): a table per hour, day or operator
with the totals, its definitions, and clear errors."""

from __future__ import annotations

import pytest

from tests.call_log import RANGE, build_known_log


@pytest.fixture
def known_log(city, app, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    return build_known_log(city)


class TestPage:
    def test_the_table_by_hour_with_its_totals(self, known_log, city, login):
        client = login(city.supervisor)
        client.post("/locale", data={"locale": "zh_CN"})
        page = client.get(f"/reports/calls?{RANGE}&group_by=hour")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'data-key="2026-11-25T10:00"' in html and 'data-key="total"' in html
        assert "57.1%" in html and "42.9%" in html  # the totals' answer rate and within-15 s rate
        assert "接通率" in html and "放弃呼叫" in html

    def test_by_operator_names_them(self, known_log, city, login):
        html = login(city.supervisor).get(f"/reports/calls?{RANGE}&group_by=operator").get_data(as_text=True)
        assert 'data-key="operator2"' in html and 'data-key=""' in html

    def test_bad_parameters_are_refused_clearly(self, city, login):
        client = login(city.supervisor)
        page = client.get("/reports/calls?group_by=week")
        assert page.status_code == 400 and "“week” is not one of: day, hour, operator" in page.get_data(as_text=True)
        page = client.get("/reports/calls?from=2026-11-26&to=2026-11-25")
        assert page.status_code == 400 and "The start date is after the end date." in page.get_data(as_text=True)

    def test_operators_may_not_see_it(self, city, login):
        assert login(city.operator).get("/reports/calls").status_code == 403
