"""the unit lead flag on users (单位负责人)

Revision ID: f17000000010
Revises: f16b00000110
Create Date: 2026-12-05 17:20:00

A unit's lead assigns its tickets to named handlers and is the second person alerted when an
urgent ticket reaches the unit out of hours and the person on duty does not answer.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f17000000010"
down_revision = "f16b00000110"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_unit_lead", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("is_unit_lead")
