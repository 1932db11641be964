"""No 5xx from any route (issue #14, item 5): every rule of every blueprint, called by every
caller of the authorisation matrix, with bad numbers in its path and in the query parameters
its view reads.

Two walks:
  - path arguments: each rule of `app.url_map` that takes arguments, every method, with each
    argument replaced by each bad value (a huge id must be the app's 404, not SQLite's
    OverflowError or PostgreSQL's NumericValueOutOfRange);
  - query parameters: each GET row of the authorisation matrix (a valid address, its objects
    built by tests/authz_world.py), first called as is while recording the query parameters
    the view reads (its `request.args` look-ups), then once per read parameter and bad value.
    The matrix has a row for every route (its `test_every_route_has_a_row`), so a new page is
    walked as soon as it is added there.

A page's 4xx or 5xx must also be the app's own error page, in the site's look, not Werkzeug's
plain one. The app runs with TESTING, so an unhandled exception reaches the test client: it is
caught and reported as what a visitor would get, a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.test import TestResponse

from hotline.extensions import db, jobs
from tests.authz_world import World
from tests.test_authorization_matrix import ANON, CALLERS, MATRIX, Callers, Row
from tests.workers import empty_queue

BAD_VALUES = {
    "huge": "99999999999999999999",
    "above 64 bits": str(2**63),  # SQLite's OverflowError
    "above 32 bits": str(2**31),  # PostgreSQL's NumericValueOutOfRange: the ids are Integer columns
    "negative": "-1",
    "not a number": "abc",
    "empty": "",
    "very long": "9" * 5000,  # past the 4,300 digits Python's int() converts at all
}
# In the query string also a zero (a page number's off-by-one).
QUERY_VALUES = {**BAD_VALUES, "zero": "0"}
# Monitoring answers 503 on purpose when Redis or the jobs lag (a test's queue may well lag).
HEALTH_PATHS = ("/healthz", "/readyz")
MACHINE_PREFIXES = ("/api/", "/open311/", "/twilio/", "/static/", "/bootstrap/", "/healthz", "/readyz")
APP_PAGE = 'href="/static/hotline.css"'  # templates/base.html: the site's look, not Werkzeug's plain page


class RecordingArgs(ImmutableMultiDict):
    """The query string (and form) dictionary, noting each name a view looks up."""

    read: set[str] = set()

    def __getitem__(self, key):
        RecordingArgs.read.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        RecordingArgs.read.add(key)
        return super().getlist(key, type=type)

    def __contains__(self, key) -> bool:
        RecordingArgs.read.add(key)
        return super().__contains__(key)


@pytest.fixture
def callers(app: Flask, city, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callers]:
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingArgs)
    yield Callers(app, city)
    queue = jobs.queue
    if queue is not None:  # the tickets built enqueued their routing: no worker will run it
        empty_queue(queue)


def _client(callers: Callers, caller: str) -> FlaskClient:
    """The caller's session, carrying its API token too, so that one client calls pages and API."""
    client = callers.session(caller)
    if caller != ANON and "HTTP_AUTHORIZATION" not in client.environ_base:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {callers.token(caller)}"
    return client


def _open(client: FlaskClient, method: str, url: str) -> TestResponse:
    """The answer, the request in an app context of its own as in production: the test's context
    would share `g`, and with it the signed-in user, between the callers."""
    with client.application.app_context():
        response = client.open(url, method=method)
        response.get_data()  # a streamed answer to its end
    return response


def _fault(client: FlaskClient, method: str, url: str) -> str | None:
    """What is wrong with the answer to `method url`, or None."""
    try:
        response = _open(client, method, url)
    except Exception as error:  # noqa: BLE001  (TESTING propagates it; a visitor would get a 500)
        return f"raised {type(error).__name__}: {str(error)[:120]}"
    path = urlsplit(url).path
    if response.status_code >= 500 and not (response.status_code == 503 and path in HEALTH_PATHS):
        return f"answered {response.status_code}"
    page = not path.startswith(MACHINE_PREFIXES)
    if page and path.endswith(".json") and response.status_code == 400:
        # A page's script asks these (the intake map): its refusal is JSON the script shows, in words.
        body = response.get_json(silent=True)
        return None if isinstance(body, dict) and body.get("error") else "answered 400 without a JSON error"
    if page and response.status_code >= 400 and APP_PAGE not in response.get_data(as_text=True):
        return f"answered {response.status_code} with a page not in the site's look"
    return None


