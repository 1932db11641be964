"""The ticket (工单), its immutable event trail, and its daily number counter."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.category import Category
from hotline.models.department import Department, District
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class Status:
    NEW = "new"
    PENDING_DISPATCH = "pending_dispatch"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting_on_citizen"  # the SLA clock is paused until the citizen answers
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"
    ALL = (NEW, PENDING_DISPATCH, DISPATCHED, IN_PROGRESS, WAITING, RESOLVED, CLOSED, MERGED)
    OPEN = (NEW, PENDING_DISPATCH, DISPATCHED, IN_PROGRESS, WAITING)
    WITH_DEPARTMENT = (DISPATCHED, IN_PROGRESS, WAITING)


TICKET_TYPES = ("consultation", "help", "complaint", "report", "suggestion", "praise")
URGENCIES = ("normal", "urgent")


class Channel(StrEnum):
    """How a ticket came in: the one list of channels. `intake.open_ticket`, the one way a
    ticket is opened, takes any of them and refuses any other; the operator's form, the API
    and Open311 offer those a person names when logging a call (`CHANNELS`); reports and
    their labels (hotline/labels.py) cover them all."""

    PHONE = "phone"
    SMS = "sms"
    WEB = "web"
    VOICEMAIL = "voicemail"
    OPEN311 = "open311"
    API = "api"
    PROACTIVE = "proactive"  # a supervisor's case from a hotspot (未诉先办): services/hotspot_detection/hotspots.py
    MOBILE = "mobile"  # imported history only: an old system's app (services/history_import/importing.py)
    OTHER = "other"  # imported history only: a channel the old system named and Hotline has not


# The channels a person names when logging a call (the operator's form, `POST /api/v1/tickets`):
# the rest are the system's own (a hotspot's case) or an old system's (imported history).
CHANNELS: tuple[str, ...] = tuple(
    channel.value for channel in Channel if channel not in (Channel.PROACTIVE, Channel.MOBILE, Channel.OTHER)
)


class Ticket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW)
    type: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    confidential: Mapped[bool] = mapped_column(default=False)
    caller_phone: Mapped[str] = mapped_column(String(32), index=True)
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    # Units in a tree (issue 17): the unit holding it now when it was sent down (下派) below the
    # unit the city dispatched it to (None: that unit holds it; services/ticketing/tree.py), and the person
    # handling it in the holding unit (承办人). Migration f17a00000010.
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # How the current department was chosen: rule | category_default | suggestion | dispatcher
    routed_by: Mapped[str | None] = mapped_column(String(20))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    # A merged ticket (重复件) points at the ticket that answers for it.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SLA clocks (services/clocks/sla.py): set at dispatch, moved by extensions and pauses.
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_amber_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_amber_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sla_level: Mapped[str] = mapped_column(String(8), default="")  # "", "amber" or "red"
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_days: Mapped[int] = mapped_column(default=0)
    # Contact with the citizen (先联系后办理, issue 17): the first-contact clock, set at dispatch
    # (services/clocks/sla.py), stopped by the first contact that reached the citizen or texted them.
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urge_count: Mapped[int] = mapped_column(default=0)
    # The citizen's rating (回访): satisfied | basically_satisfied | unsatisfied.
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(default=0)
    # Imported history (services/history_import/importing.py): the old system's name and its id for the ticket.
    source: Mapped[str] = mapped_column(String(32), default="", server_default="")
    external_id: Mapped[str | None] = mapped_column(String(64))
    # Where it happened (issue 18, services/city/geo.py): WGS84, null when unknown; `geo_cell` is the
    # point's grid cell, indexed, so that the tickets near a point are read from a few cells.
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    geo_cell: Mapped[int | None] = mapped_column(BigInteger)
    # Optimistic locking: SQLAlchemy adds "AND version = :old" to every UPDATE.
    version: Mapped[int] = mapped_column(default=1)

    category: Mapped[Category] = relationship()
    district: Mapped[District | None] = relationship()
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    # Units in a tree (issue 17)
    holder: Mapped[Department | None] = relationship(foreign_keys=[holder_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    parent: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_ticket_status_created", "status", "created_at"),
        Index("ix_ticket_department_status", "department_id", "status"),
        Index("ix_ticket_status_resolve_amber", "status", "resolve_amber_at"),
        # Reports' "overdue now": open tickets past their deadline, then the days they came in.
        Index("ix_ticket_status_resolve_due_created", "status", "resolve_due_at", "created_at"),
        # Report drill-downs: a group's tickets over a range of days.
        Index("ix_ticket_department_created", "department_id", "created_at"),
        Index("ix_ticket_category_created", "category_id", "created_at"),
        Index("ix_ticket_district_created", "district_id", "created_at"),
        # The intake form's recent categories: an operator's latest tickets. Migration f16b00000110.
        Index("ix_ticket_created_by_created", "created_by_id", "created_at"),
        # Tickets near a point (geo): a few cell ranges, open ones read from the index. Migration f18a00000010.
        Index("ix_ticket_geo_cell_status", "geo_cell", "status"),
        # Imported tickets: one per (old id, source); also finds a ticket by its old id alone.
        Index("uq_ticket_external_id_source", "external_id", "source", unique=True),
        # Search's date filter as id bounds, from the index alone (PostgreSQL only: SQLite's
        # index on created_at holds the rowid already). Migration a7f1c0de0006.
        Index("ix_ticket_created_id", "created_at", "id").ddl_if(dialect="postgresql"),
        # The ticket list's number search by prefix, a byte-wise range (listing.starts_with);
        # SQLite's unique index on number serves it already. Migration f16b00000160.
        Index("ix_ticket_number_pattern", "number", postgresql_ops={"number": "text_pattern_ops"}).ddl_if(
            dialect="postgresql"
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in Status.OPEN

    @property
    def is_direct_answer(self) -> bool:
        """Answered by the hotline at intake (直接办结): closed, never sent to a department, not
        imported history (the reports' definition, services/reporting/report_figures.py)."""
        return (
            self.status == Status.CLOSED
            and self.dispatched_at is None
            and self.department_id is None
            and not self.source
        )

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"


class TicketEvent(db.Model):
    """One entry of a ticket's audit trail: written once, never changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_ticket_event_kind_ticket", "kind", "ticket_id"),)


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _events_are_immutable(mapper, connection, target: TicketEvent) -> None:
    raise RuntimeError("ticket events are an audit trail and cannot be changed")


class TicketCounter(db.Model):
    """The last sequence number handed out per day, for `YYYYMMDD-NNNNNN` numbers."""

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
