"""privacy and security: who viewed a ticket's personal data, and the log of role changes

Revision ID: a7f1c0de0004
Revises: a7f1c0de0003
Create Date: 2026-11-25 16:20:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

# revision identifiers, used by Alembic.
revision = "a7f1c0de0004"
down_revision = "a7f1c0de0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "role_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("old_role", sa.String(length=20), nullable=False),
        sa.Column("new_role", sa.String(length=20), nullable=False),
        sa.Column("old_department", sa.String(length=64), nullable=False),
        sa.Column("new_department", sa.String(length=64), nullable=False),
        sa.Column("old_active", sa.Boolean(), nullable=False),
        sa.Column("new_active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user.id"], name=op.f("fk_role_change_changed_by_id_user")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_role_change_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_change")),
    )
    with op.batch_alter_table("role_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_change_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_change_user_id"), ["user_id"], unique=False)

    op.create_table(
        "view_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_view_record_ticket_id_ticket")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_view_record_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_record")),
    )
    with op.batch_alter_table("view_record", schema=None) as batch_op:
        batch_op.create_index("ix_view_record_ticket_at", ["ticket_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_view_record_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("view_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_record_user_id"))
        batch_op.drop_index("ix_view_record_ticket_at")
    op.drop_table("view_record")

    with op.batch_alter_table("role_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_change_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_change_at"))
    op.drop_table("role_change")
