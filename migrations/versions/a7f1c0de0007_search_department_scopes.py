"""full text search on PostgreSQL: each ticket's departments (scopes) in its tsvector

`ticket_search.scopes` holds `@d<id>` for the ticket's department and each assisting one
(lexemes that no prepared word can be), added to the generated `terms` column beside the id
bucket: department staff's searches ask the GIN index for the words within their department,
rather than walking every match of a word common in the city but rare there
(services/search/search_index.py). SQLite is unchanged.

The scopes are filled from the tickets and their assists, then the column is added again
(PostgreSQL cannot alter a generation expression before version 17): the table is rewritten
and its index rebuilt, minutes for millions of documents.

Revision ID: a7f1c0de0007
Revises: a7f1c0de0006
Create Date: 2026-11-26 02:30:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f1c0de0007"
down_revision = "a7f1c0de0006"
branch_labels = None
depends_on = None

# Copies of what search_index says today (BUCKETED, SCOPED): a migration keeps what it ran.
BUCKETED = "to_tsvector('simple', document) || array_to_tsvector(ARRAY['#' || (id / 65536)::text])"
SCOPED = (
    "to_tsvector('simple', document) || array_to_tsvector(ARRAY['#' || (id / 65536)::text] "
    "|| coalesce(string_to_array(scopes, ' '), '{}'))"
)
# As ticket_search.scope writes them: `@d<id>` by id, space-separated; NULL for none.
FILL = """
UPDATE ticket_search s SET scopes = found.scopes
FROM (
    SELECT id, string_agg('@d' || department_id::text, ' ' ORDER BY department_id) AS scopes
    FROM (
        SELECT id, department_id FROM ticket WHERE department_id IS NOT NULL
        UNION
        SELECT ticket_id, department_id FROM ticket_assist
    ) AS held
    GROUP BY id
) AS found
WHERE s.id = found.id
"""


def _terms(expression: str) -> None:
    op.execute(f"ALTER TABLE ticket_search ADD COLUMN terms tsvector GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_ticket_search_terms ON ticket_search USING gin (terms)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The index and the generated column first: the fill then writes plain rows.
        op.execute("DROP INDEX IF EXISTS ix_ticket_search_terms")
        op.execute("ALTER TABLE ticket_search DROP COLUMN terms")
        op.execute("ALTER TABLE ticket_search ADD COLUMN scopes text")
        op.execute(FILL)
        _terms(SCOPED)
        op.execute("ANALYZE ticket_search")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_search_terms")
        op.execute("ALTER TABLE ticket_search DROP COLUMN terms")
        op.execute("ALTER TABLE ticket_search DROP COLUMN scopes")
        _terms(BUCKETED)
