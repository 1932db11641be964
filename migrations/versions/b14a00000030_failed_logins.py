"""failed logins, for supervisors: who was tried, from where, when

Revision ID: b14a00000030
Revises: b14a00000020
Create Date: 2026-12-05 08:30:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

# revision identifiers, used by Alembic.
revision = "b14a00000030"
down_revision = "b14a00000020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "failed_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_login")),
    )
    with op.batch_alter_table("failed_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failed_login_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("failed_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failed_login_at"))
    op.drop_table("failed_login")
