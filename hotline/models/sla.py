"""SLA policies per category and urgency, extension requests, and notices to staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.category import Category
from hotline.models.department import Department
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User

ACCEPT_UNITS = ("working_hours", "calendar_minutes")
RESOLVE_UNITS = ("working_days", "calendar_hours")


class SlaPolicy(db.Model):
    """Time limits for a category (and the categories below it) and an urgency.

    A policy with no category is the hotline-wide default for that urgency.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    urgency: Mapped[str] = mapped_column(String(10))
    accept_amount: Mapped[int]
    accept_unit: Mapped[str] = mapped_column(String(20))
    resolve_amount: Mapped[int]
    resolve_unit: Mapped[str] = mapped_column(String(20))
    return_window_days: Mapped[int] = mapped_column(default=2)
    max_extension_days: Mapped[int] = mapped_column(default=10)
    # First contact with the citizen (issue 17), in the accept clock's units; None: the default.
    contact_amount: Mapped[int | None] = mapped_column()
    contact_unit: Mapped[str | None] = mapped_column(String(20))

    category: Mapped[Category | None] = relationship()

    __table_args__ = (UniqueConstraint("category_id", "urgency", name="uq_sla_policy_category_urgency"),)


class ExtensionRequest(db.Model):
    """延期: a department asks for more working days; a supervisor decides."""

    PENDING, APPROVED, REFUSED = "pending", "approved", "refused"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Notice(db.Model):
    """A message to a department's staff or to everyone with a role, shown from `show_from`.

    `show_from` is the next office time, so that what falls due at night is
    announced when the office opens rather than at midnight.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    role: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    show_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()

    __table_args__ = (
        Index("ix_notice_department_show", "department_id", "show_from"),
        Index("ix_notice_role_show", "role", "show_from"),
    )
