"""JSON responses: UTF-8 as is (Chinese stays readable in curl), keys in the order written."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app
from flask.json.provider import DefaultJSONProvider


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    app = current_app._get_current_object()  # the proxy once: every API answer comes here
    body = _dumps(app, data, ensure_ascii=False)
    try:
        body.encode()
    except UnicodeEncodeError:  # a lone surrogate from somewhere: escape rather than fail
        body = _dumps(app, data, ensure_ascii=True)
    return app.response_class(body + "\n", status=status, headers=headers, mimetype="application/json")


def _dumps(app: Flask, data: Any, ensure_ascii: bool) -> str:
    """`app.json.dumps(data, ensure_ascii=..., sort_keys=False)`, with Flask's provider's
    encoder made once: json.dumps with options builds one on every call (every API answer)."""
    provider = app.json
    if isinstance(provider, DefaultJSONProvider):
        return _encoder(provider.default, ensure_ascii).encode(data)
    return provider.dumps(data, ensure_ascii=ensure_ascii, sort_keys=False)


@lru_cache(maxsize=8)
def _encoder(default: Callable[[Any], Any], ensure_ascii: bool) -> json.JSONEncoder:
    # json.dumps's own defaults otherwise (no indent, circular check, NaN allowed); the encoder
    # keeps no state between calls.
    return json.JSONEncoder(ensure_ascii=ensure_ascii, sort_keys=False, default=default)
