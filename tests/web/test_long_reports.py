"""The figures' page over ten years (the data and the Python computation: tests/services/test_long_reports.py)."""

from __future__ import annotations

from tests.services.test_long_reports import FIRST, LAST, _expected, decade  # noqa: F401 (a fixture)
from tests.web.conftest import text_of
from tests.web.test_reports import rows


def test_the_page_shows_ten_years_per_month(decade, login, city):  # noqa: F811
    client = login(city.supervisor)
    html = text_of(client.get(f"/reports/response-times?from={FIRST}&to={LAST}&group_by=department"))
    expected = _expected(decade, FIRST, LAST, None, "department")
    for (_first, key), figures in expected.items():
        assert rows(html, "data-department", key)["received"] == str(figures["received"]), key
    assert "Choose at most" not in html
    html = text_of(client.get(f"/reports/response-times?from={FIRST}&to={LAST}&trend=day"))
    assert "A daily trend covers at most 366 days" in html
