"""Fixtures: one app per test session on a migrated database, emptied after each test.

The database is SQLite (a temporary file, so that worker processes and the
browser's live server share it) unless TEST_DATABASE_URL names PostgreSQL.
Redis comes from TEST_REDIS_URL; `make test` starts a real server for both.
With HOTLINE_REQUIRE_SERVICES=1 (set by `make test`) a missing service is an
error rather than a skip, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_migrate import upgrade
from redis.exceptions import RedisError
from sqlalchemy import text

from config import TestingConfig
from hotline import create_app
from hotline.extensions import db, jobs
from hotline.services.platform import ratelimit
from tests import factories

REQUIRE_SERVICES = os.environ.get("HOTLINE_REQUIRE_SERVICES") == "1"

# A local S3-compatible server and buckets for the S3 file store's tests (issue 18 item 5).
pytest_plugins = ["tests.s3_server"]


def need_service(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        message = f"{what} not available: set {variable} (make test does)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline-test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ["TEST_DATABASE_URL"] = database_url  # worker processes started by tests read it
    config = TestingConfig()
    config.HOTLINE_ATTACHMENTS_DIR = str(tmp_path_factory.mktemp("attachments"))  # never the project's instance/
    app = create_app(config)
    with app.app_context():
        _drop_everything()
        upgrade()  # the real migrations, as `flask db upgrade` runs them
    yield app
    with app.app_context():
        db.session.remove()
        _drop_everything()
        db.engine.dispose()


def _drop_everything() -> None:
    db.session.remove()
    db.metadata.drop_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def fresh_limits(_app_context: None) -> Iterator[None]:
    """Every test starts with no hits counted by the rate limiter, in this process and in Redis:
    the public doors' limits (status page, Open311 reads) are per address, and every test client
    comes from 127.0.0.1, so counts left by earlier tests would refuse later ones."""
    clear_limits()
    yield
    clear_limits()


def clear_limits() -> None:
    ratelimit.local_counter().clear()
    connection = jobs.connection
    if connection is not None:
        try:
            for key in connection.scan_iter(f"{ratelimit.PREFIX}:*"):
                connection.delete(key)
        except RedisError:
            pass


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()
        _empty_tables()


# Reference data that the migrations seed; tests that change it restore it (see `holidays`).
SEEDED_TABLES = {"calendar_day", "calendar_year", "return_reason"}


# The sequences of the emptied tables' serial and identity columns (not the seeded tables').
_RESTART_SEQUENCES = text(
    "SELECT setval(s.oid, 1, false) FROM pg_class s"
    " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
)


def _empty_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables if t.name not in SEEDED_TABLES]
    with db.engine.begin() as connection:
        # DELETE, not TRUNCATE: the few rows a test leaves go in about a tenth of the time
        # (TRUNCATE makes new files for every table), over a thousand tests a few minutes.
        for table in reversed(tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":  # ids from 1 again, as TRUNCATE RESTART IDENTITY did
            connection.execute(_RESTART_SEQUENCES, {"tables": [t.name for t in tables]})


@pytest.fixture
def holidays():
    """For tests that change the holiday table: it is restored from the package afterwards."""
    from hotline.models import CalendarDay, CalendarYear
    from hotline.services.clocks import calendar

    yield calendar
    db.session.rollback()
    db.session.execute(CalendarDay.__table__.delete())
    db.session.execute(CalendarYear.__table__.delete())
    db.session.commit()
    calendar.seed_from_package()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def invoke(runner):
    """invoke(*args) -> result of `flask --app hotline ARGS`, with service messages in English
    whatever the default locale."""

    def _invoke(*args: str):
        with force_locale("en"):
            return runner.invoke(args=list(args))

    return _invoke


@pytest.fixture
def city():
    """A small city: departments, districts, a category tree, one user per role."""
    return factories.make_city()


@pytest.fixture
def login(app: Flask):
    """login(user) -> a test client with that user's session."""

    def _login(user) -> FlaskClient:
        client = app.test_client()
        response = client.post(
            "/login", data={"username": user.username, "password": factories.PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def api(app: Flask):
    """api(user) -> a client whose requests carry that user's bearer token."""
    from hotline.services.accounts.users import issue_token

    def _api(user) -> FlaskClient:
        token = issue_token(user)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    return _api


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need_service("TEST_REDIS_URL", "Redis")


@pytest.fixture
def queue(app: Flask, redis_url: str):
    """The app's real queue on TEST_REDIS_URL, emptied (registries too) before and after."""
    from hotline.extensions import jobs
    from tests.workers import empty_queue

    queue = jobs.queue
    assert queue is not None, "the test app has no queue although TEST_REDIS_URL is set"
    for each in jobs.queues:  # the bulk queue too
        empty_queue(each)
    yield queue
    for each in jobs.queues:
        empty_queue(each)


@pytest.fixture
def bulk_queue(queue):
    """The app's bulk queue ("hotline-bulk" by default), emptied with `queue`."""
    from hotline.extensions import jobs

    return jobs.bulk_queue
