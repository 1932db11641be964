"""JSON responses: UTF-8 as is (Chinese stays readable in curl), keys in the order written."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = current_app.json.dumps(data, ensure_ascii=False, sort_keys=False)
    try:
        body.encode()
    except UnicodeEncodeError:  # a lone surrogate from somewhere: escape rather than fail
        body = current_app.json.dumps(data, ensure_ascii=True, sort_keys=False)
    return current_app.response_class(body + "\n", status=status, headers=headers, mimetype="application/json")
