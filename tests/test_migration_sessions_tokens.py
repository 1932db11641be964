"""The migration of issue 14's sessions and tokens (b14a00000020) on a database with data in it:
existing tokens (already stored as digests) keep authenticating, and the tokens of users who are
deactivated at the time are revoked, so that reactivating those users revives none.

Run in a database of its own: a fresh SQLite file, or on PostgreSQL a schema of its own in the
test database (dropped afterwards), so that the shared test database stays at the head."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.extensions import db
from hotline.models import User
from hotline.services.accounts import users

BEFORE, REVISION = "a7f1c0de0007", "b14a00000020"
SCHEMA = "migration_b14a"


@pytest.fixture
def old_app(tmp_path, database_url: str) -> Iterator[Flask]:
    """An app on an empty database of its own."""
    config = _TestingConfig()
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        separator = "&" if "?" in database_url else "?"
        config.SQLALCHEMY_DATABASE_URI = f"{database_url}{separator}options={quote(f'-csearch_path={SCHEMA}')}"
    else:
        engine = None
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if engine is not None:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


def test_existing_tokens_keep_working_and_inactive_users_tokens_are_revoked(old_app):
    with old_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for number, (name, active) in enumerate((("cti", True), ("leaver", False)), start=1):
                connection.execute(
                    text(
                        'INSERT INTO "user" (id, username, display_name, password_hash, role, active, created_at)'
                        " VALUES (:id, :name, :name, 'x', 'operator', :active, CURRENT_TIMESTAMP)"
                    ),
                    {"id": number, "name": name, "active": active},
                )
                connection.execute(
                    text(
                        "INSERT INTO api_token (user_id, digest, created_at) VALUES (:id, :digest, CURRENT_TIMESTAMP)"
                    ),
                    {"id": number, "digest": hashlib.sha256(f"token-of-{name}".encode()).hexdigest()},
                )
        upgrade(revision=REVISION)
        # Today's models read today's schema (later migrations add columns to "user" that they select).
        upgrade()
        assert users.user_for_token("token-of-cti").username == "cti"
        leaver = db.session.get(User, 2)
        users.change_role(None, leaver, "operator", None, True, "came back", via="cli")
        assert users.user_for_token("token-of-leaver") is None
        names = db.session.execute(text("SELECT name, expires_at FROM api_token ORDER BY id")).all()
        assert [tuple(row) for row in names] == [("", None), ("", None)]
        db.session.remove()
