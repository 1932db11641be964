"""A small geography for the test city (tests/factories.make_city): two square districts side by
side, east and west, and a few gazetteer places, loaded through the same loaders as the CLI."""

from __future__ import annotations

import io
import json

from hotline.services.city import geo_files


def square(long0: float, lat0: float, long1: float, lat1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[long0, lat0], [long1, lat0], [long1, lat1], [long0, lat1], [long0, lat0]]],
    }


def feature(code: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": code}, "geometry": geometry}


DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        feature("east", square(116.40, 39.90, 116.42, 39.92)),
        feature("west", square(116.38, 39.90, 116.40, 39.92)),
    ],
}
PLACES = """name,kind,lat,long,district,unit
人民路,road,39.9100,116.4100,east,roads
东湖社区,community,39.9150,116.4150,east,
西单广场,landmark,39.9050,116.3850,west,
"""
# A point in the east district, on 人民路.
EAST = (39.9100, 116.4100)
WEST = (39.9050, 116.3850)
OUTSIDE = (31.2304, 121.4737)  # Shanghai: no district of this city


def load(districts: dict | None = None, places: str | None = None) -> None:
    result = geo_files.load_districts(io.StringIO(json.dumps(districts or DISTRICTS)))
    assert not result.errors, result.errors
    result = geo_files.load_places(io.StringIO(places or PLACES))
    assert not result.errors, result.errors
