"""contact with the citizen (先联系后办理) and callback (回访): contacts, the first-contact clock

Revision ID: f17b00000010
Revises: f18a00000010
Create Date: 2026-12-05 18:15:00

Each attempt of a unit to reach the citizen (a bridged call, a text, a call made outside) and each
operator's callback is a `ticket_contact` row; the ticket keeps its first-contact deadline and the
moment it was first contacted; the SLA policy its first-contact limit; a user the phone the
hotline rings for a click-to-call.
"""

import sqlalchemy as sa
from alembic import op

from hotline.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "f17b00000010"
down_revision = "f18a00000010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("dial_status", sa.String(length=20), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name="fk_ticket_contact_ticket_id_ticket"),
        sa.ForeignKeyConstraint(["by_id"], ["user.id"], name="fk_ticket_contact_by_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_contact"),
        sa.UniqueConstraint("call_sid", name="uq_ticket_contact_call_sid"),
    )
    op.create_index("ix_ticket_contact_ticket_id", "ticket_contact", ["ticket_id"])
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_due_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_contacted_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_amount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_unit", sa.String(length=20), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    with op.batch_alter_table("view_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
    # The report facts' first-contact figures; days already counted get them at the next rebuild.
    # An empty histogram is an empty blob: X'' on SQLite (a plain '' would be text there).
    empty = sa.text("X''") if op.get_bind().dialect.name == "sqlite" else sa.text("''::bytea")
    for table in ("report_fact", "report_period_fact"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("contact_decided", sa.Integer(), nullable=False, server_default="0"))
            batch_op.add_column(sa.Column("contacted_on_time", sa.Integer(), nullable=False, server_default="0"))
            batch_op.add_column(sa.Column("contact_seconds", sa.Float(), nullable=False, server_default="0"))
            batch_op.add_column(sa.Column("contact_hist", sa.LargeBinary(), nullable=False, server_default=empty))


def downgrade():
    for table in ("report_period_fact", "report_fact"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("contact_hist", "contact_seconds", "contacted_on_time", "contact_decided"):
                batch_op.drop_column(column)
    with op.batch_alter_table("view_record", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_column("contact_unit")
        batch_op.drop_column("contact_amount")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("first_contacted_at")
        batch_op.drop_column("contact_due_at")
    op.drop_index("ix_ticket_contact_ticket_id", table_name="ticket_contact")
    op.drop_table("ticket_contact")
