"""Attachments (issue 18 item 5): photos, documents and recordings kept with a ticket. The bytes
live in the file store (services/platform/file_store.py: a local folder or S3-compatible storage);
the row says what they are and where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class AttachmentKind:
    PHOTO = "photo"
    BEFORE = "before"  # unit staff: the place before the repair
    AFTER = "after"  # and after it
    DOCUMENT = "document"
    RECORDING = "recording"  # a voicemail or a call recording
    ALL = (PHOTO, BEFORE, AFTER, DOCUMENT, RECORDING)
    IMAGES = (PHOTO, BEFORE, AFTER)


class Attachment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    # The file store's keys: the file as kept (an image re-encoded, without EXIF) and its thumbnail.
    key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    # Shown to the public (Open311 media_url) only when marked so; photos only.
    public: Mapped[bool] = mapped_column(default=False)
    filename: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16), default="upload")  # upload | mms | voicemail | open311
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    ticket: Mapped[Ticket] = relationship()
    added_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_attachment_ticket_id", "ticket_id"),)
