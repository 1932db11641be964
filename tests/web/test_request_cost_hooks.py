"""The fixed cost of every request, second round (issue 15, "Keep": ping within 10 % of a bare
Flask app): what the hooks now skip, and that they still say the same.

- The request line is written straight to a JSON stream handler (production's), without a
  LogRecord, and is the line the formatter writes for the record, character for character;
  any other handler (a capture) still gets the record.
- Flask's check of each hook for a coroutine is made once per function, not on every request.
- The API's JSON is what Flask's provider writes (dates, decimals, Chinese, a lone surrogate).
- Headers a view set itself are kept once; the request id is echoed once.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import flask.app
import pytest
from flask import Response, g

from hotline import logs, security
from hotline.api.responses import json_response

LINES = [
    ("abc-123.nginx", "GET", "/api/v1/ping", 200, 0.4, None),
    (None, "POST", "/api/v1/tickets", 201, 12.0, 7),
    ("f" * 32, "GET", '/tickets/"quoted"\\back\tslash', 404, None, 2**31 - 1),
    ("r", "GET", "/search/人民路/噪音", 302, 1234.5, 3),
]


@pytest.mark.parametrize(("request_id", "method", "path", "status", "duration", "user_id"), LINES)
def test_the_direct_line_is_the_formatters_line(app, request_id, method, path, status, duration, user_id) -> None:
    fields = {"method": method, "path": path, "status": status, "duration_ms": duration, "user_id": user_id}
    record = logs.request_log.makeRecord(
        logs.request_log.name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None, "f", fields
    )
    with app.test_request_context("/x"):
        if request_id:
            g.request_id = request_id
        by_record = logs.JsonFormatter().format(record)
    direct = logs._request_line(request_id, method, path, status, duration, user_id)
    stamp = re.compile(r'"time": "[^"]+"')
    assert stamp.sub('"time": ""', direct) == stamp.sub('"time": ""', by_record)
    assert json.loads(direct)["path"] == path


def test_the_time_is_written_as_the_formatter_writes_it() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    written = logs._utc_now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", written)
    assert before <= datetime.fromisoformat(written) <= datetime.now(UTC)
    time.sleep(0.01)
    assert logs._utc_now_iso() >= written


def json_stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """A JSON stream handler as production has, the request logger's only one. Called in the
    test's body: pytest hangs its capture on loggers as the test starts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    monkeypatch.setattr(logs.request_log, "handlers", [handler])
    monkeypatch.setattr(logs.request_log, "propagate", False)
    monkeypatch.setattr(logs.request_log, "level", logging.INFO)
    logging.getLogger().manager._clear_cache()  # isEnabledFor's cache of the level
    return stream


def test_a_json_stream_gets_the_line_without_a_record(client, monkeypatch) -> None:
    stream = json_stream(monkeypatch)

    def no_record(*_args, **_kwargs):
        raise AssertionError("a LogRecord was made for the request line")

    monkeypatch.setattr(logs.request_log, "makeRecord", no_record)
    response = client.get("/api/v1/ping", headers={"X-Request-ID": "direct-1"})
    assert response.status_code == 200
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["request_id"] == "direct-1" and line["message"] == "GET /api/v1/ping 200"
    assert (line["level"], line["logger"], line["method"], line["path"], line["status"]) == (
        "INFO",
        "hotline.request",
        "GET",
        "/api/v1/ping",
        200,
    )
    assert isinstance(line["duration_ms"], float) and line["user_id"] is None


def test_a_filter_on_the_way_gets_the_record(client, monkeypatch) -> None:
    stream = json_stream(monkeypatch)
    made: list[logging.LogRecord] = []
    real = logs.request_log.makeRecord

    def making(*args, **kwargs) -> logging.LogRecord:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(logs.request_log, "makeRecord", making)
    seen: list[str] = []
    logs.request_log.addFilter(lambda record: seen.append(record.path) or True)
    try:
        client.get("/api/v1/ping")
    finally:
        logs.request_log.filters.clear()
    assert seen == ["/api/v1/ping"] and len(made) == 1
    assert json.loads(stream.getvalue())["path"] == "/api/v1/ping"


def test_a_capture_gets_the_record(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hotline.request"):
        client.get("/api/v1/ping", headers={"X-Request-ID": "cap-1"})
    (record,) = [r for r in caplog.records if r.name == "hotline.request"]
    assert (record.path, record.status, record.user_id) == ("/api/v1/ping", 200, None)


def test_request_ids_are_random_hex(client) -> None:
    ids = {client.get("/api/v1/ping").headers["X-Request-ID"] for _ in range(20)}
    assert len(ids) == 20 and all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)


def test_each_hook_is_checked_for_a_coroutine_once(client, monkeypatch) -> None:
    asked: list = []
    real = flask.app.iscoroutinefunction

    def counting(func) -> bool:
        asked.append(func)
        return real(func)

    client.get("/api/v1/ping")  # every hook of a ping seen once
    monkeypatch.setattr(flask.app, "iscoroutinefunction", counting)
    for _ in range(3):
        assert client.get("/api/v1/ping").status_code == 200
    assert asked == []


def test_a_coroutine_is_still_told_apart(app) -> None:
    async def hello() -> str:
        return "hello"

    def plain() -> str:
        return "plain"

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    for _ in range(2):  # Flask's answer each time: without asgiref, an async view cannot run
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(hello)


def test_the_apis_json_is_the_providers(app) -> None:
    data = {
        "day": date(2026, 12, 5),
        "at": datetime(2026, 12, 5, 18, 0, tzinfo=UTC),
        "amount": Decimal("1.50"),
        "id": uuid.UUID(int=7),
        "text": "人民路 “噪音”",
        "nested": [1, 2.5, None, True, {"b": 1, "a": 2}],
    }
    with app.test_request_context("/api/v1/x"):
        assert (
            json_response(data).get_data(as_text=True)
            == app.json.dumps(data, ensure_ascii=False, sort_keys=False) + "\n"
        )
        lone = {"text": "bad \ud800 surrogate"}
        assert (
            json_response(lone).get_data(as_text=True)
            == app.json.dumps(lone, ensure_ascii=True, sort_keys=False) + "\n"
        )


@pytest.mark.parametrize(
    ("path", "policy", "cache"),
    [
        ("/api/v1/x", security.MACHINE_CSP, "no-store"),  # the API's answers are never stored
        ("/tickets/x", security.CSP, "private"),  # nobody signed in: the view's own stays
    ],
)
def test_headers_a_view_set_are_kept_once(app, path: str, policy: str, cache: str) -> None:
    response = Response("x")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private"
    response.headers["X-Request-ID"] = "from-the-view"
    with app.test_request_context(path):
        g.request_id = "req-9"
        for hook in (security._add_headers, logs._finish_request):
            response = hook(response)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == [cache]
    assert response.headers.getlist("X-Request-ID") == ["req-9"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert response.headers.getlist("Content-Security-Policy") == [policy]
