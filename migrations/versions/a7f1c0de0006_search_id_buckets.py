"""full text search on PostgreSQL: each document's id bucket in its tsvector

The generated `terms` column gets one more lexeme, `#<id // 65536>` (a `#` that no prepared
word can hold), so that the GIN index itself can keep a word's matches to a range of ids:
searches walk the index newest first, a window of buckets at a time, and fetch only the
window's matches instead of every match of a common word (services/search/search_index.py).
SQLite is unchanged (FTS5 walks its doclists in rowid order already).

Also, on PostgreSQL, `ix_ticket_created_id` (created_at, id): a date filter's id bounds
(ticket_search.id_bounds, the lowest and highest id created in the range) read from the
index alone, not from the table row by row. SQLite's index on created_at holds the rowid
already.

The column is dropped and added again (PostgreSQL cannot alter a generation expression
before version 17): the table is rewritten and its index rebuilt, minutes for millions of
documents; `flask search reindex --full` does the same work with the index built once.

Revision ID: a7f1c0de0006
Revises: a7f1c0de0005
Create Date: 2026-11-26 01:20:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f1c0de0006"
down_revision = "a7f1c0de0005"
branch_labels = None
depends_on = None

# A copy of what search_index.create_statements says today: a migration keeps what it ran.
BUCKETED = "to_tsvector('simple', document) || array_to_tsvector(ARRAY['#' || (id / 65536)::text])"
PLAIN = "to_tsvector('simple', document)"


def _terms(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_terms")
    op.execute("ALTER TABLE ticket_search DROP COLUMN terms")
    op.execute(f"ALTER TABLE ticket_search ADD COLUMN terms tsvector GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_ticket_search_terms ON ticket_search USING gin (terms)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _terms(BUCKETED)
        op.execute("CREATE INDEX IF NOT EXISTS ix_ticket_created_id ON ticket (created_at, id)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_created_id")
        _terms(PLAIN)
