"""geography: a ticket's point and grid cell, district polygons, the gazetteer (issue 18)

Revision ID: f18a00000010
Revises: f17c00000010
Create Date: 2026-12-05 18:15:00

Tickets gain lat/long (WGS84, null when unknown) and geo_cell, the point's grid cell, indexed
with the status so that the open tickets near a point are read from a few index ranges at
10 M tickets. District outlines and the gazetteer are new tables.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f18a00000010"
down_revision = "f17c00000010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("long", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("geo_cell", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_ticket_geo_cell_status", ["geo_cell", "status"], unique=False)
    op.create_table(
        "district_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("min_long", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("max_long", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district_id"),
    )
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("long", sa.Float(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_place_name_kind", "place", ["name", "kind"], unique=True)


def downgrade():
    op.drop_index("uq_place_name_kind", table_name="place")
    op.drop_table("place")
    op.drop_table("district_area")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_geo_cell_status")
        batch_op.drop_column("geo_cell")
        batch_op.drop_column("long")
        batch_op.drop_column("lat")
