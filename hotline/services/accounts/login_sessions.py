"""Browser sessions that the server knows, so that they really end.

The session cookie is signed, not stored: on its own, a copy made before logging out would
stay valid until it expired. So each login also makes a `LoginSession` row, and the cookie
carries its random key (`session[KEY]`; the table keeps only the key's SHA-256 digest). A
request is signed in only while its row exists:
- logging out deletes that session's row (the user's other sessions go on);
- a password change, a role or unit change and a deactivation delete all the user's rows
  (`end_all`, in the transaction of the change);
- a row unused for the session lifetime (`PERMANENT_SESSION_LIFETIME`) no longer counts, and
  is deleted at a later login.
Checking costs one indexed look-up per request (the user comes with it), and a write at most
once a minute per session to keep `last_seen_at`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import Select, bindparam, delete, select, update

from hotline.extensions import db
from hotline.models import LoginSession, User
from hotline.models.types import utcnow
from hotline.models.user import digest_of

KEY = "_sid"  # beside Flask-Login's _user_id in the session cookie
SEEN_RESOLUTION = timedelta(minutes=1)


def start(user: User) -> str:
    """A new server-side session for `user`; its key goes into the cookie. Commits."""
    now = utcnow()
    # Sessions left to time out (never logged out) are swept here: logins are rare enough.
    db.session.execute(delete(LoginSession).where(LoginSession.last_seen_at < now - _lifetime()))
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, digest=digest_of(key), created_at=now, last_seen_at=now))
    db.session.commit()
    return key


def user_for(user_id: str, key: str | None) -> User | None:
    """The user of a live session: the cookie's user id and key must match a row. May commit
    (the last-seen time), so it runs first thing in a request (see `hotline.web.auth`)."""
    if not key or not str(user_id).isdigit():
        return None
    row = db.session.execute(_statement(), {"digest": digest_of(key)}).first()
    if row is None or row.User.id != int(user_id) or not row.User.active:
        return None
    now = utcnow()
    if now - row.last_seen_at > _lifetime():
        return None
    if now - row.last_seen_at > SEEN_RESOLUTION:
        db.session.execute(update(LoginSession).where(LoginSession.id == row.session_id).values(last_seen_at=now))
        db.session.commit()
    return row.User


def end(key: str | None) -> None:
    """End one session (logging out). Commits."""
    if key:
        db.session.execute(delete(LoginSession).where(LoginSession.digest == digest_of(key)))
        db.session.commit()


def end_all(user: User) -> None:
    """End every session of `user`, in the caller's transaction (committed with the change)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def _lifetime() -> timedelta:
    return current_app.permanent_session_lifetime


@lru_cache(maxsize=1)
def _statement() -> Select:
    """Built once, as the token look-up (services.accounts.users): it runs on every signed-in request."""
    return (
        select(User, LoginSession.id.label("session_id"), LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.digest == bindparam("digest"))
    )
