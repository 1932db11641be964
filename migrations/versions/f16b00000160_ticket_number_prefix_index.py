"""ticket numbers by prefix from an index on PostgreSQL (the ticket list's number search)

Revision ID: f16b00000160
Revises: f16a00000060
Create Date: 2026-12-05 13:30:00

The ticket list finds tickets by the start of their number (`20261205-` for a day's). LIKE
'p%' walks a b-tree only in the C collation, and not with a bound parameter: the list read
every ticket (and counted them all). `listing.starts_with` asks for the byte-wise range of the
prefix instead: SQLite's own index does (BINARY collation); on PostgreSQL the pattern
operators (~>=~, ~<~) need an index in `text_pattern_ops`, this one. SQLite: nothing to do.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f16b00000160"
down_revision = "f16b00000130"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_ticket_number_pattern ON ticket (number text_pattern_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_number_pattern")
