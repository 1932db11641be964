"""Structured logs: one JSON object per line on stderr (HOTLINE_LOG_FORMAT=json, the default in
production), or Python's plain text (development, tests).

Each request gets an id: the `X-Request-ID` it came with (from the proxy, if it is a sane
token) or a new one; it is echoed in the response and on every line logged while handling
it. One `hotline.request` line per request gives method, path, status, duration and the
user's id (never a name or a phone number: the query string is not logged either). A line
logged inside an RQ job carries the job's id and function.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect

from hotline import response_headers

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
    incoming = request._get_current_object().environ.get(_REQUEST_ID_ENVIRON, "")
    here.request_id = incoming if incoming and _SANE_ID.match(incoming) else new_request_id()


# --- New request ids: 32 hex digits from the system's random source, 256 per system call -----
# os.urandom(16) per request is a getrandom system call per request (about a microsecond on the
# test machine, the largest part of the request-id step). The bytes are the same (the kernel's
# CSPRNG: an id tells nothing about another, as uuid4().hex did), drawn 4 KiB at a time and
# handed out from a deque, whose popleft is atomic: under threads (gthread workers) each id is
# handed out once. A forked child (gunicorn's workers are forked from the master, which may
# have loaded the app) starts with none, so that no two processes share ids.
_ID_BYTES = 16
_IDS_PER_DRAW = 256
_ids: deque[str] = deque()


def new_request_id() -> str:
    """A new request id: 32 random hex digits (as uuid4().hex, without its version digits)."""
    try:
        return _ids.popleft()
    except IndexError:
        drawn = os.urandom(_ID_BYTES * _IDS_PER_DRAW).hex()
        width = 2 * _ID_BYTES
        _ids.extend(drawn[start : start + width] for start in range(width, len(drawn), width))
        return drawn[:width]


os.register_at_fork(after_in_child=_ids.clear)


def _finish_request(response: Response) -> Response:
    here = g._get_current_object()
    request_id = getattr(here, "request_id", None)
    if request_id:
        if response_headers.has(response.headers, "x-request-id"):
            response.headers[REQUEST_ID_HEADER] = request_id
        else:  # checked by _SANE_ID or made here: no newline, appended as it is
            response_headers.append(response.headers, ((REQUEST_ID_HEADER, request_id),))
    if request_log.isEnabledFor(logging.INFO):
        started = getattr(here, "request_started", None)
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        current = request._get_current_object()
        method, path, status = current.method, current.path, response.status_code
        handlers = _json_stream_handlers()
        if handlers:
            _write_request_line(handlers, request_id, method, path, status, duration, _user_id())
        else:
            fields = {"method": method, "path": path, "status": status, "duration_ms": duration, "user_id": _user_id()}
            # The record made as Logger.info makes it, less the search of the stack for the
            # caller (this function, always): any handler, filter or capture sees it as usual.
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


# --- The request line without a LogRecord (issue 15, "Keep": the fixed cost of a request) -----
# One line per request is every request's cost: a LogRecord (about 20 attributes, the thread
# and process names), its formatting through the attribute scan and the date formatted anew
# cost more than the rest of a ping's hooks. When every handler the line would reach is a plain
# stream handler with the JSON formatter (production: gunicorn.conf.py's, or
# install_json_handler's), the same line is written to the stream at once, from a template
# with only its strings encoded; anything else (a capture in tests, a filter, another
# formatter) gets the record as before. tests/test_logging.py checks that both write the same.


def _json_stream_handlers() -> list[logging.StreamHandler] | None:
    """The handlers `request_log` would call, if each is a stream handler formatting JSON with
    no filter and none of the loggers on the way filters; else None (the record path)."""
    handlers: list[logging.StreamHandler] = []
    logger: logging.Logger | None = request_log
    while logger is not None:
        if logger.filters:
            return None
        for handler in logger.handlers:
            if handler.level > logging.INFO:
                continue
            if (
                not isinstance(handler, logging.StreamHandler)
                or type(handler.formatter) is not JsonFormatter
                or handler.filters
            ):
                return None
            handlers.append(handler)
        logger = logger.parent if logger.propagate else None
    return handlers or None


_second: list = [None, ""]  # the last whole second and its ISO form: formatted once a second
_string = json.encoder.encode_basestring  # a JSON string as the encoder writes it (ensure_ascii=False)


def _utc_now_iso() -> str:
    """datetime.now(UTC).isoformat(timespec="milliseconds"), as the formatter writes `time`."""
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_second[1]}.{int((now - second) * 1000):03d}+00:00"


def _request_line(
    request_id: str | None, method: str, path: str, status: int, duration: float | None, user_id: int | None
) -> str:
    """The request's line exactly as JsonFormatter writes its record: the same keys in the same
    order, separators and escapes (json's defaults)."""
    rid = f', "request_id": {_string(request_id)}' if request_id else ""
    return (
        f'{{"time": "{_utc_now_iso()}", "level": "INFO", "logger": "{request_log.name}", '
        f'"message": {_string(f"{method} {path} {status}")}{rid}, "method": {_string(method)}, '
        f'"path": {_string(path)}, "status": {int(status)}, '
        f'"duration_ms": {"null" if duration is None else float.__repr__(duration)}, '
        f'"user_id": {"null" if user_id is None else int(user_id)}}}'
    )


def _write_request_line(
    handlers: list[logging.StreamHandler],
    request_id: str | None,
    method: str,
    path: str,
    status: int,
    duration: float | None,
    user_id: int | None,
) -> None:
    line = _request_line(request_id, method, path, status, duration, user_id)
    for handler in handlers:
        handler.acquire()
        try:
            write_line(handler.stream, line + handler.terminator)
        except Exception:  # noqa: BLE001 (as Handler.emit: a broken stream never fails the answer)
            handler.handleError(logging.makeLogRecord({"msg": line}))
        finally:
            handler.release()


def write_line(stream: Any, text: str) -> None:
    """`stream.write(text); stream.flush()` as StreamHandler.emit does, less the calls that add
    nothing for the standard error stream as Python opens it (what gunicorn's workers and the
    JSON handler write to): either way the line has reached the operating system (one write
    system call) when this returns, so a crash of the process after it loses nothing; nothing
    is held back in the process, no line waits for the next.

    - Unbuffered (PYTHONUNBUFFERED, `python -u`: a text layer writing through to the file
      itself): the text layer only encodes and passes the bytes on, and holds none between
      writes; the bytes go to the file directly, in the same order.
    - Line-buffered (the default for stderr): the text layer flushes itself at the newline, down
      to the system call; the flush asked after it found nothing to do.
    Any other stream (a file opened by a handler, a StringIO) gets write and flush."""
    if type(stream) is io.TextIOWrapper and text.endswith("\n"):
        if stream.write_through and type(stream.buffer) is io.FileIO:
            stream.buffer.write(text.encode(stream.encoding, stream.errors or "strict"))
            return
        if stream.line_buffering:
            stream.write(text)
            return
    stream.write(text)
    stream.flush()


def _user_id() -> int | None:
    # Only a user this request loaded already: never a query just for the log line.
    here = g._get_current_object()
    # `g.get`, not getattr: a missing name raised and caught two exceptions, some µs per request.
    for user in (here.get("api_user"), here.get("_login_user")):
        if user is not None and not getattr(user, "is_anonymous", True):
            # The id from the identity map: `user.id` (or `is_authenticated`, which reads
            # `active`) would reload a user that the view's commit expired, a query per request.
            state = inspect(user, raiseerr=False)
            return state.identity[0] if state is not None and state.identity else user.id
    return None
