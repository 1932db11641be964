"""`flask --app hotline hotspots detect`: what the hourly job does, on demand."""

from __future__ import annotations

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Hotspot
from hotline.models.types import utcnow
from tests.services.test_hotspots import NOISE, log


def test_detect_prints_each_window_and_its_largest_hotspots(runner, city) -> None:
    log(city, NOISE, "east", at=utcnow())
    result = runner.invoke(args=["hotspots", "detect", "--window", "week"])
    assert result.exit_code == 0, result.output
    (hotspot,) = db.session.scalars(select(Hotspot)).all()
    assert hotspot.window_kind == "week"
    assert result.output.startswith("week: 5 tickets, 1 groups, 1 hotspots kept (1 new, 0 updated, 0 removed)")
    assert f"     5     new  {hotspot.label}" in result.output


def test_an_unknown_window_is_refused(runner, city) -> None:
    result = runner.invoke(args=["hotspots", "detect", "--window", "year"])
    assert result.exit_code == 2 and "'year' is not one of 'day', 'week', 'month'" in result.output
