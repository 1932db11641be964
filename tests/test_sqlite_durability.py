"""The embedded default (SQLite) syncs each commit to disk: a ticket whose number the caller
was told survives a power cut, not only a crash of the app (hotline/__init__.py, _tune_sqlite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from config import Config
from hotline import create_app
from hotline.extensions import db

FULL, NORMAL = 2, 1  # what PRAGMA synchronous answers


def synchronous_of_a_new_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None) -> int:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'hotline.db'}")
    if setting is None:
        monkeypatch.delenv("HOTLINE_SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("HOTLINE_SQLITE_SYNCHRONOUS", setting)
    app = create_app(Config())
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                return connection.execute(text("PRAGMA synchronous")).scalar_one()
        finally:
            db.engine.dispose()


def test_every_commit_is_synced_to_disk_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert synchronous_of_a_new_app(tmp_path, monkeypatch, None) == FULL


def test_normal_is_a_choice_and_nothing_else_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert synchronous_of_a_new_app(tmp_path, monkeypatch, "normal") == NORMAL
    with pytest.raises(RuntimeError, match="FULL or NORMAL"):
        synchronous_of_a_new_app(tmp_path, monkeypatch, "off")
