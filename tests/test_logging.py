"""Structured logs: a request id on every request (echoed), one request line with method, path,
status, duration and user id (never a name or a phone), JSON lines when HOTLINE_LOG_FORMAT=json,
and the job's id and function on lines logged inside an RQ job."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotline import logs
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def test_a_request_id_is_made_and_echoed(client) -> None:
    first = client.get("/api/v1/ping").headers["X-Request-ID"]
    second = client.get("/api/v1/ping").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_the_proxys_request_id_is_kept(client) -> None:
    response = client.get("/api/v1/ping", headers={"X-Request-ID": "abc-123.nginx"})
    assert response.headers["X-Request-ID"] == "abc-123.nginx"


@pytest.mark.parametrize("forged", ["two words", "x" * 200, 'quote"d', "line\\nbreak"])
def test_an_odd_request_id_is_replaced(client, forged: str) -> None:
    echoed = client.get("/api/v1/ping", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
    assert echoed != forged and len(echoed) == 32


def test_one_request_line_with_user_id_and_no_personal_data(api, city, caplog) -> None:
    client = api(city.operator)
    body = {
        "caller_phone": "13800138000",
        "caller_name": "张三",
        "type": "complaint",
        "category": "potholes",
        "description": "人民路有坑",
    }
    with caplog.at_level(logging.INFO, logger="hotline.request"):
        response = client.post("/api/v1/tickets?caller=13800138000", json=body, headers={"X-Request-ID": "req-1"})
    assert response.status_code == 201
    lines = [r for r in caplog.records if r.name == "hotline.request"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status, line.user_id) == ("POST", "/api/v1/tickets", 201, city.operator.id)
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    formatted = logs.JsonFormatter().format(line)
    assert "13800138000" not in formatted and "张三" not in formatted


def test_anonymous_request_has_no_user_id(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="hotline.request"):
        client.get("/api/v1/ping")
    (line,) = [r for r in caplog.records if r.name == "hotline.request"]
    assert line.user_id is None and line.status == 200


def test_json_line_fields(app) -> None:
    record = logging.LogRecord("hotline.x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.ticket_id = 7
    with app.test_request_context("/x"):
        from flask import g

        g.request_id = "rid-1"
        data = json.loads(logs.JsonFormatter().format(record))
    assert data["level"] == "WARNING" and data["logger"] == "hotline.x" and data["message"] == "hello world"
    assert data["request_id"] == "rid-1" and data["ticket_id"] == 7
    assert data["time"].endswith("+00:00")


def test_json_line_inside_a_job_names_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    import rq

    job = SimpleNamespace(id="job-42", func_name="hotline.jobs.route_ticket_job")
    monkeypatch.setattr(rq, "get_current_job", lambda: job)
    record = logging.LogRecord("hotline.jobs", logging.INFO, __file__, 1, "routed", (), None)
    data = json.loads(logs.JsonFormatter().format(record))
    assert data["job_id"] == "job-42" and data["job_func"] == "hotline.jobs.route_ticket_job"


def test_gunicorn_access_record_becomes_a_request_line() -> None:
    atoms = {"h": "127.0.0.1", "m": "POST", "U": "/api/v1/tickets", "s": "201", "D": 12345, "{x-request-id}o": "r1"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s %(s)s", (atoms,), None)
    data = json.loads(logs.JsonFormatter().format(record))
    assert data["method"] == "POST" and data["path"] == "/api/v1/tickets" and data["status"] == 201
    assert data["duration_ms"] == 12.3 and data["request_id"] == "r1"


def test_json_format_writes_json_lines_to_stderr(database_url: str) -> None:
    script = (
        "from config import TestingConfig\n"
        "from hotline import create_app\n"
        "app = create_app(TestingConfig())\n"
        "app.test_client().get('/api/v1/ping', headers={'X-Request-ID': 'sub-1'})\n"
        "app.logger.warning('done')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "TEST_DATABASE_URL": database_url, "HOTLINE_LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    request_line = next(line for line in lines if line["logger"] == "hotline.request")
    assert request_line["request_id"] == "sub-1" and request_line["path"] == "/api/v1/ping"
    assert request_line["status"] == 200 and request_line["level"] == "INFO"
    assert any(line["message"] == "done" and line["level"] == "WARNING" for line in lines)


def test_production_defaults_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import DevelopmentConfig, ProductionConfig

    monkeypatch.delenv("HOTLINE_LOG_FORMAT", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test")
    assert ProductionConfig().HOTLINE_LOG_FORMAT == "json"
    assert DevelopmentConfig().HOTLINE_LOG_FORMAT == "text"


def test_user_names_never_logged(api, city, caplog) -> None:
    client = api(city.operator)
    factories.make_ticket(city.operator)
    with caplog.at_level(logging.INFO, logger="hotline.request"):
        client.get("/api/v1/tickets")
    text = "\n".join(logs.JsonFormatter().format(r) for r in caplog.records if r.name == "hotline.request")
    assert city.operator.username not in text and str(city.operator.id) in text


def test_gunicorn_conf_logs_json_in_production_without_a_second_access_line(monkeypatch) -> None:
    import runpy

    for name in ("HOTLINE_LOG_FORMAT", "GUNICORN_ACCESS_LOG", "HOTLINE_PROFILE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_CONFIG", "production")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == 3 and settings["worker_class"] == "sync" and settings["accesslog"] is None
    config = settings["logconfig_dict"]
    assert config["formatters"]["json"]["()"] == "hotline.logs.JsonFormatter"
    assert config["loggers"]["gunicorn.access"]["level"] == "WARNING"  # the app logs each request itself
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "1")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["accesslog"] == "-" and settings["logconfig_dict"]["loggers"]["gunicorn.access"]["level"] == "INFO"
    monkeypatch.setenv("HOTLINE_CONFIG", "development")
    assert "logconfig_dict" not in runpy.run_path(str(ROOT / "gunicorn.conf.py"))
