"""Sessions that really end (issue 14, item 2): logging out ends that session on the server, so
a copy of its cookie signs nobody in; a password, role or unit change and a deactivation end
all of the user's sessions; a session unused for the session lifetime ends too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import LoginSession, User
from hotline.models.types import utcnow
from hotline.models.user import digest_of
from hotline.services.accounts import login_sessions, users


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookie opens a signed-in page (else: sent to the login page)."""
    response = client.get("/tickets")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value)
    return thief


def session_rows(user: User) -> int:
    db.session.expire_all()
    return len(db.session.scalars(select(LoginSession.id).where(LoginSession.user_id == user.id)).all())


def test_a_copied_cookie_stops_working_at_logout(app, login, city):
    client = login(city.operator)
    thief = copy_of(app, client)
    assert signed_in(thief)  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)
    assert not signed_in(thief)
    assert session_rows(city.operator) == 0


def test_logout_ends_only_that_session(login, city):
    desk, laptop = login(city.operator), login(city.operator)
    laptop.post("/logout")
    assert signed_in(desk) and not signed_in(laptop)
    assert session_rows(city.operator) == 1


def test_a_password_change_ends_every_session_of_the_user(app, login, city):
    desk, laptop, other = login(city.operator), login(city.operator), login(city.dispatcher)
    thief = copy_of(app, desk)
    users.set_password(city.operator, "a-brand-new-passphrase-7")
    for client in (desk, laptop, thief):
        assert not signed_in(client)
    assert signed_in(other)  # another user's session goes on
    fresh = app.test_client()
    response = fresh.post("/login", data={"username": "operator", "password": "a-brand-new-passphrase-7"})
    assert response.status_code == 302 and signed_in(fresh)


def test_set_password_on_the_command_line_ends_the_sessions(runner, login, city):
    client = login(city.operator)
    result = runner.invoke(args=["users", "set-password", "operator", "--password", "a-brand-new-passphrase-7"])
    assert result.exit_code == 0, result.output
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("who", "role", "department"),
    [
        ("operator", "dispatcher", None),  # a role change
        ("roads_staff", "department", "water"),  # a unit change
        ("roads_staff", "supervisor", None),  # both
    ],
)
def test_a_role_or_unit_change_ends_every_session_of_the_user(app, login, city, who, role, department):
    user = getattr(city, who)
    first, second = login(user), login(user)
    thief = copy_of(app, first)
    admin = login(city.admin)
    data = {"role": role, "department": department or "", "active": "y", "reason": "reorganised"}
    assert admin.post(f"/admin/users/{user.id}", data=data).status_code == 302
    for client in (first, second, thief):
        assert not signed_in(client)
    assert signed_in(admin)  # the administrator's own session is not touched
    assert signed_in(login(user))  # signing in again works, under the new role


def test_a_deactivation_ends_every_session_and_reactivation_revives_none(app, login, city):
    client = login(city.dispatcher)
    thief = copy_of(app, client)
    users.change_role(city.admin, city.dispatcher, "dispatcher", None, False, "on leave")
    users.change_role(city.admin, city.dispatcher, "dispatcher", None, True, "back")
    assert not signed_in(client)
    assert not signed_in(thief)
    assert session_rows(city.dispatcher) == 0
    assert signed_in(login(city.dispatcher))


def test_no_change_ends_no_session(login, city):
    client = login(city.operator)
    assert users.change_role(city.admin, city.operator, "operator", None, True, "just looking") is None
    assert signed_in(client)


def test_a_cookie_without_a_server_session_signs_nobody_in(login, city):
    """As a cookie from before server-side sessions: Flask-Login's user id alone is not enough."""
    client = login(city.operator)
    with client.session_transaction() as session:
        session.pop(login_sessions.KEY)
    assert not signed_in(client)
    with client.session_transaction() as session:
        session[login_sessions.KEY] = "made-up-key"
    assert not signed_in(client)


def test_a_session_key_works_only_for_its_own_user(login, city):
    client = login(city.operator)
    with client.session_transaction() as session:
        # Rewriting the signed cookie needs the secret key; even then the key is the operator's session, not the admin's.
        session["_user_id"] = str(city.admin.id)
    assert not signed_in(client)


def test_only_the_keys_digest_is_stored(login, city):
    client = login(city.operator)
    with client.session_transaction() as session:
        key = session[login_sessions.KEY]
    assert len(key) >= 40
    digests = db.session.scalars(select(LoginSession.digest).where(LoginSession.user_id == city.operator.id)).all()
    assert digests == [digest_of(key)]


def test_a_session_unused_for_the_lifetime_ends(app, login, city):
    client = login(city.operator)
    lifetime = app.permanent_session_lifetime
    db.session.execute(update(LoginSession).values(last_seen_at=utcnow() - lifetime - timedelta(minutes=1)))
    db.session.commit()
    assert not signed_in(client)
    # Swept at the next login (of anyone).
    login(city.dispatcher)
    assert session_rows(city.operator) == 0


def test_last_seen_is_written_at_most_once_a_minute(login, city):
    client = login(city.operator)
    long_ago = utcnow() - timedelta(minutes=5)
    db.session.execute(update(LoginSession).values(last_seen_at=long_ago))
    db.session.commit()
    assert signed_in(client)
    db.session.expire_all()
    seen = db.session.scalar(select(LoginSession.last_seen_at))
    assert seen > long_ago + timedelta(minutes=4)
    assert signed_in(client)
    db.session.expire_all()
    assert db.session.scalar(select(LoginSession.last_seen_at)) == seen  # within the minute: no write
