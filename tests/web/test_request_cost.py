"""The fixed cost of every request (issue 15, "Keep"): the hooks that run on every answer do
no work the answer does not need, and say the same as before.

- No user is loaded, and no query runs, for a static file, whoever asks (the security-headers
  hook used to load the session's user on every answer, static files included); a page and an
  API write load their user once, not again after the view's commit expired it.
- The security headers, `Cache-Control: no-store` for signed-in pages and the API included, are
  what they were on every kind of answer, also where the user is not loaded before the answer
  (a form refused by the CSRF check).
- The session cookie (hotline/cookie_session.py) keeps one signing serializer per set of keys:
  a changed key still refuses a cookie signed with the old one, and a fallback key still reads it.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from hotline.extensions import db
from hotline.machine_paths import is_machine_path
from hotline.security import CSP, HEADERS, MACHINE_CSP, MACHINE_HEADERS
from tests import factories


@contextmanager
def statements():
    """The SQL statements run meanwhile, as a list that fills."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def assert_security_headers(response, **own: str) -> None:
    """The headers of hotline.security, except those the view set itself (`own`, by name with _):
    a page's, or the short set of the machines' paths (hotline.machine_paths)."""
    machine = is_machine_path(response.request.path)
    expected = (MACHINE_HEADERS if machine else HEADERS) | {name.replace("_", "-"): v for name, v in own.items()}
    for name, value in expected.items():
        assert response.headers[name] == value, name
    assert response.headers["Content-Security-Policy"] == (MACHINE_CSP if machine else CSP)
    if machine:  # none of a page's companions
        assert not set(HEADERS) - set(MACHINE_HEADERS) & set(response.headers.keys())


class TestNoWorkAnAnswerDoesNotNeed:
    def test_a_static_file_loads_no_user(self, login, city):
        staff = login(city.operator)
        with statements() as seen:
            response = staff.get("/static/hotline.css")
        assert response.status_code == 200
        assert seen == []  # before: the session's row and user, for a style sheet
        assert_security_headers(response)
        assert response.headers.get("Cache-Control") != "no-store"

    def test_ping_runs_no_query_and_sets_no_cookie(self, client):
        with statements() as seen:
            response = client.get("/api/v1/ping")
        assert response.status_code == 200 and response.get_json() == {"ok": True}
        assert seen == []
        assert "Set-Cookie" not in response.headers
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert "Vary" not in response.headers  # the session is not read: the cookie changes nothing

    def test_a_page_loads_its_user_once(self, login, city):
        """The headers hook and the log line read the user the request loaded, without asking
        for `active` (`is_authenticated`), which reloaded it once the view's commit expired it."""
        staff = login(city.supervisor)
        staff.get("/tickets")
        with statements() as seen:
            assert staff.get("/tickets").status_code == 200
        user_queries = [s for s in seen if re.search(r'\bFROM "?user"?\s', s + " ")]
        assert len(user_queries) == 1, user_queries  # the session's row and its user, joined

    def test_an_api_write_names_its_user_in_the_log_without_reloading_it(self, api, city, caplog):
        ticket = factories.make_routed_ticket(city.operator, category="other")
        script = api(city.supervisor)
        with caplog.at_level(logging.INFO, logger="hotline.request"), statements() as seen:
            response = script.post(f"/api/v1/tickets/{ticket.number}/notes", json={"text": "备注"})
        assert response.status_code == 200
        line = [r for r in caplog.records if r.name == "hotline.request"][-1]
        assert line.user_id == city.supervisor.id
        after_commit = seen[[i for i, s in enumerate(seen) if "INSERT" in s][-1] :]
        assert not [s for s in after_commit if re.search(r'\bFROM "?user"?\s', s + " ")], after_commit


class TestTheSameHeadersAsBefore:
    @pytest.mark.parametrize(
        ("path", "signed_in", "no_store"),
        [
            ("/tickets", True, True),
            ("/nowhere", True, True),  # the error page of a signed-in user carries their menu
            ("/status", True, True),
            # Open311 answers alike whoever's browser asks: its session is not read.
            ("/open311/v2/services.json", True, False),
            ("/open311/v2/services.json", False, False),
            ("/login", False, False),
            ("/api/v1/ping", True, True),
            ("/api/v1/ping", False, True),
            ("/api/v1/tickets", False, True),  # a 401: the API's answers are never stored
            ("/static/hotline.css", True, False),
        ],
    )
    def test_no_store_where_it_was(self, app, login, city, path, signed_in, no_store):
        browser = login(city.operator) if signed_in else app.test_client()
        response = browser.get(path)
        # The status page keeps even its address from the sites its links lead to.
        assert_security_headers(response, **({"Referrer_Policy": "no-referrer"} if path == "/status" else {}))
        assert (response.headers.get("Cache-Control") == "no-store") is no_store
        # A page reads the session (who is signed in); the machines' paths never do.
        assert ("Cookie" in response.headers.get("Vary", "")) is not is_machine_path(path)

    def test_a_form_refused_before_the_user_is_loaded_is_not_stored(self, app, login, city, monkeypatch):
        """The CSRF check refuses the post before the session's user is loaded: the hook still
        finds out that the answer is a signed-in user's."""
        staff = login(city.operator)
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        response = staff.post("/tickets/new", data={})
        assert response.status_code == 400
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"

    def test_hsts_over_https_on_the_api_too(self, client):
        response = client.get("/api/v1/ping", base_url="https://hotline.example.gov")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


class TestTheSessionCookie:
    def test_a_new_key_refuses_the_old_cookie_and_a_fallback_reads_it(self, app, login, city, monkeypatch):
        old = app.secret_key
        first = login(city.operator)
        assert first.get("/tickets").status_code == 200
        monkeypatch.setattr(app, "secret_key", "a-new-key")
        assert first.get("/tickets").status_code == 302  # signed with the old key: not signed in
        monkeypatch.setattr(app, "secret_key", old)
        second = login(city.operator)
        monkeypatch.setattr(app, "secret_key", "a-new-key")
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old])
        assert second.get("/tickets").status_code == 200

    def test_logging_out_deletes_the_cookie(self, login, city):
        staff = login(city.operator)
        response = staff.post("/logout")
        assert response.status_code == 302
        assert staff.get("/tickets").status_code == 302
