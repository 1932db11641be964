"""an index for the reports' overdue-now count

Revision ID: a7f1c0de0005
Revises: a7f1c0de0004
Create Date: 2026-11-25 18:12:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7f1c0de0005"
down_revision = "a7f1c0de0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_status_resolve_due_created", ["status", "resolve_due_at", "created_at"])


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_status_resolve_due_created")
