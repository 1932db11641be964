"""Hotline: a ticketing system for a city's citizen service hotline (12345 / 311)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user

from config import Config, config_from_env
from hotline import bounds, cookie_session, security
from hotline.app_class import HotlineFlask
from hotline.extensions import babel, bootstrap, csrf, db, jobs, login_manager, migrate
from hotline.machine_paths import is_machine_path
from hotline.services.platform import file_store

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None) -> Flask:
    app = HotlineFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config or config_from_env())

    from hotline import models  # noqa: F401  (registers the tables for migrations)

    db.init_app(app)
    _tune_sqlite(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    cookie_session.init_app(app)  # Flask's signed cookie, without its cost on requests that carry none
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    bootstrap.init_app(app)
    jobs.init_app(app)
    file_store.init_app(app)  # attachments' store: a misconfigured S3 stops the start here, named

    from hotline.api import bp as api_bp
    from hotline.open311 import bp as open311_bp
    from hotline.public import bp as public_bp
    from hotline.telephony import bp as twilio_bp
    from hotline.web import register_blueprints

    bounds.init_app(app)  # before the blueprints: their <int:...> ids are bounded
    register_blueprints(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token, not by cookie
    app.register_blueprint(twilio_bp)
    csrf.exempt(twilio_bp)  # Twilio signs its webhooks (X-Twilio-Signature) instead
    app.register_blueprint(public_bp)
    app.register_blueprint(open311_bp)
    csrf.exempt(open311_bp)  # Open311 clients authenticate by api_key, not by cookie
    _register_deployment(app)
    security.init_app(app)  # CSP and the other security headers on every answer

    from hotline.cli import register_commands

    register_commands(app)
    _register_template_helpers(app)

    @app.shell_context_processor
    def shell_context() -> dict:
        return {"db": db, "models": models}

    return app


def _tune_sqlite(app: Flask) -> None:
    """SQLite (the embedded default): write-ahead log, so that readers never wait for the writer;
    a writer waits up to 10 s for another (several gunicorn workers and the RQ worker write the
    same file). synchronous=FULL (HOTLINE_SQLITE_SYNCHRONOUS): each commit syncs the log to disk,
    so that a ticket whose number the caller was told survives a power cut too; NORMAL is safe
    against a crash of the app, but the last commits can go with the machine, and their ticket
    numbers would then be given out again. FULL costs a disk sync per commit, about 5 ms on the
    test machine's disk, in wall time (not CPU), with the write lock held: benchmarks/intake.py
    --cpu measured intake at about 21 ms against 18 with NORMAL. (Before the log, each commit cost
    a sync of the whole journal, about 30 ms.)

    And foreign keys enforced, as PostgreSQL does: SQLite leaves them off on every new
    connection unless told, so a row could point at a deleted one. Per connection, here, so
    that the web processes, the workers and the CLI all have it."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    synchronous = app.config.get("HOTLINE_SQLITE_SYNCHRONOUS", "FULL")  # FULL or NORMAL (config.py)

    def on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    with app.app_context():
        event.listen(db.engine, "connect", on_connect)


def _register_deployment(app: Flask) -> None:
    """Production plumbing (docs/production.md): /healthz and /readyz, structured logs with a
    request id, and the proxy headers trusted only when HOTLINE_PROXY_FIX says so."""
    from hotline import logs
    from hotline.health import bp as health_bp

    app.register_blueprint(health_bp)
    logs.configure(app)
    proxy_fix = app.config.get("HOTLINE_PROXY_FIX")
    if proxy_fix:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **proxy_fix)  # type: ignore[method-assign]


def _select_locale() -> str | None:
    if not has_request_context():  # jobs and CLI commands speak the default locale
        return None
    languages = _languages()
    if is_machine_path(request.path):  # no session there (hotline.machine_paths)
        return request.accept_languages.best_match(languages) or None
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or None


def _languages() -> list[str]:
    from flask import current_app

    return current_app.config["HOTLINE_LANGUAGES"]


def _register_template_helpers(app: Flask) -> None:
    from hotline import labels
    from hotline.web.formatting import local_time

    app.jinja_env.globals.update(labels=labels)
    app.jinja_env.filters["local_time"] = local_time


@login_manager.user_loader
def _load_user(user_id: str):
    from hotline.services.accounts import login_sessions

    # Signed in only while the server's record of this session lives (logout, a password, role
    # or unit change and a deactivation end it), whatever the signed cookie still says.
    return login_sessions.user_for(user_id, session.get(login_sessions.KEY))
