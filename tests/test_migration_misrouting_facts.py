"""The migration that adds the misrouting day rows (f20a00000010) marks the report figures for
a full rebuild: an upgraded database has no rows yet, and until the worker's first refresh has
rebuilt them the misrouting report counts from the tickets (never zeros from empty rows). In a
database of its own, as tests/test_migration_sessions_tokens.py does."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from hotline.extensions import db
from hotline.services.reporting import report_figures
from tests.test_migration_sessions_tokens import old_app  # noqa: F401 (a fixture)


def test_an_upgraded_database_rebuilds_its_figures_first(old_app):  # noqa: F811
    with old_app.app_context():
        upgrade(revision="f19d00000010")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO report_state (id, rebuilt_at) VALUES (1, '2026-12-01 00:00:00')"))
        db.session.remove()
        assert not report_figures.needs_rebuild()
        db.session.remove()
        upgrade(revision="f20a00000010")
        assert report_figures.needs_rebuild()
        assert db.session.execute(text("SELECT count(*) FROM misrouting_fact")).scalar_one() == 0
