"""Ticket numbers: `YYYYMMDD-NNNNNN`, the day in the hotline's time zone.

One atomic upsert per number, so concurrent intakes on PostgreSQL never hand
out the same number and numbers sort in the order they were given.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite

from hotline.extensions import db
from hotline.models import TicketCounter


def next_ticket_number(now: datetime, tz: str) -> str:
    day = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    statement = (
        insert(table)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    last = db.session.execute(statement).scalar_one()
    return f"{day}-{last:06d}"
