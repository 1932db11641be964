"""The fixed cost of every request, third round (issue 15, "Keep": ping within 10 % of a bare
Flask app): what the hooks and the answer now skip, and that they still say the same.

- The server's copy of the headers (`HotlineResponse.get_wsgi_headers`) is Werkzeug's, header
  for header, without checking each value a second time.
- The hooks resolve the request's proxies once each (`request`, `session`, `g`, `current_app`):
  each attribute read through a proxy cost more than a microsecond, twelve of them a ping.
- The log line finds no user on `g` without raising; request ids come 256 to a system call,
  unique across threads and forked workers.
- The log line goes to the standard error stream without a flush that has nothing to do (and
  without the text layer when it writes through): one system call per line, as before.
- Flask-Login's remember-cookie hook is left at once for an empty session (it has nothing to
  set or clear there), and runs as before for any other.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading

import flask
import flask_login.login_manager
import pytest
import werkzeug.datastructures.headers as werkzeug_headers
from flask import Response, request, session
from flask.ctx import _AppCtxGlobals
from flask_login import LoginManager
from werkzeug.local import LocalProxy

from hotline import logs, security
from hotline.extensions import login_manager
from hotline.response_headers import HotlineResponse, append


def _answers() -> list[tuple[str, HotlineResponse]]:
    def make(*args, **kwargs) -> HotlineResponse:
        return HotlineResponse(*args, **kwargs)

    plain = make("hello", mimetype="text/plain")
    chinese = make("人民路噪音", mimetype="text/html")
    own_length = make("abc")
    own_length.headers["Content-Length"] = "3"
    appended = make('{"ok": true}\n', mimetype="application/json")
    append(appended.headers, (("X-Frame-Options", "DENY"), ("X-Request-ID", "f" * 32)))
    streamed = make(iter([b"a", b"b"]), mimetype="text/csv")
    redirect = make("", status=302)
    redirect.headers["Location"] = "/tickets/人民路?q=1"
    located = make("x")
    located.headers["Content-Location"] = "/a b"
    empty = make("", status=204)
    unchanged = make("", status=304)
    unchanged.headers["Content-Type"] = "text/html"
    early = make("", status=101)
    repeated = make("x")
    repeated.headers.add("Set-Cookie", "a=1")
    repeated.headers.add("Set-Cookie", "b=2")
    repeated.headers.add("Vary", "Cookie")
    names = ["plain", "chinese", "own_length", "appended", "streamed", "redirect", "located", "empty"]
    names += ["unchanged", "early", "repeated"]
    answers = [plain, chinese, own_length, appended, streamed, redirect, located, empty, unchanged, early, repeated]
    return list(zip(names, answers, strict=True))


@pytest.mark.parametrize(("name", "answer"), _answers(), ids=[name for name, _ in _answers()])
def test_the_servers_headers_are_werkzeugs(app, name, answer) -> None:
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "hotline.example.gov", "SCRIPT_NAME": "", "PATH_INFO": "/x"}
    ours = answer.get_wsgi_headers(environ)
    werkzeugs = Response.get_wsgi_headers(answer, environ)
    assert ours.to_wsgi_list() == werkzeugs.to_wsgi_list(), name
    assert ours is not answer.headers and ours._list is not answer.headers._list  # a copy, as Werkzeug's
    ours.add("X-Later", "1")
    assert "X-Later" not in answer.headers


def test_the_servers_copy_checks_no_value_again(app, monkeypatch) -> None:
    """Werkzeug's copy for the server checked every value again (about 1 µs a header, eleven
    headers on a ping); now a value is checked when it is set, and only then."""
    with app.test_request_context("/api/v1/ping"):
        answer = app.response_class('{"ok": true}\n', mimetype="application/json")
        append(answer.headers, [(f"X-Header-{i}", "value") for i in range(9)])
        checked: list[str] = []
        real = werkzeug_headers._str_header_value

        def counting(value):
            checked.append(value)
            return real(value)

        monkeypatch.setattr(werkzeug_headers, "_str_header_value", counting)
        headers = answer.get_wsgi_headers(request.environ)
    assert len(headers) == 11 and headers["Content-Length"] == "13"
    assert checked == []


def test_the_hooks_resolve_each_proxy_once(client, monkeypatch) -> None:
    """A ping's hooks (and its view) read no attribute through a proxy (`request.path`,
    `session.get`, `current_app.config`): each such read cost more than a microsecond, twelve
    of them a ping. They take the object behind the proxy once (`_get_current_object()`)."""
    client.get("/api/v1/ping")
    ours: list[str] = []
    real = LocalProxy.__getattr__

    def reading(proxy, name):
        caller = sys._getframe(1).f_code
        if f"{os.sep}hotline{os.sep}" in caller.co_filename:
            ours.append(f"{caller.co_name}: {name}")
        return real(proxy, name)

    monkeypatch.setattr(LocalProxy, "__getattr__", reading)
    assert client.get("/api/v1/ping").status_code == 200
    assert ours == []


def test_the_session_read_by_the_hooks_still_says_vary_cookie(client) -> None:
    """Reading the session through `_get_current_object()` marks it accessed as the proxy did.
    The machines' paths (hotline.machine_paths) do not read it: their answers do not vary."""
    for path in ("/login", "/static/hotline.css"):
        assert "Cookie" in client.get(path).headers.get("Vary", ""), path
    for path in ("/api/v1/ping", "/open311/v2/services.json"):
        assert "Cookie" not in client.get(path).headers.get("Vary", ""), path


