"""The session cookie, read and written as Flask does, without its fixed cost on requests that
carry no session: most of the API's, every script's, every probe's.

Flask's `SecureCookieSessionInterface` builds a signing serializer (key derivation included)
on every request before it looks for the cookie, and works out the cookie's seven attributes
before it sees that an empty session needs no cookie. Here the serializer is built once per
set of keys (`SECRET_KEY` and `SECRET_KEY_FALLBACKS`; a changed key makes a new one), a
request without the cookie gets an empty session at once, and an empty, unchanged session
is saved as Flask saves it (nothing but `Vary: Cookie` when it was read). Signing, expiry,
the cookie's flags and which sessions are signed in (services/accounts/login_sessions.py) are Flask's
and Flask-Login's, unchanged.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer

from hotline import response_headers


class CookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        try:
            return self._serializers[keys]
        except KeyError:
            if len(self._serializers) > 8:  # keys changed at run time (tests): keep the last few
                self._serializers.clear()
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
            return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None  # Flask's null session: no secret, no session
        if not request.environ.get("HTTP_COOKIE"):  # no cookie at all: not even worth parsing
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:  # Flask sets no cookie then, and deletes none
            if session.accessed:
                _vary_on_cookie(response)
            return
        super().save_session(app, session, response)


def _vary_on_cookie(response: Response) -> None:
    """response.vary.add("Cookie"), without parsing and rewriting the header when there is none yet."""
    if response_headers.has(response.headers, "vary"):
        response.vary.add("Cookie")
    else:
        response_headers.append(response.headers, (("Vary", "Cookie"),))


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
