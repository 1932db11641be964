"""Hotspots (热点): the same problem reported again and again in the same place, found by the
periodic detection (`services.hotspot_detection.hotspots`) so that supervisors can act before the next call (未诉先办)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.department import Department, District
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class HotspotWindow:
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = (DAY, WEEK, MONTH)


class HotspotStatus:
    OPEN = "open"
    ASSIGNED = "assigned"  # a proactive case went to a department
    DISMISSED = "dismissed"  # a supervisor judged it no pattern worth acting on
    ALL = (OPEN, ASSIGNED, DISMISSED)


class Hotspot(db.Model):
    """One group of similar tickets in one window kind. A later run that finds the same group
    again (shared tickets, or the same terms in the same district) updates this row, so that
    its name, followers and assignment survive the hourly re-detection."""

    id: Mapped[int] = mapped_column(primary_key=True)
    window_kind: Mapped[str] = mapped_column(String(8))  # day | week | month
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(200))  # the top terms, as the detection found them
    name: Mapped[str] = mapped_column(String(200), default="")  # given by a supervisor
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id", ondelete="SET NULL"))
    ticket_count: Mapped[int] = mapped_column(default=0)
    previous_count: Mapped[int] = mapped_column(default=0)  # the window of the same length before
    growth: Mapped[float | None] = mapped_column(Float)  # (count - previous) / previous; None: new
    # [[code, count], ...] most first: who has the tickets now, and what they were filed under.
    departments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The centroid's heaviest terms, {term: weight}: the label and the match with the next run.
    terms: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    signature: Mapped[str] = mapped_column(String(40), index=True)  # window, district, top terms
    active: Mapped[bool] = mapped_column(default=True)  # found by the latest run of its window
    status: Mapped[str] = mapped_column(String(12), default=HotspotStatus.OPEN)
    assigned_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    proactive_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District | None] = relationship()
    assigned_department: Mapped[Department | None] = relationship()
    proactive_ticket: Mapped[Ticket | None] = relationship()
    assigned_by: Mapped[User | None] = relationship()
    followers: Mapped[list[HotspotFollower]] = relationship(
        back_populates="hotspot", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index("ix_hotspot_window_active_count", "window_kind", "active", "ticket_count"),)

    @property
    def title(self) -> str:
        return self.name or self.label

    def followed_by(self, user: User) -> bool:
        return any(f.user_id == user.id for f in self.followers)

    def __repr__(self) -> str:
        return f"<Hotspot {self.id} {self.window_kind} {self.label!r} {self.ticket_count}>"


class HotspotTicket(db.Model):
    """A ticket behind a hotspot (as of the latest run that found it)."""

    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspot.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, index=True)


class HotspotFollower(db.Model):
    """A supervisor who follows a hotspot (关注): it is listed first for them."""

    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspot.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hotspot: Mapped[Hotspot] = relationship(back_populates="followers")
    user: Mapped[User] = relationship()
