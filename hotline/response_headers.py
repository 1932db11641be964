"""Headers added to every answer, at the cost of a list append, and copied for the server
without checking each value again (issue 15, "Keep": the fixed cost of a request).

Werkzeug's `Headers.extend` and `__setitem__` check every value for newlines with a regular
expression and scan the list once per header set; the hooks that run on every request add
up to nine headers, so that was a sizeable part of a ping. The values added here are our own
constants or tokens checked before (the request id), so they are appended to the header list
directly; the names are assumed absent (the callers look first, once, or know it).

`Response.get_wsgi_headers` (Werkzeug) copies the whole header list for the server on every
answer through `Headers(self.headers)`, which checks every value again with that regular
expression: about 1 µs a header, eleven headers on a ping. `HotlineResponse` copies the list
as it is: each value in it was checked when it was set (Werkzeug's `add`/`set`/`extend`) or is
one of the constants and checked tokens appended here. Only the common answer takes that path
(no Location or Content-Location to rewrite, a status with a body); any other gets Werkzeug's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Response
from werkzeug.datastructures import Headers

if TYPE_CHECKING:
    from wsgiref.types import WSGIEnvironment


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
    return lower in [name.lower() for name, _value in items]  # any() over a generator cost twice as much


_REWRITTEN = frozenset(("location", "content-location"))  # Werkzeug rewrites these for the environ


class HotlineResponse(Response):
    """Flask's response, with the server's copy of the headers made without checking each again."""

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        items = getattr(self.headers, "_list", None)
        status = self.status_code
        if type(items) is not list or not 200 <= status < 600 or status in (204, 304):
            return super().get_wsgi_headers(environ)
        content_length = None
        for name, value in items:
            lower = name.lower()
            if lower in _REWRITTEN:
                return super().get_wsgi_headers(environ)
            if lower == "content-length":
                content_length = value
        headers = Headers()
        headers._list = items[:]  # each value checked when set: copied as it is
        # As Werkzeug: the length of a buffered body, when no one set it.
        if content_length is None and self.automatically_set_content_length and self.is_sequence:
            headers._list.append(("Content-Length", str(sum(len(x) for x in self.iter_encoded()))))
        return headers
