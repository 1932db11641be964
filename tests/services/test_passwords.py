"""The password policy: length, not the user name, not common, not a repeated pattern; and
where it applies (new users, password changes) and where it does not (existing logins)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from hotline.demo.demo import DEMO_PASSWORD
from hotline.extensions import db
from hotline.models import Role
from hotline.services.accounts import passwords, users
from hotline.services.accounts.users import authenticate
from hotline.services.errors import InvalidInput
from tests import factories


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in English, whatever the default locale."""
    with force_locale("en"):
        yield


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("", "alice", "at least 12 characters"),
        ("short-pw1", "alice", "at least 12 characters"),
        ("dawn-river-9", "alice", ""),  # 12 characters: long enough
        ("x" * 257, "alice", "at most 256 characters"),
        ("wang.xiaoming", "wang.xiaoming", "user name"),
        ("Wang.Xiaoming1", "wang.xiaoming", "user name"),
        # Issue 14's four: the user name twice, a l33t "password" with a year, the demo
        # city's published password, a leak list's favourite with digits.
        ("operator2operator2", "operator2", "user name"),
        ("Operator2-2026!", "operator2", "user name"),
        ("P@ssw0rd2024", "alice", "too easy to guess"),
        (DEMO_PASSWORD, "alice", "demo city's published password"),
        ("Hotline-Demo-2026", "alice", "demo city's published password"),
        ("iloveyou1234", "alice", "too easy to guess"),
        ("123456123456", "alice", "too common"),
        ("password1234", "alice", "too common"),
        ("woaini123456", "alice", "too common"),
        ("qwertyuiop[]", "alice", "too easy to guess"),  # a keyboard walk
        ("aaaaaaaaaaaa", "alice", "too common or too simple"),
        ("abababababab", "alice", "too simple"),
        ("aabbaabbaabb", "alice", "too simple"),  # fewer than four different characters
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_break(password, username, message):
    if not message:
        passwords.check(password, username)
        return
    with pytest.raises(InvalidInput) as refused:
        passwords.check(password, username)
    assert message in refused.value.message
    assert refused.value.field == "password"


def test_the_users_own_name_counts_as_easy_to_guess():
    passwords.check("zhangwei2026", "operator7")  # nothing tells it is theirs
    with pytest.raises(InvalidInput, match="too easy to guess"):
        passwords.check("zhangwei2026", "operator7", ["Zhang Wei"])


def test_the_messages_are_in_chinese_too():
    with force_locale("zh_CN"), pytest.raises(InvalidInput) as refused:
        passwords.check("iloveyou1234", "alice")
    assert refused.value.message == "密码太容易被猜到（常见单词、姓名、日期或规律）；请另选一句自己的、更长的短语。"
    with force_locale("zh_CN"), pytest.raises(InvalidInput) as refused:
        passwords.check(DEMO_PASSWORD, "alice")
    assert refused.value.message == "密码不能使用演示城市公开的密码。"


@pytest.mark.parametrize(
    "password",
    [factories.PASSWORD, "long-enough-1", "路灯坏了三天都没有人来修", "xxxyz-9wwwww", "a river at dawn"],
)
def test_good_passwords_pass(password):
    passwords.check(password, "alice")  # raises nothing


def test_a_long_phrase_is_judged_by_its_beginning():
    passwords.check("tidy lantern by the river " * 9, "alice")  # over zxcvbn's 72 characters
    with pytest.raises(InvalidInput, match="too easy to guess"):
        passwords.check("iloveyou" * 30, "alice")


def test_a_name_inside_a_long_phrase_is_fine():
    passwords.check("alice walks to the river at dawn", "alice")


def test_the_bundled_list_is_read_and_lower_cased():
    common = passwords.common()
    assert "qwertyuiop" in common and "password123" in common
    assert all(word == word.lower() and not word.startswith("#") for word in common)


def test_create_user_applies_the_policy(city):
    with pytest.raises(InvalidInput, match="at least 12"):
        users.create_user("newbie", Role.OPERATOR, "abc-12345")
    with pytest.raises(InvalidInput, match="user name"):
        users.create_user("newcomer-one", Role.OPERATOR, "newcomer-one")
    assert users.create_user("newbie", Role.OPERATOR, "a river at dawn").username == "newbie"


def test_only_the_demo_city_keeps_the_demo_password(city):
    with pytest.raises(InvalidInput, match="demo city"):
        users.create_user("visitor", Role.OPERATOR, DEMO_PASSWORD)
    user = users.create_user("visitor", Role.OPERATOR, DEMO_PASSWORD, demo_city=True)
    assert authenticate("visitor", DEMO_PASSWORD) == user
    with pytest.raises(InvalidInput, match="demo city"):
        users.set_password(user, DEMO_PASSWORD)


def test_set_password_applies_the_policy_and_changes_the_password(city):
    with pytest.raises(InvalidInput, match="too common"):
        users.set_password(city.operator, "password1234")
    assert authenticate("operator", factories.PASSWORD) is not None  # unchanged after a refusal
    users.set_password(city.operator, "a river at dawn")
    assert authenticate("operator", factories.PASSWORD) is None
    assert authenticate("operator", "a river at dawn") is not None


def test_an_existing_weak_password_still_logs_in(city):
    """The policy is for new passwords: users whose password predates it are not locked out."""
    city.operator.set_password("short")
    db.session.commit()
    assert authenticate("operator", "short") == city.operator


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("operator2operator2", "user name"),
        ("P@ssw0rd2024", "too easy to guess"),
        (DEMO_PASSWORD, "demo city's published password"),
        ("iloveyou1234", "too easy to guess"),
    ],
)
def test_cli_refuses_the_four_weak_passwords(runner, city, password, message):
    factories.make_user(Role.OPERATOR, username="operator2")
    result = runner.invoke(args=["users", "set-password", "operator2", "--password", password])
    assert result.exit_code == 1 and message in result.output, result.output
    assert authenticate("operator2", password) is None
    result = runner.invoke(args=["users", "create", "operator3", "--role", "operator", "--password", password])
    assert result.exit_code == 1 and (message if message != "user name" else "too easy") in result.output


def test_cli_set_password(runner, city):
    result = runner.invoke(args=["users", "set-password", "operator", "--password", "password1234"])
    assert result.exit_code == 1 and "too common" in result.output
    result = runner.invoke(args=["users", "set-password", "operator", "--password", "a river at dawn"])
    assert result.exit_code == 0, result.output
    assert authenticate("operator", "a river at dawn") is not None
    result = runner.invoke(args=["users", "set-password", "nobody", "--password", "a river at dawn"])
    assert result.exit_code == 1 and "no user nobody" in result.output
