"""The citizen's own web reports (网上留言, issue 18): the phone codes that prove a number, and
what a report adds to its ticket (the plain-words topic, and whether it may go on the public board)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow


class PhoneCode(db.Model):
    """A code sent by text to prove a phone: stored hashed (HMAC with the app's secret), valid a
    few minutes, a few tries."""

    __tablename__ = "phone_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebReport(db.Model):
    """A ticket a citizen opened on /report: its topic and the citizen's consent to the board."""

    __tablename__ = "web_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    topic: Mapped[str] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
