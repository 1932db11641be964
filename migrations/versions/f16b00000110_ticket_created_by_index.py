"""an index for the operator's recent categories (the intake form's category picker)

Revision ID: f16b00000110
Revises: f16a00000060
Create Date: 2026-12-05 13:20:00

The picker offers the categories an operator chose last: their latest tickets, read from this
index alone rather than by scanning every ticket since the operator's previous call.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f16b00000110"
down_revision = "f16b00000160"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_created_by_created", ["created_by_id", "created_at"])


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_created_by_created")
