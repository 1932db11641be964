"""the duty rota (值班表): weekly patterns, dated shifts, duty phones and out-of-hours alerts

Revision ID: f17c00000010
Revises: f17000000010
Create Date: 2026-12-05 18:10:00
"""

import sqlalchemy as sa
from alembic import op

from hotline.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "f17c00000010"
down_revision = "f17000000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duty_pattern",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("day_kind", sa.String(10), nullable=False),
        sa.Column("starts", sa.String(5), nullable=False),
        sa.Column("ends", sa.String(5), nullable=False),
    )
    op.create_index("ix_duty_pattern_department_id", "duty_pattern", ["department_id"])
    op.create_table(
        "duty_shift",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_duty_shift_user_id", "duty_shift", ["user_id"])
    op.create_index("ix_duty_shift_department_starts", "duty_shift", ["department_id", "starts_at"])
    op.create_table(
        "duty_contact",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), primary_key=True),
        sa.Column("phone", sa.String(32), nullable=False),
    )
    op.create_table(
        "duty_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), nullable=False),
        sa.Column("reached_at", UTCDateTime(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.UniqueConstraint("ticket_id", "department_id", "reached_at", name="uq_duty_alert_reach"),
    )
    op.create_index("ix_duty_alert_ticket_id", "duty_alert", ["ticket_id"])
    op.create_index("ix_duty_alert_due", "duty_alert", ["status", "next_at"])


def downgrade():
    op.drop_table("duty_alert")
    op.drop_table("duty_contact")
    op.drop_index("ix_duty_shift_department_starts", table_name="duty_shift")
    op.drop_index("ix_duty_shift_user_id", table_name="duty_shift")
    op.drop_table("duty_shift")
    op.drop_index("ix_duty_pattern_department_id", table_name="duty_pattern")
    op.drop_table("duty_pattern")
