"""hotspot areas drawn on the map, and the routing rules' place-unit condition (issue 18 items 2, 4)

Revision ID: f19d00000010
Revises: f18b00000010
Create Date: 2026-12-05 21:05:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

revision = "f19d00000010"
down_revision = "f18b00000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hotspot_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("min_long", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("max_long", sa.Float(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", hotline.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routing_rule") as batch:
        batch.add_column(sa.Column("place_department_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_routing_rule_place_department_id_department", "department", ["place_department_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("routing_rule") as batch:
        batch.drop_constraint("fk_routing_rule_place_department_id_department", type_="foreignkey")
        batch.drop_column("place_department_id")
    op.drop_table("hotspot_area")
