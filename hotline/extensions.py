"""Extensions, created unbound here and bound to an app in `create_app`."""

from __future__ import annotations

from flask import Flask, current_app
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
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()


class JobQueue:
    """The app's RQ queue, made from config in `init_app`, never at import time.

    State lives in `app.extensions`, so that several apps (tests, a second
    instance) can coexist. With no REDIS_URL there is no queue: callers treat
    that like Redis being down, and the sweeper enqueues the work later.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        connection = queue = None
        if url:
            connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
            queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        app.extensions["hotline_jobs"] = {"connection": connection, "queue": queue}

    @property
    def connection(self) -> Redis | None:
        return current_app.extensions["hotline_jobs"]["connection"]

    @property
    def queue(self) -> Queue | None:
        return current_app.extensions["hotline_jobs"]["queue"]


jobs = JobQueue()
