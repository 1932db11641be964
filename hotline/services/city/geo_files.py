"""The city's geography as files an administrator loads (issue 18), checked whole before
anything is stored, every error listed with its place in the file, as the directory file
(services/city/directory_file.py): a map half loaded would put tickets in the wrong district.

- Districts: a GeoJSON FeatureCollection, one Feature per district, its Polygon or
  MultiPolygon in WGS84 and `properties.code` naming a district of the directory. A district
  loaded again has its outline replaced.
- Places (the gazetteer): CSV with the columns name, kind (road, community or landmark), lat,
  long, district (a code, optional) and unit (the handling unit's department code, optional).
  A place is known by its name and kind: loaded again, its point, district and unit are updated.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from typing import Any, TextIO

from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, District, DistrictArea, Place, PlaceKind
from hotline.services.platform.export_cells import restored

PLACE_COLUMNS = ("name", "kind", "lat", "long", "district", "unit")
PLACE_REQUIRED = ("name", "kind", "lat", "long")
NAME_MAX = 200


@dataclass
class GeoLoadResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def load_districts(stream: TextIO) -> GeoLoadResult:
    """Store each feature's outline for its district, or nothing if any feature is wrong."""
    result = GeoLoadResult()
    try:
        document = json.load(stream)
    except json.JSONDecodeError as error:
        result.errors.append(f"line {error.lineno}: not JSON ({error.msg})")
        return result
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(features, list):
        result.errors.append("the file must be a GeoJSON FeatureCollection with a list of features")
        return result
    districts = {row.code: row for row in db.session.scalars(select(District))}
    outlines: dict[int, tuple[dict[str, Any], tuple[float, float, float, float]]] = {}
    seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        problem, code, geometry = _feature_problem(feature, districts)
        if problem is None and code in seen:
            problem = f"district “{code}” is already feature {seen[code]}"
        if problem is not None:
            result.errors.append(f"feature {number}: {problem}")
            continue
        seen[code] = number
        outlines[districts[code].id] = geometry
    if result.errors:
        return result
    existing = {area.district_id: area for area in db.session.scalars(select(DistrictArea))}
    for district_id, (geometry, (min_long, min_lat, max_long, max_lat)) in outlines.items():
        values = {
            "geometry": geometry,
            "min_lat": min_lat,
            "min_long": min_long,
            "max_lat": max_lat,
            "max_long": max_long,
        }
        _store(existing.get(district_id), DistrictArea, {"district_id": district_id}, values, result)
    db.session.commit()
    return result


def _store(row: Any, model: type, key: dict[str, Any], values: dict[str, Any], result: GeoLoadResult) -> None:
    """Create the row (known by `key`) or update the one there, counting which."""
    if row is None:
        db.session.add(model(**key, **values))
        result.created += 1
        return
    for name, value in values.items():
        setattr(row, name, value)
    result.updated += 1


def _feature_problem(
    feature: Any, districts: dict[str, District]
) -> tuple[str | None, str, tuple[dict[str, Any], tuple[float, float, float, float]]]:
    none: Any = None
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return "not a GeoJSON Feature", "", none
    properties = feature.get("properties") or {}
    code = str(properties.get("code") or "").strip().lower() if isinstance(properties, dict) else ""
    if not code:
        return "properties.code (the district's code) is missing", "", none
    if code not in districts:
        return f"district “{code}” is not in the directory (load it with `directory load` first)", code, none
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "the geometry must be a Polygon or MultiPolygon", code, none
    try:
        outline = shape(geometry)
    except Exception as error:  # noqa: BLE001 (shapely raises many kinds for broken coordinates)
        return f"the coordinates do not make a polygon ({error})", code, none
    if outline.is_empty:
        return "the polygon is empty", code, none
    if not outline.is_valid:
        return f"the polygon is not valid ({explain_validity(outline)})", code, none
    min_long, min_lat, max_long, max_lat = outline.bounds
    if not (-180 <= min_long <= max_long <= 180 and -90 <= min_lat <= max_lat <= 90):
        return "coordinates must be [long, lat] in WGS84 (long -180 to 180, lat -90 to 90)", code, none
    return None, code, (geometry, outline.bounds)


def load_places(stream: TextIO) -> GeoLoadResult:
    """Create or update each place of the gazetteer, or nothing if any line is wrong."""
    result = GeoLoadResult()
    reader = csv.DictReader(stream)
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in PLACE_REQUIRED if name not in header]
    if missing:
        result.errors.append(
            f"line 1: the header needs the columns {', '.join(PLACE_REQUIRED)} (missing: {', '.join(missing)})"
        )
        return result
    reader.fieldnames = header
    districts = {row.code: row.id for row in db.session.scalars(select(District))}
    units = {row.code: row.id for row in db.session.scalars(select(Department))}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    lines: dict[tuple[str, str], int] = {}
    for row in reader:
        values = {name: (row.get(name) or "").strip() for name in PLACE_COLUMNS}
        if not any(values.values()):
            continue  # a blank line
        line = reader.line_num
        problem, place = _place_problem(values, districts, units)
        key = (place.get("name", ""), place.get("kind", ""))
        if problem is None and key in lines:
            problem = f"{key[1]} “{key[0]}” is already on line {lines[key]}"
        if problem is not None:
            result.errors.append(f"line {line}: {problem}")
            continue
        lines[key] = line
        rows[key] = place
    if result.errors:
        return result
    existing = {(place.name, place.kind): place for place in db.session.scalars(select(Place))}
    for key, values in rows.items():
        _store(existing.get(key), Place, {}, values, result)
    db.session.commit()
    return result


def _place_problem(
    values: dict[str, str], districts: dict[str, int], units: dict[str, int]
) -> tuple[str | None, dict[str, Any]]:
    name = restored(values["name"])
    kind = values["kind"].lower()
    place: dict[str, Any] = {"name": name, "kind": kind}
    if not name:
        return "the name is empty", place
    if len(name) > NAME_MAX:
        return f"the name is longer than {NAME_MAX} characters", place
    if kind not in PlaceKind.ALL:
        return f"kind “{values['kind']}” is not one of: {', '.join(PlaceKind.ALL)}", place
    try:
        lat, long = float(values["lat"]), float(values["long"])
    except ValueError:
        return f"lat “{values['lat']}” and long “{values['long']}” must be numbers", place
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        return f"lat {values['lat']} is not from -90 to 90", place
    if not (math.isfinite(long) and -180 <= long <= 180):
        return f"long {values['long']} is not from -180 to 180", place
    district, unit = values["district"].lower(), values["unit"].lower()
    if district and district not in districts:
        return f"district “{district}” is not in the directory", place
    if unit and unit not in units:
        return f"unit “{unit}” is not a department of the directory", place
    place |= {
        "lat": lat,
        "long": long,
        "district_id": districts.get(district),
        "department_id": units.get(unit),
    }
    return None, place
