"""sessions and API tokens that end (issue 14, item 2)

- `login_session`: one row per signed-in browser session (the digest of the random key its
  cookie carries). Logging out deletes it; a password, role or unit change and a deactivation
  delete all the user's rows. Sessions signed in before this migration carry no key: their
  users sign in again once.
- `api_token` gains a name, an optional expiry and a revocation time. Tokens were already
  stored as SHA-256 digests, so existing scripts keep authenticating with the tokens they hold.
  The tokens of users deactivated today are revoked here: before, reactivating a user brought
  them back.

Revision ID: b14a00000020
Revises: a7f1c0de0007
Create Date: 2026-12-05 08:10:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b14a00000020"
down_revision = "a7f1c0de0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_login_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("digest", name=op.f("uq_login_session_digest")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=80), server_default="", nullable=False))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))

    user = sa.table("user", sa.column("id", sa.Integer()), sa.column("active", sa.Boolean()))
    token = sa.table("api_token", sa.column("user_id", sa.Integer()), sa.column("revoked_at", sa.DateTime()))
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, as models.types does
    inactive = sa.select(user.c.id).where(user.c.active == sa.false())
    op.execute(token.update().where(token.c.user_id.in_(inactive)).values(revoked_at=now))


def downgrade():
    # Without these columns revoked and expiring tokens would authenticate forever: they go.
    token = sa.table("api_token", sa.column("revoked_at", sa.DateTime()), sa.column("expires_at", sa.DateTime()))
    op.execute(token.delete().where(sa.or_(token.c.revoked_at.is_not(None), token.c.expires_at.is_not(None))))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("name")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))
    op.drop_table("login_session")
