"""The documents behind full-text search (services/search/search_index.py): one per ticket.

`document` is the prepared text (CJK bigrams and words, space-separated). The index over it
is per database and made by the migration: an FTS5 table kept in step by triggers on
SQLite, a generated `tsvector` column with a GIN index on PostgreSQL (not mapped here).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db


class TicketSearch(db.Model):
    __tablename__ = "ticket_search"

    # The ticket's own id: on SQLite the FTS5 rowid, so a match joins the ticket directly.
    id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text, default="")
