"""The duty rota (值班表) of each unit and of the supervisors, and the alerts it drives.

A unit's rota is a weekly pattern (`DutyPattern`: on working days 18:00-09:00, on rest days
all day, by the holiday calendar) and dated shifts (`DutyShift`) that override it. Rows with
no department are the supervisors' rota (the supervisor on duty). `DutyAlert` follows one
urgent ticket that reached a unit out of office hours through its escalation steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.department import Department
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User

if TYPE_CHECKING:
    from hotline.models.ticket import Ticket


class DutyPattern(db.Model):
    """A weekly rule: on `day_kind` days ("workday" or "restday", by the calendar), `user` is on
    duty from `starts` to `ends` (local "HH:MM"; an end at or before the start runs into the
    next day, so "18:00"-"09:00" is a night)."""

    WORKDAY, RESTDAY = "workday", "restday"
    DAY_KINDS = (WORKDAY, RESTDAY)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    day_kind: Mapped[str] = mapped_column(String(10))
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))

    department: Mapped[Department | None] = relationship()
    user: Mapped[User] = relationship()


class DutyShift(db.Model):
    """A dated shift: `user` on duty from `starts_at` to `ends_at` (UTC); it overrides the pattern."""

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_duty_shift_department_starts", "department_id", "starts_at"),)


class DutyContact(db.Model):
    """The number that reaches a member of staff when on duty (texts and calls)."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))


class DutyAlert(db.Model):
    """An urgent ticket that reached a unit out of hours: `step` is the next escalation step
    (an index into HOTLINE_DUTY_STEPS), due at `next_at`; `status` active, stopped (accepted,
    or moved elsewhere) or done (every step taken)."""

    ACTIVE, STOPPED, DONE = "active", "stopped", "done"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step: Mapped[int] = mapped_column(default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE)

    ticket: Mapped[Ticket] = relationship()

    __table_args__ = (
        UniqueConstraint("ticket_id", "department_id", "reached_at", name="uq_duty_alert_reach"),
        Index("ix_duty_alert_due", "status", "next_at"),
    )
