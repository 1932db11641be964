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


class InvalidInputs(InvalidInput):
    """Several fields refused at once, so that a form can show every error together. It reads
    as the first of them (message and field) where one error is all that is shown (the API)."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = errors

    @classmethod
    def of(cls, errors: list[InvalidInput]) -> InvalidInput:
        return errors[0] if len(errors) == 1 else cls(errors)


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
