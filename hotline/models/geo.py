"""The city's geography (issue 18): district polygons and a gazetteer of places, loaded by an
administrator (`flask --app hotline geo load-districts|load-places`, services/city/geo_files.py) so
that a point gives its district, and an address typed at intake gives a point, offline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.department import Department, District


class DistrictArea(db.Model):
    """A district's outline: a GeoJSON Polygon or MultiPolygon (WGS84, [long, lat] pairs), with
    its bounding box so that finding a point's district reads only the few boxes around it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), unique=True)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_lat: Mapped[float] = mapped_column(Float)
    min_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)

    district: Mapped[District] = relationship()


class PlaceKind:
    ROAD = "road"
    COMMUNITY = "community"
    LANDMARK = "landmark"
    ALL = (ROAD, COMMUNITY, LANDMARK)


class Place(db.Model):
    """One entry of the gazetteer (地名库): a road, community or landmark with its point, its
    district and the unit that handles it (the street office, 街道), if known."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    lat: Mapped[float] = mapped_column(Float)
    long: Mapped[float] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    district: Mapped[District | None] = relationship()
    department: Mapped[Department | None] = relationship()

    __table_args__ = (Index("uq_place_name_kind", "name", "kind", unique=True),)
