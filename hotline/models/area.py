"""Areas that supervisors draw on their map (issue 18 item 4): a named polygon, with its bounding
box so that the tickets inside it are read from a few index ranges before the exact test."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class HotspotArea(db.Model):
    """A hotspot's area (热点区域): a GeoJSON Polygon (WGS84, [long, lat] pairs, one ring)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_lat: Mapped[float] = mapped_column(Float)
    min_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<HotspotArea {self.id} {self.name}>"
