"""`flask geo load-districts|load-places`: the city's district outlines and gazetteer from files
(issue 18); a file with any error loads nothing and lists each error with its place."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import DistrictArea, Place
from tests import geo_city


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_load_districts_then_places(invoke, city, tmp_path: Path):
    districts = tmp_path / "districts.geojson"
    districts.write_text(json.dumps(geo_city.DISTRICTS, ensure_ascii=False), encoding="utf-8")
    places = tmp_path / "places.csv"
    places.write_text("\ufeff" + geo_city.PLACES, encoding="utf-8")
    result = invoke("geo", "load-districts", str(districts))
    assert result.exit_code == 0, result.output
    assert "district outlines: 2 created, 0 updated" in result.output
    result = invoke("geo", "load-places", str(places))
    assert result.exit_code == 0, result.output
    assert "places: 3 created, 0 updated" in result.output
    assert (_count(DistrictArea), _count(Place)) == (2, 3)


def test_a_bad_file_loads_nothing_and_says_where(invoke, city, tmp_path: Path):
    places = tmp_path / "places.csv"
    places.write_text(geo_city.PLACES + "断路,road,39.91,,east,\n", encoding="utf-8")
    result = invoke("geo", "load-places", str(places))
    assert result.exit_code != 0
    assert "line 5: lat “39.91” and long “” must be numbers" in result.output
    assert "1 error(s): nothing was loaded" in result.output
    districts = tmp_path / "districts.geojson"
    districts.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}', encoding="utf-8")
    result = invoke("geo", "load-districts", str(districts))
    assert result.exit_code != 0 and "feature 1: properties.code" in result.output
    assert (_count(DistrictArea), _count(Place)) == (0, 0)
