"""The migration that records calls' queue entry, voicemail offer and answering operator
(f16a00000070), on a database with calls in it: old calls whose voicemail made a ticket are
marked as offered voicemail; nothing else is guessed. Run in a database of its own, as
tests/test_migration_sessions_tokens.py does (whose `old_app` fixture this reuses)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import text

from hotline.extensions import db
from hotline.services.reporting.call_report import call_report
from tests.test_migration_sessions_tokens import old_app  # noqa: F401 (a fixture)

REVISION = "f16a00000070"
# The revision before it, read from the script: the coordinator may chain it after others.
BEFORE = ScriptDirectory(str(Path(__file__).parents[1] / "migrations")).get_revision(REVISION).down_revision


def test_old_calls_keep_what_is_known_and_nothing_is_guessed(old_app):  # noqa: F811
    with old_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO category (id, code, name) VALUES (1, 'other', '其他')"))
            connection.execute(
                text(
                    "INSERT INTO ticket (id, number, status, type, category_id, address, description, urgency,"
                    " channel, confidential, caller_phone, caller_name, created_at, sla_level, extended_days,"
                    " urge_count, reopen_count, version) VALUES (1, '20261125-000001', 'pending_dispatch', 'help',"
                    " 1, '', 'voicemail', 'normal', 'voicemail', :no, '+8613800000001', '', :at, 'none', 0, 0, 0, 1)"
                ),
                {"no": False, "at": "2026-11-25 02:05:00"},
            )
            for sid, answered, ended, missed, ticket in (
                ("CA-answered", "2026-11-25 02:00:20", "2026-11-25 02:02:20", False, None),
                ("CA-voicemail", None, "2026-11-25 02:05:30", False, 1),
                ("CA-missed", None, "2026-11-25 02:00:03", True, None),
            ):
                connection.execute(
                    text(
                        'INSERT INTO "call" (call_sid, from_number, to_number, status, started_at, answered_at,'
                        " ended_at, missed, ticket_id) VALUES (:sid, '+8613800000001', '', 'completed',"
                        " '2026-11-25 02:00:00', :answered, :ended, :missed, :ticket)"
                    ),
                    {"sid": sid, "answered": answered, "ended": ended, "missed": missed, "ticket": ticket},
                )
        upgrade(revision=REVISION)
        rows = db.session.execute(
            text('SELECT call_sid, queued_at, voicemail_at, answered_by_id FROM "call" ORDER BY call_sid')
        ).all()
        moments = {sid: (queued is not None, voicemail is not None, by) for sid, queued, voicemail, by in rows}
        assert moments == {
            "CA-answered": (False, False, None),
            "CA-missed": (False, False, None),  # queue or greeting? not recorded: not guessed
            "CA-voicemail": (False, True, None),  # its voicemail made a ticket: it was offered voicemail
        }
        db.session.remove()  # its read of "call" would hold a lock a later ALTER TABLE waits for (PostgreSQL)
        upgrade()  # on to the head, where the report reads them
        [row] = call_report(date(2026, 11, 25), date(2026, 11, 25), "all")
        # Only the answered old call counts as offered, its wait from when it rang.
        assert (row.offered, row.answered, row.wait_p50_seconds, row.missed) == (1, 1, 20.0, 1)
        db.session.remove()
