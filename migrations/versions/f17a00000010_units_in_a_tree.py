"""units in a tree: holds of tickets sent down, the unit holding a ticket and its handler

Revision ID: f17a00000010
Revises: f17b00000010
Create Date: 2026-12-05 18:10:00

A ticket sent down (下派) from the unit the city dispatched it to is held by a sub-unit
(`ticket.holder_id`) through a chain of holds (`ticket_hold`); a person of the holding unit
handles it (`ticket.handler_id`, 承办人). Units may reply without review (`department.needs_review`).
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

revision = "f17a00000010"
down_revision = "f17b00000010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handler_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_ticket_holder_id_department", "department", ["holder_id"], ["id"])
        batch_op.create_foreign_key("fk_ticket_handler_id_user", "user", ["handler_id"], ["id"])
        batch_op.create_index("ix_ticket_holder_id", ["holder_id"], unique=False)
        batch_op.create_index("ix_ticket_handler_id", ["handler_id"], unique=False)
    op.create_table(
        "ticket_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("since", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("due", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", hotline.models.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("above_handler_id", sa.Integer(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["above_handler_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["handler_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["sent_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_hold_ticket_ended", "ticket_hold", ["ticket_id", "ended_at"], unique=False)
    op.create_index("ix_ticket_hold_department_ended", "ticket_hold", ["department_id", "ended_at"], unique=False)


def downgrade():
    op.drop_index("ix_ticket_hold_department_ended", table_name="ticket_hold")
    op.drop_index("ix_ticket_hold_ticket_ended", table_name="ticket_hold")
    op.drop_table("ticket_hold")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_handler_id")
        batch_op.drop_index("ix_ticket_holder_id")
        batch_op.drop_constraint("fk_ticket_handler_id_user", type_="foreignkey")
        batch_op.drop_constraint("fk_ticket_holder_id_department", type_="foreignkey")
        batch_op.drop_column("handler_id")
        batch_op.drop_column("holder_id")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_column("needs_review")
