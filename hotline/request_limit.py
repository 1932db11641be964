"""The largest request body the server reads (HOTLINE_MAX_REQUEST_BYTES, Flask's MAX_CONTENT_LENGTH).

Flask-WTF's CSRF check reads the whole form of every page's POST before any view runs, so a view's
own limit (the intake form's files, the API's 256 KiB) comes too late to stop a 2 GB body: the
server-wide limit refuses it first, with a 413 in each surface's form (the error page, the API's
JSON error body, Open311's). A view may lower the limit for its own request, never raise it above
the server's: `BoundedRequest`."""

from __future__ import annotations

from flask import Request, current_app


class BoundedRequest(Request):
    """A request whose limit set by a view (`request.max_content_length = ...`) is capped by the
    server-wide one."""

    @property
    def max_content_length(self) -> int | None:
        own = self._max_content_length
        server = current_app.config.get("MAX_CONTENT_LENGTH") if current_app else None
        if own is None:
            return server
        return own if server is None else min(own, server)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
