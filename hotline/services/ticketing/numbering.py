"""Ticket numbers: `YYYYMMDD-NNNNNN`, the day in the hotline's time zone.

One atomic upsert per number, so concurrent intakes on PostgreSQL never hand
out the same number and numbers sort in the order they were given.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, bindparam
from sqlalchemy.dialects import postgresql, sqlite

from hotline.extensions import db
from hotline.models import TicketCounter


def next_ticket_number(now: datetime, tz: str) -> str:
    day = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    statement = _next_statement(db.session.get_bind().dialect.name)
    last = db.session.connection().execute(statement, {"day": day}).scalar_one()
    return f"{day}-{last:06d}"


@lru_cache(maxsize=4)
def _next_statement(dialect: str) -> Insert:
    """Built once per dialect (every intake runs it); the day is its parameter."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    return (
        insert(table)
        .values(day=bindparam("day"), last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
