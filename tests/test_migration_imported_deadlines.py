"""The migration that gives imported open tickets back the deadline the old import dropped
(f16a00000060): exactly those tickets get the `due` their "imported" event kept, and count as
overdue now; a closed one, one the hotline dispatched again, a returned one, one with a deadline
and one of the hotline's own are left as they are. In a database of its own, as
tests/test_migration_sessions_tokens.py does (whose `old_app` fixture this reuses)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import text

from hotline.extensions import db
from hotline.services.clocks import overdue
from tests.test_migration_sessions_tokens import old_app  # noqa: F401 (a fixture)

REVISION = "f16a00000060"
BEFORE = ScriptDirectory(str(Path(__file__).parents[1] / "migrations")).get_revision(REVISION).down_revision
DUE = "2018-10-25T12:00:00+00:00"

# (number, status, source, resolve_due_at, sla_terms, event's due): what the old import left.
TICKETS = [
    ("old-1", "dispatched", "nyc311", None, None, DUE),  # dropped: comes back
    ("old-2", "in_progress", "nyc311", None, None, DUE),  # dropped: comes back
    ("old-3", "closed", "nyc311", None, None, DUE),  # closed: not overdue, left alone
    ("old-4", "pending_dispatch", "nyc311", None, None, DUE),  # returned: no deadline on purpose
    ("old-5", "dispatched", "nyc311", None, '{"accept_amount": 4}', DUE),  # dispatched again by the hotline
    ("old-6", "dispatched", "nyc311", "2030-01-01 00:00:00", None, None),  # kept its deadline
    ("old-7", "dispatched", "nyc311", None, None, "not a time"),  # unreadable: nothing guessed
    ("own-8", "dispatched", "", None, None, DUE),  # the hotline's own ticket
]


def test_exactly_the_dropped_deadlines_come_back(old_app):  # noqa: F811
    with old_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO category (id, code, name) VALUES (1, 'other', '其他')"))
            for ticket_id, (number, status, source, due_at, terms, event_due) in enumerate(TICKETS, start=1):
                connection.execute(
                    text(
                        "INSERT INTO ticket (id, number, status, type, category_id, address, description, urgency,"
                        " channel, confidential, caller_phone, caller_name, created_at, sla_level, extended_days,"
                        " urge_count, reopen_count, version, source, external_id, resolve_due_at, sla_terms)"
                        " VALUES (:id, :number, :status, 'report', 1, '', 'x', 'normal', 'other', :no, '', '',"
                        " '2018-10-21 04:00:00', '', 0, 0, 0, 1, :source, :number, :due_at, :terms)"
                    ),
                    {
                        "id": ticket_id,
                        "number": number,
                        "status": status,
                        "no": False,
                        "source": source,
                        "due_at": due_at,
                        "terms": terms,
                    },
                )
                data = {"source": source, "id": number, "status": "Open"}
                if event_due is not None:
                    data["due"] = event_due
                connection.execute(
                    text(
                        "INSERT INTO ticket_event (ticket_id, kind, at, from_status, to_status, data)"
                        " VALUES (:id, 'imported', '2026-11-01 00:00:00', NULL, :status, :data)"
                    ),
                    {"id": ticket_id, "status": status, "data": json.dumps(data)},
                )
        upgrade(revision=REVISION)
        rows = dict(db.session.execute(text("SELECT number, resolve_due_at FROM ticket")).all())
        came_back = {number for number, due_at in rows.items() if due_at is not None and number != "old-6"}
        assert came_back == {"old-1", "old-2"}
        assert str(rows["old-1"]).startswith("2018-10-25 12:00:00")
        assert str(rows["old-6"]).startswith("2030-01-01 00:00:00")
        # End the session's transaction first: on PostgreSQL its read of "ticket" holds a lock that
        # a later migration's ALTER TABLE ticket would wait for, for ever.
        db.session.remove()
        upgrade()  # on to the head, where the definition reads them
        counted = overdue.overdue_now(datetime.now(UTC))
        assert (counted.total, counted.imported) == (2, 2)
        db.session.remove()
