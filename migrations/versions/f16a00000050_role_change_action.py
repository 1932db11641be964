"""role changes: what each entry records (a role change, a user created, a password reset)

Revision ID: f16a00000050
Revises: f16a00000070
Create Date: 2026-12-05 09:15:00

Every entry before this was a change of role, department or activity: they get "role".
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f16a00000050"
down_revision = "f16a00000070"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("role_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(length=20), nullable=False, server_default="role"))


def downgrade():
    with op.batch_alter_table("role_change", schema=None) as batch_op:
        batch_op.drop_column("action")
