"""The fixed cost of every request, third round (issue 15, "Keep": ping within 10 % of a bare
Flask app): what the hooks and the answer now skip, and that they still say the same.

- The server's copy of the headers (`HotlineResponse.get_wsgi_headers`) is Werkzeug's, header
  for header, without checking each value a second time.
- The hooks resolve the request's proxies once each (`request`, `session`, `g`, `current_app`):
  each attribute read through a proxy cost more than a microsecond, twenty of them a ping.
"""

from __future__ import annotations

import os
import sys

import pytest
import werkzeug.datastructures.headers as werkzeug_headers
from flask import Response, request, session
from werkzeug.local import LocalProxy

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
    """Reading the session through `_get_current_object()` marks it accessed as the proxy did."""
    for path in ("/api/v1/ping", "/login", "/static/hotline.css"):
        assert "Cookie" in client.get(path).headers.get("Vary", ""), path


def test_get_current_object_marks_the_session_accessed(app) -> None:
    with app.test_request_context("/api/v1/ping"):
        real = request._get_current_object()
        assert real.path == "/api/v1/ping"
        current = session._get_current_object()
        assert current.accessed