def _argument_paths(rule_text: str, value: str) -> str:
    """The rule's path with every `<converter:name>` argument replaced by `value`."""
    parts, rest = [], rule_text
    while "<" in rest:
        before, _, after = rest.partition("<")
        parts.append(before)
        rest = after.partition(">")[2]
        parts.append(value)
    parts.append(rest)
    return "".join(parts)


def test_bad_path_arguments_never_answer_5xx(app: Flask, callers: Callers) -> None:
    faults = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for name, value in BAD_VALUES.items():
                url = _argument_paths(rule.rule, value)
                for caller in CALLERS:
                    fault = _fault(_client(callers, caller), method, url)
                    if fault:
                        faults.append(f"{method} {rule.rule} ({name}) as {caller}: {fault}")
    assert not faults, "\n".join(faults)


def _with_query(path: str, name: str, value: str) -> str:
    address = urlsplit(path)
    query = [(key, item) for key, item in parse_qsl(address.query, keep_blank_values=True) if key != name]
    return f"{address.path}?{urlencode([*query, (name, value)])}"


GET_ROWS = [row for row in MATRIX if row.method == "GET"]


@pytest.mark.parametrize("row", GET_ROWS, ids=[row.id for row in GET_ROWS])
def test_bad_query_parameters_never_answer_5xx(row: Row, app: Flask, city, callers: Callers) -> None:
    world = World(city)
    path = world.fill(row.path)
    faults = []
    for caller in CALLERS:
        client = _client(callers, caller)
        RecordingArgs.read = set()
        fault = _fault(client, "GET", path)
        assert fault is None, f"{path} as {caller}: {fault}"
        for name in sorted(RecordingArgs.read):
            for label, value in QUERY_VALUES.items():
                url = _with_query(path, name, value)
                fault = _fault(client, "GET", url)
                if fault:
                    faults.append(f"{name}={label} as {caller}: {fault}")
    assert not faults, f"GET {path}:\n" + "\n".join(faults)


def test_an_unexpected_error_answers_the_apps_own_page(app: Flask, login, city, monkeypatch) -> None:
    """A bug answers 500 in the site's look. Here a failed statement, which on PostgreSQL aborts
    the transaction: the page's own queries (the administrators' menu asks the calendar) work
    only because the error page rolls it back first."""

    def broken():
        db.session.execute(text("SELECT no_such_column FROM ticket"))

    monkeypatch.setitem(app.view_functions, "home.index", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = _open(login(city.admin), "GET", "/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert APP_PAGE in page and "/admin/calendar/" in page  # the whole menu: the session worked again


HUGE = BAD_VALUES["huge"]


def test_the_reported_addresses_answer_as_a_person_expects(app: Flask, city, callers: Callers) -> None:
    """The issue's examples: a huge id is no such object (the app's 404); a page number that is
    not one shows a page of the list (the first, or past the end an empty one), never an error."""
    world = World(city)
    number = world["ticket"].number
    admin, supervisor = _client(callers, "admin"), _client(callers, "supervisor")
    for client, method, url, status in [
        (supervisor, "GET", f"/hotspots/{HUGE}", 404),
        (supervisor, "POST", f"/hotspots/{HUGE}/follow", 404),
        (supervisor, "POST", f"/hotspots/{HUGE}/assign", 404),
        (admin, "GET", f"/admin/users/{HUGE}", 404),
        (admin, "POST", f"/admin/outbox/{HUGE}/retry", 404),
        (supervisor, "GET", f"/tickets?page={HUGE}", 200),
        (admin, "GET", f"/admin/users/?page={HUGE}", 200),
        (admin, "GET", f"/admin/users/log?page={HUGE}", 200),
        (admin, "GET", f"/admin/outbox/?page={HUGE}", 200),
        (supervisor, "GET", f"/tickets/{number}/views?page={HUGE}", 200),
    ]:
        response = _open(client, method, url)
        assert response.status_code == status, f"{method} {url}"
        assert APP_PAGE in response.get_data(as_text=True)
    listed = _open(_client(callers, "dispatcher"), "GET", "/tickets?page=-1").get_data(as_text=True)
    assert number in listed  # the first page
