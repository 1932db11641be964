"""Headers added to every answer, at the cost of a list append (issue 15, "Keep": the fixed
cost of a request).

Werkzeug's `Headers.extend` and `__setitem__` check every value for newlines with a regular
expression and scan the list once per header set; the hooks that run on every request add
up to nine headers, so that was a sizeable part of a ping. The values added here are our own
constants or tokens checked before (the request id), so they are appended to the header list
directly; the names are assumed absent (the callers look first, once, or know it).
"""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import Headers


def append(headers: Headers, pairs: Iterable[tuple[str, str]]) -> None:
    """headers.extend(pairs) for values without a newline (not checked again)."""
    items = getattr(headers, "_list", None)
    if type(items) is list:  # Werkzeug's storage since 0.x; anything else gets the checked path
        items.extend(pairs)
    else:
        headers.extend(pairs)


def present(headers: Headers) -> set[str]:
    """The lower-cased names of the headers set so far, in one pass."""
    items = getattr(headers, "_list", None)
    return {name.lower() for name, _value in (items if type(items) is list else headers)}


def has(headers: Headers, lower: str) -> bool:
    """Whether a header of the lower-cased name `lower` is set (`in`, without its key checks)."""
    items = getattr(headers, "_list", None)
    if type(items) is not list:
        return lower in headers
    return any(name.lower() == lower for name, _value in items)
