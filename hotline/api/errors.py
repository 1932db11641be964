"""JSON errors for the API: `{"error": short code, "detail": message}` (plus `field` when one is at fault).

Handlers sit on the blueprint, so the web pages keep their HTML errors. A path
under /api/ that matches no route never reaches the blueprint, so a hook that
runs before every request answers those 404/405s itself, leaving the app's
error handlers (the web's) alone.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import RequestRedirect

from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.extensions import db
from hotline.services.errors import ServiceError

# Short codes clients can switch on; messages may be translated, these never are.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


class ApiError(Exception):
    """An error the API layer itself raises (bad JSON, bad query parameter, no token)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.field = field
        self.headers = headers or {}


def error_response(
    status: int, error: str, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"error": error, "detail": detail}
    if field:
        body["field"] = field
    return json_response(body, status, headers)


@bp.errorhandler(ApiError)
def _api_error(e: ApiError) -> Response:
    db.session.rollback()
    return error_response(e.status, e.error, e.detail, e.field, e.headers)


@bp.errorhandler(ServiceError)
def _service_error(e: ServiceError) -> Response:
    # Bad input changes nothing: drop whatever the service had staged.
    db.session.rollback()
    return error_response(e.status_code, e.error, e.message, e.field)


def _http_error(e: HTTPException) -> Response:
    db.session.rollback()
    code = e.code or 500  # Flask has already logged an unhandled exception behind a 500
    headers = {}
    if code == 405 and getattr(e, "valid_methods", None):
        headers["Allow"] = ", ".join(e.valid_methods)
    return error_response(code, HTTP_CODES.get(code, _slug(e.name)), _http_detail(code, e), headers=headers)


def _http_detail(code: int, e: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood."),
        404: _("No such resource in the API."),
        405: _("This method is not allowed here."),
        413: _("The request body is too large."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        500: _("The server failed to handle the request; it has been logged."),
    }
    return messages.get(code, e.description or e.name)


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


# Flask looks up handlers for a status code before handlers for a class, app-wide
# ones included, so a code-less HTTPException handler alone would lose to a web
# 404 page: register one per code.
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.before_request
def _refuse_nul() -> Response | None:
    """PostgreSQL cannot hold NUL in a string: a NUL in a number or filter is bad input, not a 500."""
    current = request._get_current_object()  # the proxy once: every API call runs this
    if not current.query_string:  # no query: no arguments to parse
        values = [current.path]
    else:
        values = [current.path, *(key + value for key, value in current.args.items(multi=True))]
    if any("\x00" in value for value in values):
        return error_response(400, "invalid_input", _("The address contains a NUL character."))
    return None


@bp.before_app_request
def _unknown_api_paths() -> Response | None:
    """404/405 as JSON for paths under /api/ that no route matched."""
    current = request._get_current_object()  # every request runs this: the proxy once
    failure = current.routing_exception
    if failure is None or isinstance(failure, RequestRedirect) or not current.path.startswith("/api/"):
        return None
    if isinstance(failure, HTTPException):
        return _http_error(failure)
    return None
