"""Checking what Twilio posts to the webhooks: a plain-text 400 (or 415) that says what is wrong."""

from __future__ import annotations

from flask import Response

FORM_TYPE = "application/x-www-form-urlencoded"


def unsupported_media_type() -> Response:
    return Response(f"Unsupported media type: Twilio webhooks take {FORM_TYPE}\n", status=415, mimetype="text/plain")


def bad_request(message: str) -> Response:
    return Response(f"Bad request: {message}\n", status=400, mimetype="text/plain")


def missing(**fields: str | None) -> str | None:
    absent = [name for name, value in fields.items() if value is None]  # an empty Body is a picture-only text
    return f"missing {', '.join(absent)}" if absent else None


def too_long(*checks: tuple[str | None, int, str]) -> str | None:
    for value, limit, name in checks:
        if value is not None and len(value) > limit:
            return f"{name} is longer than {limit} characters"
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text: a 400, not a 500
            return f"{name} contains a NUL character"
    return None
