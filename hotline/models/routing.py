"""The dispatch catalogue (派单目录): routing rules, assisting departments, return reasons and requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.category import Category
from hotline.models.department import Department, District
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User

rule_assisting = Table(
    "routing_rule_assisting",
    db.metadata,
    Column("rule_id", ForeignKey("routing_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class RoutingRule(db.Model):
    """If every condition given holds, the ticket goes to `department` (主办), with `assisting` (协办).

    Rules are tried by ascending priority; the first that matches wins. Keywords
    match when any one of them occurs in the description (substrings: Chinese
    has no spaces between words).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(default=100, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    type: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(10))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # geo (issue 18): the unit that handles the gazetteer place where the ticket happened (the
    # street office, 街道), as services/city/where.py finds it from the point. Migration f19d00000010.
    place_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    place_department: Mapped[Department | None] = relationship(foreign_keys=[place_department_id])
    assisting: Mapped[list[Department]] = relationship(secondary=rule_assisting, order_by=Department.code)

    def __repr__(self) -> str:
        return f"<RoutingRule {self.id} p{self.priority} → {self.department_id}>"


class TicketAssist(db.Model):
    """An assisting department (协办) on a ticket: it sees the ticket, adds its part, marks it done."""

    OPEN, DONE = "open", "done"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    reply: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()

    __table_args__ = (UniqueConstraint("ticket_id", "department_id", name="uq_ticket_assist_ticket_department"),)


class ReturnReason(db.Model):
    """The configurable list of reasons a department may give for returning a ticket (退单)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)


class ReturnRequest(db.Model):
    """A return asked for after the return window: it waits for a supervisor's decision."""

    PENDING, APPROVED, REFUSED = "pending", "approved", "refused"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    department: Mapped[Department] = relationship()


class RoutingOutcome(db.Model):
    """Each time a ticket left the routing that sent it (a return or a reassignment), counted
    against that routing: the rule, the category default, a suggestion or a dispatcher.
    The misrouting report reads this table."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # returned | reassigned
    routed_by: Mapped[str] = mapped_column(String(20))  # rule | category_default | suggestion | dispatcher
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_routing_outcome_rule", "rule_id"), Index("ix_routing_outcome_category", "category_id"))
