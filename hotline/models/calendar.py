"""The holiday calendar: statutory holidays and make-up workdays (调休), correctable by administrators.

Only exceptions are stored: a weekday that is off, a weekend day that is worked.
A year counts as known once its holiday list is loaded (`CalendarYear`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class CalendarDay(db.Model):
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    off: Mapped[bool]
    name: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(40), default="admin")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<CalendarDay {self.day} {'off' if self.off else 'work'}>"


class CalendarYear(db.Model):
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(40))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
