"""Structured logs: one JSON object per line on stderr (HOTLINE_LOG_FORMAT=json, the default in
production), or Python's plain text (development, tests).

Each request gets an id: the `X-Request-ID` it came with (from the proxy, if it is a sane
token) or a new one; it is echoed in the response and on every line logged while handling
it. One `hotline.request` line per request gives method, path, status, duration and the
user's id (never a name or a phone number: the query string is not logged either). A line
logged inside an RQ job carries the job's id and function.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
# A proxy's id is kept if it looks like one (nginx's $request_id is 32 hex digits); anything
# else (too long, spaces, quotes) is replaced, so that a client cannot forge log lines.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# LogRecord attributes that are not extra fields.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_HANDLER_NAME = "hotline-json"
# json.dumps with options makes an encoder per call: one, made once, for every line.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)

request_log = logging.getLogger("hotline.request")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, then context and extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            data.update(_gunicorn_access(record.args))
        else:
            data.update(_context())
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        return _ENCODER.encode(data)


def _context() -> dict[str, Any]:
    if has_request_context():
        request_id = g.get("request_id")
        return {"request_id": request_id} if request_id else {}
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # noqa: BLE001 (no job, or no Redis: no job context)
        return {}
    if job is None:
        return {}
    return {"job_id": job.id, "job_func": job.func_name}


def _gunicorn_access(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's access-log atoms as the fields of our request line (see gunicorn.conf.py)."""
    status = atoms.get("s")
    return {
        "request_id": atoms.get("{x-request-id}o") if atoms.get("{x-request-id}o") != "-" else None,
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status": int(status) if str(status).isdigit() else status,
        "duration_ms": round(int(atoms.get("D") or 0) / 1000, 1),
    }


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted (pytest swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(app: Flask) -> None:
    """Install the JSON handler on the root logger (once per process, whatever the number of
    apps), and the request id and request line on `app`."""
    if app.config.get("HOTLINE_LOG_FORMAT") == "json":
        install_json_handler(app.config.get("HOTLINE_LOG_LEVEL", "INFO"))
    app.before_request(_start_request)
    app.after_request(_finish_request)


def install_json_handler(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
        elif isinstance(handler.formatter, JsonFormatter):
            return  # gunicorn.conf.py installed one already: no line twice
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)


def _start_request() -> None:
    # Runs on every request: the environ and `g` once each, not through their proxies again.
    here = g._get_current_object()
    here.request_started = time.perf_counter()
    incoming = request.environ.get(_REQUEST_ID_ENVIRON, "")
    here.request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    here = g._get_current_object()
    request_id = getattr(here, "request_id", None)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    if request_log.isEnabledFor(logging.INFO):
        started = getattr(here, "request_started", None)
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        method, path, status = request.method, request.path, response.status_code
        fields = {"method": method, "path": path, "status": status, "duration_ms": duration, "user_id": _user_id()}
        # The record made as Logger.info makes it, less the search of the stack for the caller
        # (this function, always): one line per request, so its cost is every request's.
        record = request_log.makeRecord(
            request_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %s",
            (method, path, status),
            None,
            "_finish_request",
            fields,
        )
        request_log.handle(record)
    return response


def _user_id() -> int | None:
    # Only a user this request loaded already: never a query just for the log line.
    here = g._get_current_object()
    for user in (getattr(here, "api_user", None), getattr(here, "_login_user", None)):
        if user is not None and not getattr(user, "is_anonymous", True):
            # The id from the identity map: `user.id` (or `is_authenticated`, which reads
            # `active`) would reload a user that the view's commit expired, a query per request.
            state = inspect(user, raiseerr=False)
            return state.identity[0] if state is not None and state.identity else user.id
    return None
