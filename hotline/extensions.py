"""Extensions, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from rq import Queue
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from hotline.machine_paths import is_machine_path

# Named constraints, so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


# The fixed cost of a request (issue 15, "Keep"): Flask-Login's remember-cookie hook, skipped
# where it has nothing to do.
class _LoginManager(LoginManager):
    """Flask-Login, whose after-request hook (`_update_remember_cookie`) reads the session
    three times through its proxy on every answer to set or clear the remember-me cookie. Both
    need a key in the session (`_remember`, or `_user_id` with REMEMBER_COOKIE_REFRESH_EACH_REQUEST),
    so an empty session is left at once: most API calls, every script's and probe's. The
    session is still read, so that the answer varies on the cookie as before."""

    def _update_remember_cookie(self, response: Response) -> Response:
        if is_machine_path(request._get_current_object().path):
            return response  # nobody is signed in by the cookie there: it is not read
        if not session._get_current_object() and not current_app._get_current_object().config.get(
            "REMEMBER_COOKIE_REFRESH_EACH_REQUEST"
        ):
            return response  # no key: Flask-Login's hook would neither set nor clear a cookie
        return super()._update_remember_cookie(response)


login_manager = _LoginManager()


# The fixed cost of a request (issue 15, "Keep"): Flask-WTF's check, the method asked first.
class _CSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF check on every request, with the request's method asked first: a GET
    or HEAD is never checked, and its hook looked up the blueprint and formatted the view's
    dotted name (the exemptions) before it saw that. The same requests are checked as before."""

    def protect(self, apply_exemptions: bool = False) -> None:
        # The proxies resolved once each: every request runs this.
        if (
            apply_exemptions
            and request._get_current_object().method
            not in (current_app._get_current_object().config["WTF_CSRF_METHODS"])
        ):
            return
        super().protect(apply_exemptions)


csrf = _CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()


class JobQueue:
    """The app's two RQ queues, made from config in `init_app`, never at import time.

    `queue` (RQ_QUEUE, "hotline") holds urgent work: routing, texts, alerts, the sweep.
    `bulk_queue` (RQ_BULK_QUEUE, "hotline-bulk") holds long work: report rebuilds, hotspots,
    training; its own workers run it, so that a rebuild of many minutes never delays a ticket.

    State lives in `app.extensions`, so that several apps (tests, a second
    instance) can coexist. With no REDIS_URL there is no queue: callers treat
    that like Redis being down, and the sweeper enqueues the work later.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        connection = queue = bulk_queue = None
        if url:
            connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
            queue = Queue(app.config["RQ_QUEUE"], connection=connection)
            bulk_queue = Queue(app.config["RQ_BULK_QUEUE"], connection=connection)
        app.extensions["hotline_jobs"] = {"connection": connection, "queue": queue, "bulk_queue": bulk_queue}

    @property
    def connection(self) -> Redis | None:
        return current_app.extensions["hotline_jobs"]["connection"]

    @property
    def queue(self) -> Queue | None:
        """The urgent queue."""
        return current_app.extensions["hotline_jobs"]["queue"]

    @property
    def bulk_queue(self) -> Queue | None:
        """The bulk queue, on the same connection: None whenever `queue` is (no Redis)."""
        state = current_app.extensions["hotline_jobs"]
        return None if state["queue"] is None else state.get("bulk_queue")

    @property
    def queues(self) -> list[Queue]:
        """Both queues, urgent first; empty without Redis."""
        return [q for q in (self.queue, self.bulk_queue) if q is not None]


jobs = JobQueue()
