"""The Flask CLI: `users create|token`, `seed-demo`, `requeue`."""

from __future__ import annotations

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import func, select

from config import TestingConfig as _TestingConfig  # a Test* name here would be collected
from hotline import create_app
from hotline.demo import demo
from hotline.extensions import db
from hotline.models import Department, Role, Ticket, User
from hotline.services.accounts.users import user_for_token
from tests import factories


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


# -- users create ----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN])
def test_users_create_for_each_role(invoke, role: str):
    result = invoke("users", "create", "alice", "--role", role, "--password", "long-enough-1")
    assert result.exit_code == 0, result.output
    assert f"created user alice ({role})" in result.output
    user = db.session.scalar(select(User).where(User.username == "alice"))
    assert user.role == role and user.department is None
    assert user.check_password("long-enough-1") and user.display_name == "alice"


def test_users_create_department_staff(invoke):
    roads = factories.make_department("roads", "道路管理局")
    result = invoke(
        "users", "create", "bob", "--role", "department", "--department", "roads",
        "--password", "long-enough-1", "--display-name", "道路 小刘",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "bob"))
    assert user.role == Role.DEPARTMENT and user.department == roads and user.display_name == "道路 小刘"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "department"], "Department staff belong to a department"),
        (["--role", "department", "--department", "nowhere"], "Unknown department “nowhere”"),
        (["--role", "operator", "--department", "roads"], "Only department staff belong to a department"),
        (["--role", "operator", "--password", "short"], "The password needs at least 12 characters"),
    ],
)
def test_users_create_refuses_bad_input(invoke, args: list[str], message: str):
    factories.make_department("roads")
    if "--password" not in args:
        args = [*args, "--password", "long-enough-1"]
    result = invoke("users", "create", "carol", *args)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert user_count() == 0


def test_users_create_refuses_a_duplicate_name(invoke):
    factories.make_user(Role.OPERATOR, username="dave")
    result = invoke("users", "create", "dave", "--role", "admin", "--password", "long-enough-1")
    assert result.exit_code == 1
    assert "User “dave” exists already" in result.output
    assert user_count() == 1
    assert db.session.scalar(select(User.role).where(User.username == "dave")) == Role.OPERATOR


def test_users_create_refuses_an_unknown_role(invoke):
    result = invoke("users", "create", "erin", "--role", "mayor", "--password", "long-enough-1")
    assert result.exit_code == 2  # click's usage error
    assert "Invalid value for '--role'" in result.output and "'mayor' is not one of" in result.output
    assert user_count() == 0


def test_users_create_needs_a_password(invoke):
    result = invoke("users", "create", "erin", "--role", "admin")
    assert result.exit_code == 2 and "Missing option '--password'" in result.output
    assert user_count() == 0


# -- users token -----------------------------------------------------------------


def test_users_token_prints_a_token_that_authenticates(invoke):
    user = factories.make_user(Role.SUPERVISOR, username="frank")
    result = invoke("users", "token", "frank")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    assert "shown only once" in result.stderr and token not in result.stderr
    assert user_for_token(token) == user
    assert user_for_token(token + "x") is None

    second = invoke("users", "token", "frank").stdout.strip().splitlines()[-1]
    assert second != token and user_for_token(second) == user  # both stay valid


def test_users_token_for_an_unknown_user(invoke):
    result = invoke("users", "token", "nobody")
    assert result.exit_code == 1
    assert "Error: no user nobody" in result.output


# -- seed-demo -------------------------------------------------------------------


def test_seed_demo_loads_a_city_once(invoke):
    result = invoke("seed-demo", "--tickets", "30")
    assert result.exit_code == 0, result.output
    assert "Demo city loaded" in result.output and "30 tickets" in result.output
    assert demo.DEMO_PASSWORD in result.output and "dept-housing" in result.output
    assert db.session.scalar(select(func.count(Ticket.id))) == 30
    users_before = user_count()

    again = invoke("seed-demo", "--tickets", "30")
    assert again.exit_code == 1
    assert "Error: The database already has data" in again.output
    assert db.session.scalar(select(func.count(Ticket.id))) == 30 and user_count() == users_before


