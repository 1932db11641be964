"""misrouting day rows, kept by the report refresh (issue 16 item 8: every page at 10 M tickets)

The report figures are marked for a full rebuild, which fills the new rows for every day; until
it has run, the misrouting report counts from the tickets as before.

Revision ID: f20a00000010
Revises: f19d00000010
Create Date: 2026-12-06 04:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f20a00000010"
down_revision = "f19d00000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "misrouting_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("routed_by", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("reassigned", sa.Integer(), nullable=False),
        sa.Column("ping_pong", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_misrouting_fact_day", "misrouting_fact", ["day"])
    # The next refresh rebuilds every day's figures, these rows included.
    op.execute("UPDATE report_state SET rebuilt_at = NULL")


def downgrade():
    op.drop_index("ix_misrouting_fact_day", table_name="misrouting_fact")
    op.drop_table("misrouting_fact")
