"""The `page` query parameter of the pages' lists, read one way by all of them."""

from __future__ import annotations

from flask import request

from hotline.bounds import MAX_DIGITS, MAX_PAGE, whole_number


def page_number() -> int:
    """The page of a list asked for. People edit addresses and follow old links, so nothing here
    is an error: what is not a page number ("abc", "-1", "0", empty) is the first page, and a
    number past MAX_PAGE is MAX_PAGE (past the list's end a page is empty, with links back)."""
    raw = request.args.get("page", "")
    if raw.isascii() and raw.isdigit() and len(raw) > MAX_DIGITS:
        return MAX_PAGE
    value = whole_number(raw)
    return 1 if value is None or value < 1 else min(value, MAX_PAGE)
