"""hotspots: groups of similar tickets in one place per day, week and month, their tickets, their followers

Revision ID: a7f1c0de0003
Revises: a7f1c0de0002
Create Date: 2026-11-25 16:50:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

# revision identifiers, used by Alembic.
revision = "a7f1c0de0003"
down_revision = "a7f1c0de0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hotspot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_kind", sa.String(length=8), nullable=False),
        sa.Column("window_start", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("window_end", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("previous_count", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=True),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assigned_department_id", sa.Integer(), nullable=True),
        sa.Column("proactive_ticket_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", hotline.models.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("first_seen_at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["user.id"], name=op.f("fk_hotspot_assigned_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["assigned_department_id"],
            ["department.id"],
            name=op.f("fk_hotspot_assigned_department_id_department"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_hotspot_district_id_district"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["proactive_ticket_id"],
            ["ticket.id"],
            name=op.f("fk_hotspot_proactive_ticket_id_ticket"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot")),
    )
    with op.batch_alter_table("hotspot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_signature"), ["signature"], unique=False)
        batch_op.create_index("ix_hotspot_window_active_count", ["window_kind", "active", "ticket_count"], unique=False)

    op.create_table(
        "hotspot_follower",
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hotspot_id"], ["hotspot.id"], name=op.f("fk_hotspot_follower_hotspot_id_hotspot"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_hotspot_follower_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("hotspot_id", "user_id", name=op.f("pk_hotspot_follower")),
    )
    with op.batch_alter_table("hotspot_follower", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_follower_user_id"), ["user_id"], unique=False)

    op.create_table(
        "hotspot_ticket",
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hotspot_id"], ["hotspot.id"], name=op.f("fk_hotspot_ticket_hotspot_id_hotspot"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_hotspot_ticket_ticket_id_ticket"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("hotspot_id", "ticket_id", name=op.f("pk_hotspot_ticket")),
    )
    with op.batch_alter_table("hotspot_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_ticket_ticket_id"), ["ticket_id"], unique=False)


def downgrade():
    with op.batch_alter_table("hotspot_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_ticket_ticket_id"))
    op.drop_table("hotspot_ticket")
    with op.batch_alter_table("hotspot_follower", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_follower_user_id"))
    op.drop_table("hotspot_follower")
    with op.batch_alter_table("hotspot", schema=None) as batch_op:
        batch_op.drop_index("ix_hotspot_window_active_count")
        batch_op.drop_index(batch_op.f("ix_hotspot_signature"))
    op.drop_table("hotspot")
