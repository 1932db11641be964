"""Errors the services raise; the web and API layers turn them into messages and codes."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    status_code = 400
    error = "invalid_input"


class PermissionDenied(ServiceError):
    status_code = 403
    error = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    error = "not_found"


class Conflict(ServiceError):
    """A stale version, or a transition the ticket's current state does not allow."""

    status_code = 409
    error = "conflict"
