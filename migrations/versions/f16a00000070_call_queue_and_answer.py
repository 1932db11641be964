"""calls: when each joined the queue, was offered voicemail, and who answered it (the call report)

Revision ID: f16a00000070
Revises: b14a00000030
Create Date: 2026-12-05 08:45:00

Calls logged before this have none of the three: nothing recorded says whether an unanswered
old call reached the queue or the voicemail, so they stay empty (the call report counts an old
call only when it was answered, its wait measured from when it rang). A call whose voicemail
made a ticket certainly reached the voicemail: those get `voicemail_at` from when they rang.
"""

import sqlalchemy as sa
from alembic import op

import hotline.models.types

# revision identifiers, used by Alembic.
revision = "f16a00000070"
down_revision = "b14a00000030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", hotline.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("answered_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("voicemail_at", hotline.models.types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_call_answered_by_id_user"), "user", ["answered_by_id"], ["id"])
    op.execute(
        'UPDATE "call" SET voicemail_at = started_at WHERE answered_at IS NULL AND ticket_id IN '
        "(SELECT id FROM ticket WHERE channel = 'voicemail')"
    )


def downgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_call_answered_by_id_user"), type_="foreignkey")
        batch_op.drop_column("voicemail_at")
        batch_op.drop_column("answered_by_id")
        batch_op.drop_column("queued_at")