def test_the_seeded_demo_suggests_departments_on_the_desk(invoke, app: Flask):
    """The demo trains its routing suggestions: the desk's 推荐承办单位 is not 暂无推荐 (issue 16)."""
    from hotline.models import RoutingClassifier, Status

    result = invoke("seed-demo")  # the default city: enough accepted tickets to learn from
    assert result.exit_code == 0, result.output
    assert "routing suggestions: Version 1 trained on" in result.output
    assert db.session.scalar(select(RoutingClassifier.trigger)) == "demo"
    waiting = db.session.scalars(select(Ticket.number).where(Ticket.status == Status.PENDING_DISPATCH)).all()
    assert waiting
    client = app.test_client()
    signed_in = client.post("/login", data={"username": "dispatcher", "password": demo.DEMO_PASSWORD})
    assert signed_in.status_code == 302
    html = client.get("/dispatch", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for number in waiting:
        card = html[html.index(f'id="waiting-{number}"') :][:6000]
        suggested = card[card.index('class="mb-2 suggestions"') : card.index('class="duplicates"')]
        assert 'class="badge' in suggested and "suggestion" in suggested and "No suggestion" not in suggested


def test_seed_demo_if_empty(invoke):
    result = invoke("seed-demo", "--if-empty", "--tickets", "10")
    assert result.exit_code == 0, result.output
    assert "Demo city loaded" in result.output
    departments = db.session.scalar(select(func.count(Department.id)))

    quiet = invoke("seed-demo", "--if-empty", "--tickets", "10")
    assert quiet.exit_code == 0
    assert quiet.output.strip() == "database already has data; demo city not loaded"
    assert db.session.scalar(select(func.count(Department.id))) == departments
    assert db.session.scalar(select(func.count(Ticket.id))) == 10


def test_seed_demo_if_empty_leaves_a_database_with_an_admin_alone(invoke):
    factories.make_user(Role.ADMIN, username="admin")
    result = invoke("seed-demo", "--if-empty")
    assert result.exit_code == 0 and "not loaded" in result.output
    assert db.session.scalar(select(func.count(Department.id))) == 0


def test_seed_demo_rejects_a_negative_count(invoke):
    result = invoke("seed-demo", "--tickets", "-1")
    assert result.exit_code == 2 and "--tickets" in result.output
    assert user_count() == 0


# -- requeue ---------------------------------------------------------------------


@pytest.fixture
def no_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """As with no REDIS_URL, even when the test run has a Redis server."""
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


def test_requeue_with_nothing_waiting(invoke, city, no_queue):
    factories.make_routed_ticket(city.operator)
    result = invoke("requeue")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["no tickets are waiting to be routed", "no messages are waiting to be sent"]


def test_requeue_without_a_queue_says_so(invoke, city, no_queue):
    for _ in range(2):
        factories.make_ticket(city.operator)
    factories.make_routed_ticket(city.operator)
    result = invoke("requeue")
    assert result.exit_code == 1
    assert "2 tickets are waiting to be routed, but none was enqueued" in result.output
    assert "no job queue is configured (set REDIS_URL" in result.output


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_requeue_when_redis_is_down_stops_at_the_first_failure(invoke, city, no_queue, app, monkeypatch):
    for _ in range(3):
        factories.make_ticket(city.operator)  # saved with no queue: waiting
    config = _TestingConfig()
    config.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    dead_queue = create_app(config).extensions["hotline_jobs"]["queue"]
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", dead_queue)
    result = invoke("requeue")
    assert result.exit_code == 1
    assert "3 tickets are waiting to be routed; 0 enqueued, then Redis failed" in result.output


@pytest.mark.redis
def test_requeue_enqueues_every_waiting_ticket(invoke, city, queue: Queue):
    waiting = [factories.make_ticket(city.operator) for _ in range(2)]  # handed over at intake
    factories.make_routed_ticket(city.operator)
    queued_at_intake = queue.count
    result = invoke("requeue")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "enqueued routing for 2 waiting tickets",
        "no messages are waiting to be sent",  # no Twilio in tests: the texts are held, not waiting
    ]
    assert queue.count == queued_at_intake + 2
    assert {job.args[0] for job in queue.get_jobs() if job.args} == {t.id for t in waiting}
