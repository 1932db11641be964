"""full text search: one prepared document per ticket, and its index per database

SQLite: an FTS5 table over `ticket_search` (external content, rowid = ticket id), kept in
step by triggers on `ticket_search`. PostgreSQL: a generated `tsvector` column ('simple'
configuration) with a GIN index. The documents of existing tickets are written here, in
batches (services/search/ticket_search.py prepares the text; no pg_trgm is needed: the bigram
documents are plain words to both indexes).

Revision ID: a7f1c0de0001
Revises: 6a3dd6ed9242
Create Date: 2026-11-25 16:50:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f1c0de0001"
down_revision = "6a3dd6ed9242"
branch_labels = None
depends_on = None

SQLITE_INDEX = [
    # A leftover index of a dropped table would be stale: start clean.
    "DROP TABLE IF EXISTS ticket_search_fts",
    "CREATE VIRTUAL TABLE ticket_search_fts USING fts5(document, content='ticket_search', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=full)",
    "CREATE TRIGGER ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(rowid, document) VALUES (new.id, new.document); END",
    "CREATE TRIGGER ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, document) VALUES ('delete', old.id, old.document); END",
    "CREATE TRIGGER ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
    "INSERT INTO ticket_search_fts(ticket_search_fts, rowid, document) VALUES ('delete', old.id, old.document); "
    "INSERT INTO ticket_search_fts(rowid, document) VALUES (new.id, new.document); END",
]
POSTGRESQL_INDEX = [
    "ALTER TABLE ticket_search ADD COLUMN terms tsvector GENERATED ALWAYS AS (to_tsvector('simple', document)) STORED",
    "CREATE INDEX ix_ticket_search_terms ON ticket_search USING gin (terms)",
]


def upgrade():
    op.create_table(
        "ticket_search",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["ticket.id"], name=op.f("fk_ticket_search_id_ticket"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_search")),
    )
    bind = op.get_bind()
    for statement in POSTGRESQL_INDEX if bind.dialect.name == "postgresql" else SQLITE_INDEX:
        op.execute(statement)
    _index_existing_tickets(bind)


def _index_existing_tickets(bind) -> None:
    """The documents of the tickets already there, a batch at a time (none in a new database)."""
    from hotline.services.search import search_index, ticket_search

    last = 0
    while True:
        ids = (
            bind.execute(sa.text("SELECT id FROM ticket WHERE id > :last ORDER BY id LIMIT 2000"), {"last": last})
            .scalars()
            .all()
        )
        if not ids:
            return
        search_index.write(bind, ticket_search.TICKETS, ticket_search.documents_for(bind, ids))
        last = ids[-1]


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS ticket_search_fts")  # its triggers go with ticket_search
    op.drop_table("ticket_search")
