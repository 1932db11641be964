"""web reports: phone codes and the citizen's web reports (issue 18, 网上留言)

Revision ID: f18c00000010
Revises: f17a00000010
Create Date: 2026-12-05 19:05:00

Two new tables: phone_code (a hashed code sent by text to prove a phone) and web_report (a
ticket opened on /report: its topic and whether the citizen agreed to the public board).
"""

import sqlalchemy as sa
from alembic import op

from hotline.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "f18c00000010"
down_revision = "f17a00000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "phone_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_code_phone", "phone_code", ["phone"], unique=False)
    op.create_table(
        "web_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_web_report_public", "web_report", ["public"], unique=False)


def downgrade():
    op.drop_index("ix_web_report_public", table_name="web_report")
    op.drop_table("web_report")
    op.drop_index("ix_phone_code_phone", table_name="phone_code")
    op.drop_table("phone_code")
