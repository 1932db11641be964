"""Photos of the citizen's web reports (issue 18 item 6): how many a report may carry, and which
the public board shows.

A photo is shown on the board only when the citizen (or the staff) marked it public, its report
is on the board (the citizen agreed) and its ticket is not confidential; anything else is
answered as if there were none. What is shown is the kept file: re-encoded by Pillow at upload
(services/ticketing/attachments.py), so without EXIF, location or camera."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, AttachmentKind, Ticket, WebReport

SOURCE = "web"  # Attachment.source of a photo the citizen sent with the report


def max_photos() -> int:
    return int(current_app.config["HOTLINE_REPORT_MAX_PHOTOS"])


def _shown():
    return (
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .join(WebReport, WebReport.ticket_id == Ticket.id)
        .where(
            Attachment.public.is_(True),
            Attachment.kind.in_(AttachmentKind.IMAGES),
            WebReport.public.is_(True),
            Ticket.confidential.is_(False),
        )
    )


def on_board(ticket_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The photos the board shows beside each of these tickets, oldest first."""
    if not ticket_ids:
        return {}
    shown: dict[int, list[Attachment]] = {}
    for photo in db.session.scalars(_shown().where(Attachment.ticket_id.in_(ticket_ids)).order_by(Attachment.id)):
        shown.setdefault(photo.ticket_id, []).append(photo)
    return shown


def board_photo(attachment_id: int) -> Attachment | None:
    """The photo if the board shows it; None otherwise, as if there were none."""
    return db.session.scalars(_shown().where(Attachment.id == attachment_id)).first()
