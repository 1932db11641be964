"""`flask --app hotline backup FILE` and `restore FILE`, on the test database (SQLite or
PostgreSQL): a backup taken while intake runs, restored into an empty database, holds every row
committed before it began, and the restored hotline takes and routes a new ticket."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.extensions import db, jobs
from hotline.models import Status, Ticket, TicketCounter, TicketEvent, User
from hotline.services.citizens import calls, survey
from hotline.services.platform import backup
from hotline.services.reporting import report_figures
from hotline.services.ticketing import deadlines, merging, tickets
from tests import factories
from tests.knowledge_factories import make_city_articles

RESTORE_DATABASE = "hotline_backup_restore"  # PostgreSQL: the empty database restored into
# The one kind of row that intake updates rather than inserts: the day's last ticket number.
COUNTERS = TicketCounter.__table__.name


@pytest.fixture(autouse=True)
def _no_intake_left_in_redis() -> Iterator[None]:
    """Intake hands each ticket to Redis (when the tests have one): nobody routes these."""
    yield
    if jobs.queue is not None:
        from tests.workers import empty_queue

        empty_queue(jobs.queue)


def fill(city) -> dict[str, Ticket]:
    """Tickets in every state with their events, texts, calls, knowledge articles, report days."""
    articles = make_city_articles(city)
    staff, operator = city.roads_staff, city.operator
    made = {"new": factories.make_ticket(operator, caller_phone="13800138001")}
    made["pending_dispatch"] = factories.make_routed_ticket(operator, category="other")
    made["dispatched"] = factories.make_routed_ticket(operator)
    made["in_progress"] = tickets.accept(staff, factories.make_routed_ticket(operator))
    made["waiting"] = deadlines.wait_on_citizen(
        staff, tickets.accept(staff, factories.make_routed_ticket(operator)), "请补充现场照片。"
    )
    made["resolved"] = tickets.resolve(staff, tickets.accept(staff, factories.make_routed_ticket(operator)), "已修复。")
    rated = tickets.resolve(staff, tickets.accept(staff, factories.make_routed_ticket(operator)), "已修复。")
    made["closed"] = survey.record_rating(rated, "satisfied")
    made["answered"] = factories.make_ticket(
        operator, type="consultation", category="water-supply", article_id=articles["water"].id
    )
    made["merged"] = merging.merge_into(city.dispatcher, factories.make_ticket(operator), made["dispatched"].number)
    call = calls.answer_call(operator, calls.log_call("CA-backup-1", "+8613800138002", "+8653112345"))
    calls.link_ticket(call, made["new"], operator)
    calls.end_call(call)
    calls.end_call(calls.log_call("CA-backup-2", "+8613800138003", "+8653112345"), "no-answer")
    report_figures.refresh_dirty()
    return made


def table_rows(connection) -> dict[str, dict[tuple, tuple]]:
    """Every row of every table of the schema (and the migration's revision), by primary key."""
    rows: dict[str, dict[tuple, tuple]] = {}
    for table in db.metadata.sorted_tables:
        key = [table.columns[column.name] for column in table.primary_key.columns]
        rows[table.name] = {
            tuple(row[: len(key)]): tuple(row)
            for row in connection.execute(select(*key, *table.columns).order_by(*key)).all()
        }
    rows["alembic_version"] = {row: row for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    return rows


class Intake(threading.Thread):
    """Tickets logged one after another, as operators would, until stopped."""

    def __init__(self, app: Flask, operator_id: int) -> None:
        super().__init__(daemon=True)
        self.app, self.operator_id = app, operator_id
        self.logged: list[tuple[float, int]] = []  # (when committed, ticket id)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context():
                operator = db.session.get(User, self.operator_id)
                while not self.stop.is_set():
                    number = len(self.logged)
                    ticket = factories.make_ticket(operator, caller_phone=f"1390000{number:04d}")
                    self.logged.append((time.monotonic(), ticket.id))
        except BaseException as error:  # noqa: BLE001  (reported by the test)
            self.error = error

    def committed_between(self, start: float, end: float) -> int:
        return sum(1 for at, _ in self.logged if start <= at <= end)


@pytest.fixture
def empty_database(app: Flask, database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the test database's kind, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{RESTORE_DATABASE}" WITH (FORCE)')
    with server.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{RESTORE_DATABASE}"'))
    try:
        yield url.set(database=RESTORE_DATABASE).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(drop)
        server.dispose()


def app_on(url: str) -> Flask:
    config = _TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.REDIS_URL = ""  # the restored hotline's routing is called here, not queued
    return create_app(config)


def test_a_backup_taken_while_intake_runs_restores_everything_committed_before_it(
    app: Flask, city, runner, empty_database: str, tmp_path: Path
):
    made = fill(city)
    merged = (made["merged"].id, made["dispatched"].id)
    backup_file = tmp_path / "hotline.backup"
    intake = Intake(app, city.operator.id)
    intake.start()
    try:
        while len(intake.logged) < 3 and intake.is_alive():  # intake is running
            time.sleep(0.01)
        with db.engine.connect() as connection:
            before = table_rows(connection)
        started = time.monotonic()
        result = runner.invoke(args=["backup", str(backup_file)])
        ended = time.monotonic()
        while intake.committed_between(ended, time.monotonic()) < 2 and intake.is_alive():
            time.sleep(0.01)  # and still runs after it
    finally:
        intake.stop.set()
        intake.join(timeout=30)
    assert intake.error is None, intake.error
    assert result.exit_code == 0, result.output
    assert "backed up to" in result.output and "schema revision" in result.output
    assert intake.committed_between(0, started) >= 3 and intake.committed_between(ended, time.monotonic()) >= 2
    states = {status for (status,) in db.session.execute(select(Ticket.status).distinct())}
    assert states == set(Status.ALL), states
    for table in ("ticket_event", "outbound_message", "call", "article", "article_version", "report_fact"):
        assert before[table], f"the filled database has no {table} rows"

    restored_app = app_on(empty_database)
    with restored_app.app_context():  # the CLI runs in the app of the context it finds
        restored = run(restored_app, "restore", str(backup_file))
        assert restored.exit_code == 0, restored.output
        with db.engine.connect() as connection:
            after = table_rows(connection)
        _check_consistent(after)
        for table, rows in before.items():
            if table == COUNTERS:  # a counter may have moved on (more tickets logged): never back
                assert all(after[table][key][-1] >= row[-1] for key, row in rows.items()), table
                continue
            missing = rows.keys() - after[table].keys()
            assert not missing, f"{table}: {len(missing)} rows committed before the backup are missing"
            changed = [key for key, row in rows.items() if after[table][key] != row]
            assert not changed, f"{table}: rows differ after the restore: {changed[:3]}"
        assert len(after["ticket"]) >= len(before["ticket"])

        # The restored hotline starts and routes a new ticket, numbered after the restored ones.
        operator = db.session.scalar(select(User).where(User.username == "operator"))
        ticket = factories.make_routed_ticket(operator, description="恢复后新登记的工单：路灯不亮。")
        assert ticket.status == Status.DISPATCHED and ticket.department.code == "roads"
        assert ticket.id > max(key[0] for key in after["ticket"])
        assert ticket.number not in {
            row for row in db.session.scalars(select(Ticket.number).where(Ticket.id != ticket.id))
        }
        assert db.session.get(Ticket, merged[0]).parent_id == merged[1]
        db.session.remove()
        db.engine.dispose()


def _check_consistent(rows: dict[str, dict[tuple, tuple]]) -> None:
    """Nothing half-written: every ticket in the backup has its created event and search
    document, and each day's counter is at least the ticket numbers given that day."""
    with db.engine.connect() as connection:
        tickets_without_event = connection.execute(
            select(func.count(Ticket.id)).where(
                ~select(TicketEvent.id)
                .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "created")
                .exists()
            )
        ).scalar_one()
        assert tickets_without_event == 0
        documents = connection.execute(text("SELECT count(*) FROM ticket_search")).scalar_one()
        assert documents == len(rows["ticket"])
        last = dict(connection.execute(select(TicketCounter.day, TicketCounter.last)).all())
        for number in connection.execute(select(Ticket.number)).scalars():
            day, serial = number.split("-")
            assert last[day] >= int(serial), number
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def refused(result: Any, *words: str) -> None:
    """A clear one-line error and a failing exit status, never a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
    for word in words:
        assert word in result.output, result.output


def postgres_only(test):
    test = pytest.mark.skipif(
        not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
        reason="needs PostgreSQL (TEST_DATABASE_URL)",
    )(test)
    return pytest.mark.postgres(test)


def backup_then_one_more_ticket(app: Flask, city, tmp_path: Path) -> Path:
    """A backup of one ticket; the database has two."""
    factories.make_ticket(city.operator)
    backup_file = tmp_path / "hotline.backup"
    assert run(app, "backup", str(backup_file)).exit_code == 0
    factories.make_ticket(city.operator)
    return backup_file


def tickets_count() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(Ticket.id)))


def test_a_restore_is_refused_into_a_database_with_data_unless_forced(app: Flask, city, tmp_path: Path):
    backup_file = backup_then_one_more_ticket(app, city, tmp_path)
    first = db.session.scalar(select(Ticket.number).order_by(Ticket.id))

    refused(run(app, "restore", str(backup_file)), "not empty", "2 ticket", "--force")
    assert tickets_count() == 2  # nothing changed

    result = run(app, "restore", "--force", str(backup_file))
    assert result.exit_code == 0, result.output
    assert tickets_count() == 1 and db.session.scalar(select(Ticket.number)) == first
    again = factories.make_routed_ticket(db.session.get(User, city.operator.id))  # the restored hotline works
    assert again.status == Status.DISPATCHED and again.number != first


def test_a_file_that_is_not_a_backup_of_this_database_is_refused_and_nothing_changes(
    app: Flask, city, database_url: str, tmp_path: Path
):
    factories.make_ticket(city.operator)
    sqlite = make_url(database_url).get_backend_name() == "sqlite"
    good = tmp_path / "hotline.backup"
    assert run(app, "backup", str(good)).exit_code == 0
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(good.read_bytes()[: good.stat().st_size * 9 // 10])
    other_kind = tmp_path / "other.backup"
    other_kind.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100) if sqlite else b"SQLite format 3\x00" + bytes(100))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")

    for file, words in (
        (tmp_path / "missing.backup", ("no such file",)),
        (text_file, ("not a Hotline backup",)),
        (other_kind, ("PostgreSQL backup and this database is SQLite",) if sqlite else ("SQLite backup",)),
        (damaged, ("damaged",)),
    ):
        refused(run(app, "restore", "--force", str(file)), str(file), *words)
        assert tickets_count() == 1
    if sqlite:  # an SQLite database of another application
        foreign = tmp_path / "foreign.db"
        with sqlite3.connect(foreign) as connection:
            connection.execute("CREATE TABLE notes (body TEXT)")
        refused(run(app, "restore", "--force", str(foreign)), "not a Hotline one")
    refused(run(app, "backup", str(tmp_path / "no-such-folder" / "x.backup")), "no folder")
    assert tickets_count() == 1


@postgres_only
def test_a_restore_is_refused_while_another_session_is_busy_in_the_database(
    app: Flask, city, database_url: str, tmp_path: Path
):
    """It would wait for that session's locks without end (the dump sets lock_timeout to 0)."""
    backup_file = backup_then_one_more_ticket(app, city, tmp_path)
    other = create_engine(database_url)
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT count(*) FROM ticket"))  # and its transaction stays open
            refused(run(app, "restore", "--force", str(backup_file)), "1 other sessions are busy", "stop")
    finally:
        other.dispose()
    assert tickets_count() == 2


@postgres_only
def test_the_password_goes_to_pg_dump_by_its_environment_never_on_its_command_line(
    app: Flask, city, database_url: str, tmp_path: Path
):
    # The real tools, behind scripts that note how they were called (any local user can read
    # a process's command line; its environment only the user and root).
    real = Path(backup._pg_tool("pg_dump", None)).parent
    calls_log = tmp_path / "calls.log"
    for tool in ("pg_dump", "pg_restore"):
        script = tmp_path / "bin" / tool
        script.parent.mkdir(exist_ok=True)
        script.write_text(
            f'#!/bin/sh\necho "argv: $*" >> {calls_log}\necho "PGPASSWORD=$PGPASSWORD" >> {calls_log}\n'
            f'exec {real / tool} "$@"\n'
        )
        script.chmod(0o755)
    secret = "not-on-the-command-line-42"  # the test server trusts its clients: any password will do
    with_password = make_url(database_url).set(password=secret).render_as_string(hide_password=False)
    other = app_on(with_password)
    other.config["HOTLINE_PG_BINDIR"] = str(tmp_path / "bin")
    with other.app_context():
        result = run(other, "backup", str(tmp_path / "hotline.backup"))
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    log = calls_log.read_text()
    assert "argv: --format=custom" in log and f"PGPASSWORD={secret}" in log
    assert not [line for line in log.splitlines() if line.startswith("argv:") and secret in line]