def test_get_current_object_marks_the_session_accessed(app) -> None:
    with app.test_request_context("/api/v1/ping"):
        real = request._get_current_object()
        assert real.path == "/api/v1/ping"
        current = session._get_current_object()
        assert current.accessed


def test_no_exception_is_raised_to_look_for_a_user_on_g(client, monkeypatch, caplog) -> None:
    """The log line asked `getattr(g, "api_user", None)`: on a request without one, g raised
    KeyError and AttributeError, twice a request, some microseconds. It asks `g.get`."""
    client.get("/api/v1/ping")
    missed: list[str] = []
    real = _AppCtxGlobals.__getattr__

    def missing(self, name):
        missed.append(name)
        return real(self, name)

    monkeypatch.setattr(_AppCtxGlobals, "__getattr__", missing)
    with caplog.at_level(logging.INFO, logger="hotline.request"):
        assert client.get("/api/v1/ping").status_code == 200
    (line,) = [r for r in caplog.records if r.name == "hotline.request"]
    assert line.user_id is None
    assert missed == []


class TestRequestIds:
    def test_one_system_call_draws_many(self, monkeypatch) -> None:
        draws: list[int] = []
        real = os.urandom

        def drawing(size: int) -> bytes:
            draws.append(size)
            return real(size)

        monkeypatch.setattr(logs.os, "urandom", drawing)
        logs._ids.clear()
        ids = [logs.new_request_id() for _ in range(600)]
        assert len(set(ids)) == 600 and all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)
        assert draws == [16 * 256] * 3  # before: one os.urandom(16) per request

    def test_threads_never_share_an_id(self) -> None:
        logs._ids.clear()
        taken: list[list[str]] = [[] for _ in range(8)]

        def take(mine: list[str]) -> None:
            for _ in range(500):
                mine.append(logs.new_request_id())

        threads = [threading.Thread(target=take, args=(mine,)) for mine in taken]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        every = [one for mine in taken for one in mine]
        assert len(every) == 4000 and len(set(every)) == 4000

    def test_a_forked_worker_draws_its_own(self) -> None:
        """gunicorn forks its workers from the master: ids drawn before the fork are not handed
        out again in the child."""
        logs._ids.clear()
        logs.new_request_id()  # the pool holds 255 ids now
        before = set(logs._ids)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its first ids, to the parent
            try:
                os.write(write, " ".join(logs.new_request_id() for _ in range(5)).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child = pipe.read().split()
        os.waitpid(pid, 0)
        assert len(child) == 5 and not before & set(child)
        assert set(logs._ids) == before  # the parent's pool untouched


class TestRememberCookie:
    def test_an_empty_session_skips_flask_logins_hook(self, client, monkeypatch) -> None:
        """Flask-Login's hook asks its `session` proxy for `_remember` (three reads through the
        proxy); with an empty session it is not run."""
        client.get("/api/v1/ping")
        asked: list[str] = []

        class Watched:
            def __contains__(self, key: str) -> bool:
                asked.append(key)
                return key in flask.session

            def __getattr__(self, name: str):
                asked.append(name)
                return getattr(flask.session, name)

        monkeypatch.setattr(flask_login.login_manager, "session", Watched())
        response = client.get("/api/v1/ping")
        assert asked == [] and "Set-Cookie" not in response.headers
        assert "Vary" not in response.headers  # the API's session is not read at all

    def test_a_session_with_a_key_gets_it(self, app) -> None:
        with app.test_request_context("/"):
            session["_user_id"] = "7"
            session["_remember"] = "set"
            response = login_manager._update_remember_cookie(app.response_class("x"))
            assert "remember_token=" in response.headers["Set-Cookie"]
            assert "_remember" not in session
        with app.test_request_context("/"):
            session["_remember"] = "clear"
            response = login_manager._update_remember_cookie(app.response_class("x"))
            assert "remember_token=;" in response.headers["Set-Cookie"]  # cleared

    def test_refreshing_each_request_still_runs_it(self, app, monkeypatch) -> None:
        monkeypatch.setitem(app.config, "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", True)
        called: list[int] = []
        real = LoginManager._update_remember_cookie
        monkeypatch.setattr(LoginManager, "_update_remember_cookie", lambda s, r: called.append(1) or real(s, r))
        with app.test_request_context("/"):
            login_manager._update_remember_cookie(app.response_class("x"))
        assert called == [1]


class TestTheLineReachesTheSystemAtOnce:
    """The request line skips the text layer or the flush where they add nothing, and is in the
    file (past the process) when the request's hook returns, in order with other writes."""

    @staticmethod
    def stderr_like(path, unbuffered: bool) -> io.TextIOWrapper:
        """A stream opened as Python opens stderr: write-through to the file itself with -u,
        else line-buffered."""
        if unbuffered:
            return io.TextIOWrapper(open(path, "wb", buffering=0), "utf-8", "backslashreplace", write_through=True)
        return io.TextIOWrapper(open(path, "wb"), "utf-8", "backslashreplace", line_buffering=True)

    @pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "line-buffered"])
    def test_in_the_file_at_once_without_a_flush(self, tmp_path, unbuffered) -> None:
        path = tmp_path / "stderr.log"
        stream = self.stderr_like(path, unbuffered)
        handler = logging.StreamHandler(stream)
        called: list[str] = []

        def watch(_frame, event: str, arg) -> None:
            if event == "c_call":
                called.append(arg.__name__)

        try:
            stream.write("before\n")  # another logger's line, through the text layer
            sys.setprofile(watch)
            try:
                logs._write_request_line([handler], "r-1", "GET", "/人民路", 200, 0.5, None)
            finally:
                sys.setprofile(None)
            lines = path.read_text(encoding="utf-8").splitlines()  # in the file already
            assert lines[0] == "before" and json.loads(lines[1])["path"] == "/人民路"
            logs._write_request_line([handler], None, "GET", "/bad \udc80", 404, None, None)
            assert path.read_bytes().endswith(b'"/bad \\udc80", "status": 404, "duration_ms": null, "user_id": null}\n')
        finally:
            stream.close()
        assert "flush" not in called, called  # before: a flush per line, with nothing to do

    def test_any_other_stream_is_flushed(self) -> None:
        flushed: list[str] = []

        class Stream(io.StringIO):
            def flush(self) -> None:
                flushed.append(self.getvalue())

        stream = Stream()
        logs.write_line(stream, "line\n")
        assert flushed == ["line\n"]


