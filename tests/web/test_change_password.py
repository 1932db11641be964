"""`/account/password`: a signed-in user changes their own password, under the password policy
(`services.accounts.passwords`), with the current one first and the new one typed twice."""

from __future__ import annotations

import pytest

from hotline.demo.demo import DEMO_PASSWORD
from hotline.models import Role
from hotline.services.accounts.users import authenticate
from tests import factories
from tests.web.conftest import text_of

GOOD = "tidy lantern by the river"


def change(client, new: str, current: str = factories.PASSWORD, repeated: str | None = None):
    data = {"current": current, "password": new, "repeated": new if repeated is None else repeated}
    return client.post("/account/password", data=data)


@pytest.fixture
def operator2(city):
    return factories.make_user(Role.OPERATOR, username="operator2")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("operator2operator2", "The password must not be (or mostly be) the user name."),
        ("P@ssw0rd2024", "This password is too easy to guess"),
        (DEMO_PASSWORD, "The password must not be the demo city's published password."),
        ("iloveyou1234", "This password is too easy to guess"),
    ],
)
def test_the_four_weak_passwords_are_refused_with_the_reason(login, operator2, password, message):
    client = login(operator2)
    client.post("/locale", data={"locale": "en"})
    response = change(client, password)
    assert response.status_code == 400
    assert message in text_of(response)
    assert password not in text_of(response)  # nothing typed is sent back
    assert authenticate("operator2", password) is None
    assert authenticate("operator2", factories.PASSWORD) is not None


def test_the_reason_in_chinese(login, operator2):
    client = login(operator2)
    client.post("/locale", data={"locale": "zh_CN"})
    response = change(client, "iloveyou1234")
    assert "密码太容易被猜到" in text_of(response)


def test_a_good_password_is_taken(login, operator2):
    client = login(operator2)
    assert "/account/password" in text_of(client.get("/notices"))  # linked from every page
    response = change(client, GOOD)
    assert response.status_code == 302
    assert authenticate("operator2", GOOD) is not None
    assert authenticate("operator2", factories.PASSWORD) is None


@pytest.mark.parametrize(
    ("current", "repeated", "message"),
    [
        ("not-my-password", GOOD, "The current password is wrong."),
        (factories.PASSWORD, GOOD + "!", "The two new passwords differ."),
    ],
)
def test_the_current_password_and_a_repeat_are_needed(login, operator2, current, repeated, message):
    client = login(operator2)
    client.post("/locale", data={"locale": "en"})
    response = change(client, GOOD, current=current, repeated=repeated)
    assert response.status_code == 400 and message in text_of(response)
    assert authenticate("operator2", GOOD) is None


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.post("/account/password", data={"current": "x", "password": GOOD, "repeated": GOOD})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_changing_ones_own_password_keeps_this_desk_and_ends_the_others(app, login, operator2):
    desk, laptop = login(operator2), login(operator2)
    assert change(desk, GOOD).status_code == 302
    assert desk.get("/tickets").status_code == 200  # the desk that changed it goes on
    assert laptop.get("/tickets").status_code == 302  # every other session of the user's ended


def test_guessing_the_current_password_is_throttled_as_logins_are(app, login, operator2, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_LOGIN_PAIR_FAILURES", 3)
    client = login(operator2)
    client.post("/locale", data={"locale": "en"})
    for _ in range(3):
        assert "The current password is wrong." in text_of(change(client, GOOD, current="not-my-password-1"))
    refused = change(client, GOOD)  # the right current password, once the pair is locked
    assert "Too many failed logins" in text_of(refused)
    assert authenticate("operator2", GOOD) is None
