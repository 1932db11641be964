"""Login throttling, session cookies, security headers and the content security policy."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from redis import Redis

import config
from hotline.extensions import db, jobs
from hotline.security import CSP
from hotline.services.accounts import login_throttle
from tests import factories
from tests.conftest import need_service
from tests.web.conftest import text_of

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def fresh_counts(app):
    """No failed logins counted before or after a test, in this process or in Redis."""
    login_throttle.clear()
    yield
    login_throttle.clear()


@pytest.fixture
def limits(app, monkeypatch):
    """Small limits, so that a test needs few attempts: 3 per name and address, 6 per address,
    5 per name from every address."""
    monkeypatch.setitem(app.config, "HOTLINE_LOGIN_PAIR_FAILURES", 3)
    monkeypatch.setitem(app.config, "HOTLINE_LOGIN_ADDRESS_FAILURES", 6)
    monkeypatch.setitem(app.config, "HOTLINE_LOGIN_ACCOUNT_FAILURES", 5)
    monkeypatch.setitem(app.config, "HOTLINE_LOGIN_WINDOW", 900)


def attempt(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers=EN,
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture(params=["redis", "local"])
def backend(request, app, monkeypatch):
    """The counts in Redis (shared by the gunicorn workers) or, without Redis, in the process."""
    if request.param == "redis":
        need_service("TEST_REDIS_URL", "Redis")
        assert jobs.connection is not None
    else:
        monkeypatch.setitem(app.extensions["hotline_jobs"], "connection", None)
    login_throttle.clear()
    return request.param


class TestLoginThrottle:
    def test_a_name_is_blocked_from_an_address_after_its_failures_even_with_the_right_password(
        self, client, city, limits, backend
    ):
        for _ in range(3):
            assert "Wrong username or password." in text_of(attempt(client, "operator", "wrong"))
        blocked = attempt(client, "operator", factories.PASSWORD)
        assert blocked.status_code == 429
        assert "Too many failed logins. Try again in 15 minutes." in text_of(blocked)
        assert client.get("/tickets").status_code == 302  # not logged in
        # Other accounts from elsewhere are not affected.
        assert attempt(client, "dispatcher", factories.PASSWORD, address="10.0.0.2").status_code == 302

    def test_a_stranger_cannot_lock_the_owner_out(self, app, city, backend):
        """Issue 14.4: five wrong passwords for `dispatcher` from one address (the default limits)
        shut that address out, not the dispatch desk logging in from its own."""
        stranger, desk = app.test_client(), app.test_client()
        for _ in range(5):
            assert attempt(stranger, "dispatcher", "guess", address="203.0.113.9").status_code == 200
        assert attempt(stranger, "dispatcher", factories.PASSWORD, address="203.0.113.9").status_code == 429
        assert attempt(desk, "dispatcher", factories.PASSWORD, address="10.0.0.5").status_code == 302
        assert desk.get("/dispatch").status_code == 200

    def test_an_account_under_attack_refuses_addresses_that_failed_never_a_fresh_one(self, app, city, limits, backend):
        """Past the name's failures from every address (5 here), an address that failed twice at
        the name is refused (two guesses per address), one that failed once may still log in,
        and one that never failed always may: the account slows down, it never locks."""
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            for _ in range(2):
                assert attempt(app.test_client(), "dispatcher", "guess", address=address).status_code == 200
        refused = attempt(app.test_client(), "dispatcher", factories.PASSWORD, address="198.51.100.1")
        assert refused.status_code == 429 and "Too many failed logins" in text_of(refused)
        typo = app.test_client()
        assert attempt(typo, "dispatcher", "typo", address="10.0.0.6").status_code == 200
        assert attempt(typo, "dispatcher", factories.PASSWORD, address="10.0.0.6").status_code == 302
        assert attempt(app.test_client(), "dispatcher", factories.PASSWORD, address="10.0.0.7").status_code == 302
        # Another name is not under attack: two failures from an address do not stop it.
        other = app.test_client()
        for _ in range(2):
            attempt(other, "operator", "wrong", address="198.51.100.1")
        assert attempt(other, "operator", factories.PASSWORD, address="198.51.100.1").status_code == 302

    def test_unknown_names_are_throttled_alike(self, client, city, limits, backend):
        """No account enumeration: an unknown name is counted and blocked like a known one."""
        answers = [
            attempt(client, name, "wrong", address=f"10.1.0.{i % 2}")
            for i, name in enumerate(["nobody", "operator"] * 3)
        ]
        assert {a.status_code for a in answers} == {200}
        for index, name in enumerate(("nobody", "operator")):
            response = attempt(client, name, "wrong", address=f"10.1.0.{index}")
            assert response.status_code == 429 and "Too many failed logins" in text_of(response)

    def test_an_address_is_blocked_after_its_failures_across_accounts(self, client, city, limits, backend):
        for index in range(6):
            assert attempt(client, f"guess{index}", "wrong").status_code == 200
        assert attempt(client, "operator", factories.PASSWORD).status_code == 429
        # The same account from another address still logs in.
        assert attempt(client, "operator", factories.PASSWORD, address="10.0.0.9").status_code == 302

    def test_success_forgives_the_addresses_failures_at_the_name(self, app, city, limits, backend):
        for _ in range(2):  # four failures in all from one address: never three since the last success
            first = app.test_client()
            for _ in range(2):
                assert attempt(first, "operator", "wrong").status_code == 200
            assert attempt(first, "operator", factories.PASSWORD).status_code == 302

    def test_the_window_ends(self, client, city, limits, monkeypatch, app):
        monkeypatch.setitem(app.extensions["hotline_jobs"], "connection", None)
        clock = [1_000_000.0]
        monkeypatch.setattr(login_throttle.time, "time", lambda: clock[0])
        for _ in range(3):
            attempt(client, "operator", "wrong")
        clock[0] += 600
        response = attempt(client, "operator", factories.PASSWORD)
        assert response.status_code == 429 and "Try again in 5 minutes." in text_of(response)
        clock[0] += 301
        assert attempt(client, "operator", factories.PASSWORD).status_code == 302

    def test_redis_down_falls_back_to_counting_in_the_process(self, client, city, limits, app, monkeypatch):
        with socket.socket() as sock:  # a port nothing listens on: every command is refused
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        monkeypatch.setitem(app.extensions["hotline_jobs"], "connection", Redis(port=port))
        for _ in range(3):
            assert attempt(client, "operator", "wrong").status_code == 200
        assert attempt(client, "operator", factories.PASSWORD).status_code == 429
        assert login_throttle.local_store()._counts  # counted here

    def test_names_and_addresses_are_not_written_in_clear(self, client, city, limits):
        need_service("TEST_REDIS_URL", "Redis")
        attempt(client, "operator", "wrong", address="10.9.8.7")
        keys = [key.decode() for key in jobs.connection.scan_iter(f"{login_throttle.PREFIX}:*")]
        assert len(keys) == 3  # the name at the address, the name, the address
        assert not any("operator" in key or "10.9.8.7" in key for key in keys)
        assert all(0 < jobs.connection.ttl(key) <= 900 for key in keys)


class TestFailedLogins:
    """Supervisors see who was tried, from where and how often (ASVS 7.2: failed logins are logged)."""

    def test_supervisors_see_the_failed_logins(self, app, city, login):
        for _ in range(2):
            attempt(app.test_client(), "dispatcher", "guess", address="203.0.113.9")
        attempt(app.test_client(), "Hunter2-my-password", "x", address="203.0.113.10")
        attempt(app.test_client(), "operator", factories.PASSWORD, address="10.0.0.1")  # a success: not listed
        for user in (city.supervisor, city.admin):
            page = login(user).get("/supervision/failed-logins", headers=EN)
            assert page.status_code == 200
            text = text_of(page)
            html = page.get_data(as_text=True)
            assert 'data-user="dispatcher" data-address="203.0.113.9" data-count="2"' in html
            assert 'data-user="Hu***" data-address="203.0.113.10" data-count="1"' in html
            assert "Hunter2" not in html and "no such account" in text
            assert 'data-user="operator"' not in html

    @pytest.mark.parametrize("role", ["operator", "dispatcher", "department"])
    def test_others_may_not(self, city, login, role):
        user = {"operator": city.operator, "dispatcher": city.dispatcher, "department": city.roads_staff}[role]
        assert login(user).get("/supervision/failed-logins").status_code == 403

    def test_anonymous_goes_to_the_login_page(self, client):
        response = client.get("/supervision/failed-logins")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


class TestSessions:
    def test_login_starts_a_fresh_session_but_keeps_the_language(self, client, city):
        client.post("/locale", data={"locale": "en"})
        with client.session_transaction() as session:
            session["planted"] = "by an attacker"
        client.post("/login", data={"username": "operator", "password": factories.PASSWORD})
        with client.session_transaction() as session:
            assert "planted" not in session and session["locale"] == "en"
            assert session["_user_id"] == str(city.operator.id)

    def test_the_session_cookie_is_httponly_and_samesite(self, client, city):
        response = client.post("/login", data={"username": "operator", "password": factories.PASSWORD})
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    def test_production_cookies_are_secure_and_sessions_end(self, monkeypatch):
        monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test")
        monkeypatch.delenv("HOTLINE_SECURE_COOKIES", raising=False)
        settings = config.ProductionConfig()
        assert settings.SESSION_COOKIE_SECURE and settings.REMEMBER_COOKIE_SECURE
        assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"
        assert timedelta(hours=12) == settings.PERMANENT_SESSION_LIFETIME
        monkeypatch.setenv("HOTLINE_SESSION_HOURS", "8")
        assert timedelta(hours=8) == config.TestingConfig().PERMANENT_SESSION_LIFETIME

    def test_a_deactivated_user_is_logged_out_at_the_next_request(self, login, city):
        client = login(city.operator)
        assert client.get("/tickets").status_code == 200
        city.operator.active = False
        db.session.commit()
        assert client.get("/tickets").status_code == 302


class TestHeaders:
    def test_pages_carry_the_policy_and_its_companions(self, login, city):
        response = login(city.operator).get("/tickets")
        headers = response.headers
        assert headers["Content-Security-Policy"] == CSP
        assert "script-src 'self';" in CSP and "'unsafe-inline'" not in CSP.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"  # staff pages with callers' data are not cached
        assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS

    def test_api_answers_are_not_cached(self, api, city):
        response = api(city.operator).get("/api/v1/tickets")
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"

    def test_hsts_over_https_only(self, client, city):
        response = client.get("/login", base_url="https://hotline.example.gov")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    def test_static_files_stay_cacheable(self, login, city):
        response = login(city.operator).get("/static/hotline.css")
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") != "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    @pytest.mark.parametrize("path", ["/login", "/status", "/open311/v2/services.json", "/api/v1/tickets"])
    def test_the_machine_and_public_paths_answer_as_before_with_the_headers(self, client, city, path):
        response = client.get(path)
        assert response.status_code in (200, 401)
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    def test_no_template_has_inline_script(self, app):
        """The policy forbids inline script: every page's script must be a file in static/."""
        import re
        from pathlib import Path

        offenders = []
        for path in Path(app.template_folder).rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in tag:
                    offenders.append(str(path))
            tags = re.findall(r"<[a-zA-Z][^>]*>", text)
            if any(re.search(r"\son[a-z]+\s*=", tag) for tag in tags) or "javascript:" in text:
                offenders.append(str(path))
        assert offenders == []
