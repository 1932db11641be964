"""Reading what clients send: the JSON body and query parameters (`schemas.py` reads the fields
of bodies, through `json_body`, and the ticket's version with its If-Match header).

Every failure is a 400 (415 for a body that is not JSON) naming the field at
fault, never a 500: this is where a CTI system's bugs first show up.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _

from hotline.api.errors import ApiError
from hotline.bounds import whole_number
from hotline.services.platform.storage import storable

MAX_BODY_BYTES = 256 * 1024  # a ticket is at most a few KiB of text


def json_body(allowed: tuple[str, ...], *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, with only `allowed` keys.

    Unknown keys are refused rather than ignored: a misspelt "urgncy" must not
    silently file an urgent call as normal. With `required=False` an empty
    body is an empty object (e.g. POST .../accept with no body at all).
    """
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)  # 413 above the limit
    if not raw.strip() and not required:
        return {}
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", _("Send the request body as JSON (Content-Type: application/json).")
        )
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError covers bad UTF-8 too
        raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object."))
    _check_fields(body, allowed)
    return body


def nested_object(value: Any, allowed: tuple[str, ...], name: str) -> dict[str, Any]:
    """An object inside the body (e.g. a sample to try), held to the same rules as the body;
    a field at fault is named with its path, e.g. "sample.category"."""
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_input", _("“%(field)s” must be a JSON object.", field=name), field=name)
    _check_fields(value, allowed, name + ".")
    return value


def _check_fields(body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    for key, value in body.items():
        if not storable(key):
            raise ApiError(400, "invalid_json", _("A field name contains characters that cannot be stored."))
        if key not in allowed:
            raise ApiError(
                400,
                "invalid_input",
                _("Unknown field “%(field)s”; allowed: %(allowed)s.", field=prefix + key, allowed=", ".join(allowed)),
                field=prefix + key,
            )
        if isinstance(value, str) and not storable(value):
            raise ApiError(
                400,
                "invalid_input",
                _("“%(field)s” contains characters that cannot be stored.", field=prefix + key),
                field=prefix + key,
            )


def query_int(name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    """A positive integer query parameter; above `maximum` it is capped, not refused."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw)
    if value is None or value < minimum:
        raise ApiError(
            400,
            "invalid_input",
            _("“%(field)s” must be a whole number of at least %(n)d.", field=name, n=minimum),
            field=name,
        )
    return min(value, maximum) if maximum is not None else value
