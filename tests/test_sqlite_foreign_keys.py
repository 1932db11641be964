"""SQLite enforces the foreign keys (PRAGMA foreign_keys, off by default on every connection)
on every connection the app opens: the web's, a worker's job's, the migrations' pool after
them; and the migrations that copy a table still run with rows referring to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from rq import Queue
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

import config
from hotline import create_app
from hotline.extensions import db
from hotline.models import Ticket, TicketEvent
from tests import factories
from tests.workers import run_burst_worker


@pytest.fixture(autouse=True)
def _sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's pragma; PostgreSQL always enforces foreign keys")


def foreign_keys_pragma() -> int:
    """The job a worker runs: what its connection says."""
    try:
        return db.session.execute(text("PRAGMA foreign_keys")).scalar_one()
    finally:
        db.session.remove()


def test_every_connection_of_the_app_enforces_foreign_keys(city) -> None:
    connections = [db.engine.connect() for _ in range(3)]  # three at once: three pooled connections
    try:
        assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar_one() for c in connections] == [1, 1, 1]
    finally:
        for connection in connections:
            connection.close()
    ticket = factories.make_ticket(city.operator)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(category_id=987654))
        db.session.flush()
    db.session.rollback()


def test_a_workers_jobs_enforce_foreign_keys(queue: Queue) -> None:
    """The worker's job runs in a forked work horse, on connections of its own."""
    job = queue.enqueue(foreign_keys_pragma)
    run_burst_worker()
    assert queue.fetch_job(job.id).return_value() == 1


def test_migrations_copy_tables_that_rows_refer_to(city, tmp_path: Path) -> None:
    """Downgrading 6a3dd6ed9242 drops two columns of `ticket`: SQLite copies the table and drops
    the old one, with ticket events referring to its rows. With the foreign keys on, the drop
    would be refused; the migrations turn them off while they run, check, and on again."""
    settings = config.TestingConfig()
    settings.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrated.db'}"
    settings.REDIS_URL = ""
    other = create_app(settings)
    with other.app_context():
        upgrade()
        other_city = factories.make_city()
        ticket = factories.make_routed_ticket(other_city.operator, description="人民路路面有一个大坑")
        ticket_id, events = ticket.id, _events(ticket.id)
        assert events > 0
        db.session.remove()
        downgrade(revision="d7d319b0a8f1")
        upgrade()
        assert db.session.scalar(select(Ticket.description).where(Ticket.id == ticket_id)) == "人民路路面有一个大坑"
        assert _events(ticket_id) == events
        assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
        assert foreign_keys_pragma() == 1  # the migrations' connection went back to the pool with them on
        db.engine.dispose()


def _events(ticket_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
