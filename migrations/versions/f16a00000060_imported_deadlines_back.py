"""imported tickets: give open ones back the deadline the import kept in its event (overdue now)

Revision ID: f16a00000060
Revises: f16a00000050
Create Date: 2026-12-05 09:20:00

Imports before this dropped an open ticket's deadline when it had passed in the old system,
keeping it in the "imported" event (`data.due`) only, so those tickets never counted as overdue.
Their deadline comes back, on exactly those tickets: imported (`source` set), still held by a
department as the import left them (dispatched, in progress or waiting), no deadline and no
Hotline clock ever started (`sla_terms` empty: a ticket dispatched again by the hotline has
deadlines of its own, and a returned one has none on purpose). Nothing else is touched; no
schema change. The report day rows need no refresh: "overdue now" is read live.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f16a00000060"
down_revision = "f16a00000050"
branch_labels = None
depends_on = None

BATCH = 1000

ticket = sa.table(
    "ticket",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("source", sa.String),
    sa.column("resolve_due_at", sa.DateTime),
    sa.column("sla_terms", sa.JSON),
)
event = sa.table(
    "ticket_event",
    sa.column("ticket_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("data", sa.JSON),
)


def _naive_utc(text: object) -> datetime | None:
    """The event's ISO time as stored in a ticket's columns (naive UTC); None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None)


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(ticket.c.id, ticket.c.sla_terms, event.c.data)
        .join(event, sa.and_(event.c.ticket_id == ticket.c.id, event.c.kind == "imported"))
        .where(
            ticket.c.source != "",
            ticket.c.status.in_(("dispatched", "in_progress", "waiting")),
            ticket.c.resolve_due_at.is_(None),
        )
    ).all()
    updates = []
    for ticket_id, terms, data in rows:
        due = _naive_utc((data or {}).get("due")) if isinstance(data, dict) else None
        if terms is None and due is not None:
            updates.append({"ticket_id": ticket_id, "due": due})
    statement = (
        ticket.update()
        .where(ticket.c.id == sa.bindparam("ticket_id"), ticket.c.resolve_due_at.is_(None))
        .values(resolve_due_at=sa.bindparam("due"))
    )
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start : start + BATCH])


def downgrade():
    # The deadlines stay: they are the old system's, and the import event still holds them.
    pass
