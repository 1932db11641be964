"""API tokens that end (issue 14, item 2): stored hashed with a name, a creation time, an
optional expiry and a last-used time; listed and revoked one by one or all at once, on the
command line and on the administrators' user page; a deactivation revokes them, so that
reactivating the user revives none."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, text, update

from hotline.extensions import db
from hotline.models import ApiToken, User
from hotline.models.types import utcnow
from hotline.services.accounts import users
from hotline.services.errors import InvalidInput, NotFound
from tests.api.helpers import assert_error
from tests.web.conftest import text_of


def call(app: Flask, token: str):
    return app.test_client().get("/api/v1/districts", headers={"Authorization": f"Bearer {token}"})


def token_row(token: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.digest == ApiToken.digest_of(token)))


# -- the service and the API ------------------------------------------------------------


def test_a_token_is_stored_hashed_with_its_name_and_times(app, city):
    before = utcnow()
    token = users.issue_token(city.operator, "cti-east", expires_days=30)
    row = token_row(token)
    assert (row.name, row.user_id, row.last_used_at, row.revoked_at) == ("cti-east", city.operator.id, None, None)
    assert before <= row.created_at <= utcnow()
    assert timedelta(days=30) - timedelta(seconds=5) < row.expires_at - row.created_at <= timedelta(days=30)
    # The raw token is nowhere in the table: only its digest.
    dumped = " ".join(str(value) for found in db.session.execute(text("SELECT * FROM api_token")) for value in found)
    assert token not in dumped and row.digest in dumped


def test_an_expired_token_is_refused(app, city):
    token = users.issue_token(city.operator, "nightly", expires_days=1)
    assert call(app, token).status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = call(app, token)
    assert_error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_without_expiry_keeps_working(app, city):
    token = users.issue_token(city.operator)
    db.session.execute(update(ApiToken).values(created_at=utcnow() - timedelta(days=4000)))
    db.session.commit()
    assert call(app, token).status_code == 200


def test_revoking_one_token_leaves_the_others(app, city):
    first, second = users.issue_token(city.operator, "a"), users.issue_token(city.operator, "b")
    users.revoke_token(city.operator, token_row(first).id)
    assert_error(call(app, first), 401, "unauthorized")
    assert call(app, second).status_code == 200
    assert token_row(first).revoked_at is not None  # kept, so that the list shows it


def test_revoking_all_tokens(app, city):
    mine = [users.issue_token(city.operator, name) for name in ("a", "b")]
    theirs = users.issue_token(city.dispatcher, "c")
    assert users.revoke_tokens(city.operator) == 2
    assert users.revoke_tokens(city.operator) == 0  # nothing left to revoke
    for token in mine:
        assert_error(call(app, token), 401, "unauthorized")
    assert call(app, theirs).status_code == 200


def test_another_users_token_cannot_be_revoked_through_a_user(city):
    theirs = users.issue_token(city.dispatcher)
    with pytest.raises(NotFound):
        users.revoke_token(city.operator, token_row(theirs).id)
    assert token_row(theirs).revoked_at is None


def test_reactivation_revives_no_token(app, city):
    token = users.issue_token(city.operator, "cti-east")
    users.change_role(city.admin, city.operator, "operator", None, False, "left")
    assert_error(call(app, token), 401, "unauthorized")
    users.change_role(city.admin, city.operator, "operator", None, True, "came back")
    assert_error(call(app, token), 401, "unauthorized")
    fresh = users.issue_token(city.operator)
    assert call(app, fresh).status_code == 200  # a new token works


def test_a_role_change_keeps_the_tokens_with_the_new_role(app, city):
    """The API reads the role on every call: a token follows the role, nothing to revoke."""
    token = users.issue_token(city.operator)
    users.change_role(city.admin, city.operator, "supervisor", None, True, "promoted")
    assert call(app, token).status_code == 200
    response = app.test_client().get("/api/v1/reports/response-times", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200  # a supervisor's report


def test_last_use_is_written_at_most_once_a_minute(app, city):
    token = users.issue_token(city.operator)
    assert call(app, token).status_code == 200
    first = token_row(token).last_used_at
    assert first is not None
    assert call(app, token).status_code == 200
    assert token_row(token).last_used_at == first  # within the minute: no write
    db.session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert call(app, token).status_code == 200
    assert token_row(token).last_used_at > first - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [("x" * 81, None, "at most 80 characters"), ("", 0, "1 to 3650 days"), ("", 3651, "1 to 3650 days")],
)
def test_bad_names_and_expiries_are_refused(city, name, days, message):
    with force_locale("en"), pytest.raises(InvalidInput, match=message):
        users.issue_token(city.operator, name, days)
    assert db.session.scalar(select(ApiToken.id)) is None


# -- the command line ---------------------------------------------------------------------


def test_token_with_expires_days_prints_the_token_alone_on_the_last_line(app, invoke, city):
    result = invoke("users", "token", "operator", "--name", "cti-east", "--expires-days", "7")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token and token not in result.stderr
    row = token_row(token)
    assert row.name == "cti-east"
    assert timedelta(days=7) - timedelta(seconds=5) < row.expires_at - utcnow() <= timedelta(days=7)
    assert call(app, token).status_code == 200


@pytest.mark.parametrize("days", ["0", "-1", "many"])
def test_token_refuses_a_bad_expiry(invoke, city, days):
    result = invoke("users", "token", "operator", "--expires-days", days)
    assert result.exit_code == 2 and "--expires-days" in result.output
    assert db.session.scalar(select(ApiToken.id)) is None


def test_tokens_lists_name_times_and_state(app, invoke, city):
    used = users.issue_token(city.operator, "cti-east")
    call(app, used)
    users.issue_token(city.operator, "nightly", expires_days=1)
    gone = users.issue_token(city.operator, "old-script")
    users.revoke_token(city.operator, token_row(gone).id)
    expired = users.issue_token(city.operator, "expired-one", expires_days=1)
    db.session.execute(update(ApiToken).where(ApiToken.id == token_row(expired).id).values(expires_at=utcnow()))
    db.session.commit()
    result = invoke("users", "tokens", "operator")
    assert result.exit_code == 0, result.output
    lines = [re.split(r"\s{2,}", line) for line in result.output.strip().splitlines()]
    assert lines[0] == ["ID", "NAME", "CREATED", "EXPIRES", "LAST USED", "STATE"]
    rows = {cells[1]: cells for cells in lines[1:]}
    assert set(rows) == {"cti-east", "nightly", "old-script", "expired-one"}
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    _id, _name, created, expires, last_used, state = rows["cti-east"]
    assert stamp.fullmatch(created) and expires == "-" and stamp.fullmatch(last_used) and state == "active"
    _id, _name, created, expires, last_used, state = rows["nightly"]
    assert stamp.fullmatch(expires) and last_used == "-" and state == "active"
    assert rows["old-script"][-1] == "revoked" and rows["expired-one"][-1] == "expired"
    for token in (used, gone, expired):
        assert token not in result.output
    assert invoke("users", "tokens", "dispatcher").output.strip() == "dispatcher has no API tokens"


def test_revoke_token_by_id_and_all(app, invoke, city):
    first, second, third = (users.issue_token(city.operator, name) for name in ("a", "b", "c"))
    result = invoke("users", "revoke-token", "operator", str(token_row(first).id))
    assert result.exit_code == 0, result.output
    assert f"revoked API token {token_row(first).id} of operator" in result.output
    assert call(app, first).status_code == 401 and call(app, second).status_code == 200
    result = invoke("users", "revoke-token", "operator", "--all")
    assert result.exit_code == 0 and "revoked 2 API token(s) of operator" in result.output
    assert call(app, second).status_code == 401 and call(app, third).status_code == 401


def test_revoke_token_refuses_what_it_cannot_do(invoke, city):
    theirs = users.issue_token(city.dispatcher)
    result = invoke("users", "revoke-token", "operator", str(token_row(theirs).id))
    assert result.exit_code == 1 and f"operator has no API token {token_row(theirs).id}" in result.output
    assert token_row(theirs).revoked_at is None
    for args in ([], ["1", "--all"]):
        result = invoke("users", "revoke-token", "dispatcher", *args)
        assert result.exit_code == 2 and "give a token ID or --all" in result.output
    assert invoke("users", "revoke-token", "nobody", "--all").exit_code == 1
    assert token_row(theirs).revoked_at is None


# -- the administrators' user page ---------------------------------------------------------


def test_the_user_page_lists_the_tokens(app, login, city):
    users.issue_token(city.operator, "cti-east", expires_days=30)
    revoked = users.issue_token(city.operator, "old-script")
    users.revoke_token(city.operator, token_row(revoked).id)
    page = text_of(login(city.admin).get(f"/admin/users/{city.operator.id}"))
    assert "API tokens" in page and "cti-east" in page and "old-script" in page
    assert page.count('data-state="active"') == 1 and page.count('data-state="revoked"') == 1
    assert revoked not in page
    assert "No API tokens." in text_of(login(city.admin).get(f"/admin/users/{city.dispatcher.id}"))


def test_an_admin_revokes_one_token_then_all(app, login, city):
    first, second, third = (users.issue_token(city.operator, name) for name in ("a", "b", "c"))
    admin = login(city.admin)
    response = admin.post(f"/admin/users/{city.operator.id}/tokens/{token_row(first).id}/revoke")
    assert response.status_code == 302 and response.location == f"/admin/users/{city.operator.id}"
    assert f"API token {token_row(first).id} of operator revoked." in text_of(admin.get(response.location))
    assert call(app, first).status_code == 401 and call(app, second).status_code == 200
    response = admin.post(f"/admin/users/{city.operator.id}/tokens/revoke")
    assert "2 API tokens of operator revoked." in text_of(admin.get(response.location))
    assert call(app, second).status_code == 401 and call(app, third).status_code == 401


def test_the_page_cannot_revoke_another_users_token(app, login, city):
    theirs = users.issue_token(city.dispatcher)
    admin = login(city.admin)
    response = admin.post(f"/admin/users/{city.operator.id}/tokens/{token_row(theirs).id}/revoke")
    assert response.status_code == 302
    assert f"operator has no API token {token_row(theirs).id}." in text_of(admin.get(response.location))
    assert call(app, theirs).status_code == 200
    assert admin.post("/admin/users/999999/tokens/revoke").status_code == 404


def test_the_revoke_buttons_need_the_csrf_token(app, login, city, monkeypatch):
    token = users.issue_token(city.operator)
    admin = login(city.admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for path in (f"tokens/{token_row(token).id}/revoke", "tokens/revoke"):
        response = admin.post(f"/admin/users/{city.operator.id}/{path}")
        assert response.status_code == 400  # the app's CSRF protection, before the view
    assert call(app, token).status_code == 200


def test_only_admins_revoke(app, login, city):
    token = users.issue_token(city.operator)
    for who in (city.supervisor, city.operator):
        client = login(who)
        assert client.post(f"/admin/users/{city.operator.id}/tokens/{token_row(token).id}/revoke").status_code == 403
        assert client.post(f"/admin/users/{city.operator.id}/tokens/revoke").status_code == 403
    assert call(app, token).status_code == 200
    assert db.session.get(User, city.operator.id).active
