"""The citizen's side: callers' preferences, calls, and messages in and out (the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class Caller(db.Model):
    """What we know of a phone number beyond its tickets: opt-out (STOP/退订) and language."""

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class OutboundMessage(db.Model):
    """The outbox: every message to a citizen, queued → sent → delivered / failed.

    `held` means no sender is configured (no Twilio credentials): the message
    stays here, visible to administrators, and the rest of the system works.
    `dedupe_key` makes queueing the same message twice a no-op.
    """

    QUEUED, SENDING, SENT, DELIVERED, FAILED, HELD = "queued", "sending", "sent", "delivered", "failed", "held"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    kind: Mapped[str] = mapped_column(String(30))  # created | resolved | status_reply | ...
    to: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # The app's own code and details as JSON (senders.error_record), put into words when shown.
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket | None] = relationship()

    __table_args__ = (Index("ix_outbound_message_status_next", "status", "next_attempt_at"),)


class InboundMessage(db.Model):
    """An SMS a citizen sent us, and what we took it to be."""

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    meaning: Mapped[str] = mapped_column(String(20))  # rating | status | stop | start | message | unknown
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Call(db.Model):
    """A phone call reaching the hotline through Twilio voice.

    The moments the call report reads (services/reporting/call_report.py): `started_at` (it rang),
    `queued_at` (it joined the operators' queue), `answered_at` and `answered_by` (an operator
    took it; no one is named when Twilio bridged it to a phone), `voicemail_at` (the caller was
    offered voicemail), `ended_at`. Calls logged before 2026-12 have no `queued_at`,
    `voicemail_at` nor `answered_by`.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    to_number: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(20), default="ringing")  # Twilio's CallStatus values
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    voicemail_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed: Mapped[bool] = mapped_column(default=False)
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_back_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    transcription: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)

    ticket: Mapped[Ticket | None] = relationship()
    called_back_by: Mapped[User | None] = relationship(foreign_keys=[called_back_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class TicketContact(db.Model):
    """先联系后办理 (issue 17): one attempt of the unit holding a ticket to reach its citizen, or an
    operator's callback (回访) after it is resolved.

    `outcome`: reached | no_answer | wrong_number | text, or `calling` while a bridged call the
    hotline started (`call_sid`) has not ended yet; Twilio's status callback then sets the
    outcome and `duration_seconds` (services/citizens/citizen_contact.py). A callback also keeps the
    citizen's `rating` (satisfied | basically_satisfied | unsatisfied)."""

    REACHED, NO_ANSWER, WRONG_NUMBER, TEXT, CALLING = "reached", "no_answer", "wrong_number", "text", "calling"
    OUTCOMES = (REACHED, NO_ANSWER, WRONG_NUMBER, TEXT)
    # The outcomes that count as contact for the first-contact clock: the citizen heard from the unit.
    CONTACTED = (REACHED, TEXT)
    CONTACT, CALLBACK = "contact", "callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(10), default=CONTACT)  # contact | callback
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[str | None] = mapped_column(String(24))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Twilio's DialCallStatus of the citizen's leg, kept until the call's status callback.
    dial_status: Mapped[str | None] = mapped_column(String(20))
    duration_seconds: Mapped[int | None] = mapped_column()

    ticket: Mapped[Ticket] = relationship()
    by: Mapped[User | None] = relationship()
