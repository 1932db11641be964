"""The password policy: length, not the user name, not common, not a repeated pattern; and
where it applies (new users, password changes) and where it does not (existing logins)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from hotline.extensions import db
from hotline.models import Role
from hotline.services import passwords, users
from hotline.services.demo import DEMO_PASSWORD
from hotline.services.errors import InvalidInput
from hotline.services.users import authenticate
from tests import factories


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in English, whatever the default locale."""
    with force_locale("en"):
        yield


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("", "alice", "at least 10 characters"),
        ("short-pw1", "alice", "at least 10 characters"),
        ("x" * 257, "alice", "at most 256 characters"),
        ("wang.xiaoming", "wang.xiaoming", "user name"),
        ("Wang.Xiaoming1", "wang.xiaoming", "user name"),
        ("1234567890", "alice", "too common"),
        ("Password123", "alice", "too common"),
        ("woaini1314", "alice", "too common"),
        ("aaaaaaaaaaaa", "alice", "too common or too simple"),
        ("abababababab", "alice", "too simple"),
        ("123123123123", "alice", "too simple"),
        ("aabbaabbaabb", "alice", "too simple"),  # fewer than four different characters
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_break(password, username, message):
    with pytest.raises(InvalidInput) as refused:
        passwords.check(password, username)
    assert message in refused.value.message
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "password",
    [DEMO_PASSWORD, factories.PASSWORD, "long-enough-1", "路灯坏了三天都没有人来修", "x" * 3 + "yz-9" + "w" * 3],
)
def test_good_passwords_pass(password):
    passwords.check(password, "alice")  # raises nothing


def test_a_name_inside_a_long_phrase_is_fine():
    passwords.check("alice walks to the river at dawn", "alice")


def test_the_bundled_list_is_read_and_lower_cased():
    common = passwords.common()
    assert "qwertyuiop" in common and "password123" in common
    assert all(word == word.lower() and not word.startswith("#") for word in common)


def test_create_user_applies_the_policy(city):
    with pytest.raises(InvalidInput, match="at least 10"):
        users.create_user("newbie", Role.OPERATOR, "abc-12345")
    with pytest.raises(InvalidInput, match="user name"):
        users.create_user("newcomer-one", Role.OPERATOR, "newcomer-one")
    assert users.create_user("newbie", Role.OPERATOR, "a river at dawn").username == "newbie"


def test_set_password_applies_the_policy_and_changes_the_password(city):
    with pytest.raises(InvalidInput, match="too common"):
        users.set_password(city.operator, "qwertyuiop")
    assert authenticate("operator", factories.PASSWORD) is not None  # unchanged after a refusal
    users.set_password(city.operator, "a river at dawn")
    assert authenticate("operator", factories.PASSWORD) is None
    assert authenticate("operator", "a river at dawn") is not None


def test_an_existing_weak_password_still_logs_in(city):
    """The policy is for new passwords: users whose password predates it are not locked out."""
    city.operator.set_password("short")
    db.session.commit()
    assert authenticate("operator", "short") == city.operator


def test_cli_set_password(runner, city):
    result = runner.invoke(args=["users", "set-password", "operator", "--password", "qwertyuiop"])
    assert result.exit_code == 1 and "too common" in result.output
    result = runner.invoke(args=["users", "set-password", "operator", "--password", "a river at dawn"])
    assert result.exit_code == 0, result.output
    assert authenticate("operator", "a river at dawn") is not None
    result = runner.invoke(args=["users", "set-password", "nobody", "--password", "a river at dawn"])
    assert result.exit_code == 1 and "no user nobody" in result.output