class TestHeaderListsPerKind:
    def test_an_answer_that_set_none_gets_the_list_of_its_kind(self, app, client) -> None:
        response = client.get("/api/v1/ping")
        lists = app.extensions["hotline_header_lists"]
        pairs = lists[(True, False, True)]  # a machine's path, plain HTTP, not to be stored
        assert [(name, response.headers[name]) for name, _value in pairs] == list(pairs)
        assert ("Cache-Control", "no-store") in pairs and "Strict-Transport-Security" not in dict(pairs)
        assert ("Content-Security-Policy", security.MACHINE_CSP) in pairs
        client.get("/api/v1/ping", base_url="https://hotline.example.gov")
        assert ("Strict-Transport-Security", security.HSTS) in lists[(True, True, True)]
        assert client.get("/api/v1/ping").headers.getlist("X-Frame-Options") == ["DENY"]
        page = client.get("/login")
        assert [(name, page.headers[name]) for name, _value in lists[(False, False, False)]] == list(
            lists[(False, False, False)]
        )
        assert page.headers["Content-Security-Policy"] == security.CSP

    def test_changed_defaults_make_new_lists(self, app, client, monkeypatch) -> None:
        client.get("/api/v1/ping")
        policy = security.CSP + "; upgrade-insecure-requests"
        changed = tuple(
            (lower, name, policy if lower == "content-security-policy" else value)
            for lower, name, value in security._DEFAULTS
        )
        monkeypatch.setitem(app.extensions, "hotline_headers", changed)
        assert client.get("/login").headers["Content-Security-Policy"] == policy
        assert client.get("/api/v1/ping").headers["Content-Security-Policy"] == security.MACHINE_CSP
        monkeypatch.undo()
        assert client.get("/login").headers["Content-Security-Policy"] == security.CSP
