"""attachments: photos, documents and recordings kept with a ticket (issue 18 item 5)

Revision ID: f18b00000010
Revises: f18c00000010
Create Date: 2026-12-05 19:05:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

revision = "f18b00000010"
down_revision = "f18c00000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["added_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_ticket_id", "attachment", ["ticket_id"], unique=False)


def downgrade():
    op.drop_index("ix_attachment_ticket_id", table_name="attachment")
    op.drop_table("attachment")
