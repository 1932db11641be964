"""Units in a tree (issue 17): the chain of units a ticket is sent down (下派) through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.department import Department
from hotline.models.types import UTCDateTime, utcnow


class HoldOutcome:
    """How a hold ended (None while it lasts)."""

    REPLIED = "replied"  # the unit replied; its reply waits for the review of the unit above (ended_at stays None)
    APPROVED = "approved"  # the unit above approved its reply
    RETURNED_UP = "returned_up"  # 回退: handed back to the unit above
    WITHDRAWN = "withdrawn"  # the ticket left the chain (reassigned, returned to the desk, resolved above)


class TicketHold(db.Model):
    """One unit's hold of a ticket sent down to it (下派): since when, until when (its deadline),
    and how it ended. The ticket's chain is its holds still open (ended_at None), in order, below
    the unit the city dispatched it to (`Ticket.department_id`), which has no row here."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The unit's reply while it waits for the review of the unit above (outcome "replied").
    reply: Mapped[str | None] = mapped_column(Text)
    # Who handled it above when it was sent down, and in this unit when it went back up: each is
    # the handler again when the ticket comes back (回退, a reply approved or refused).
    above_handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    department: Mapped[Department] = relationship()

    __table_args__ = (
        Index("ix_ticket_hold_ticket_ended", "ticket_id", "ended_at"),
        # A unit's "sent down" tab and visibility along the chain: its open holds.
        Index("ix_ticket_hold_department_ended", "department_id", "ended_at"),
    )
