"""The `page` query parameter of the pages' lists, read one way by all of them, and the pages
of lists too long to count to the end."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from hotline.bounds import MAX_DIGITS, MAX_PAGE, whole_number
from hotline.extensions import db
from hotline.services.platform.listing import count_limit, counted_up_to


def page_number() -> int:
    """The page of a list asked for. People edit addresses and follow old links, so nothing here
    is an error: what is not a page number ("abc", "-1", "0", empty) is the first page, and a
    number past MAX_PAGE is MAX_PAGE (past the list's end a page is empty, with links back)."""
    raw = request.args.get("page", "")
    if raw.isascii() and raw.isdigit() and len(raw) > MAX_DIGITS:
        return MAX_PAGE
    value = whole_number(raw)
    return 1 if value is None or value < 1 else min(value, MAX_PAGE)


class BoundedPagination(Pagination):
    """A page of a list whose total is known exactly up to a bound only: `total` is then the
    bound and `more` says that the list goes on. The links (`render_pagination`) reach the
    counted pages and the next one; a page further on counts further."""

    def __init__(self, items: list[Any], total: int, more: bool, page: int, per_page: int) -> None:
        self.more = more
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total)

    def _query_items(self) -> list[Any]:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]

    @property
    def pages(self) -> int:
        return super().pages + (1 if self.more else 0)


def bounded_paginate(query: Select, page: int, per_page: int) -> BoundedPagination:
    """`db.paginate` for lists that grow with the years: the page's rows, and the total counted
    no further than `count_limit` (an index walk that stops, where COUNT(*) read every row)."""
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return bounded_page(items, query, page, per_page, ordered=True)  # down the index that orders the page


def bounded_page(items: list[Any], query: Select, page: int, per_page: int, ordered: bool = False) -> BoundedPagination:
    """A page of `items`, read by the caller, of the rows `query` gives, counted as
    `bounded_paginate` counts them (`ordered`: see `listing.counted_up_to`)."""
    limit = count_limit(page, per_page)
    counted = counted_up_to(query, limit, ordered=ordered)
    return BoundedPagination(items, min(counted, limit), counted > limit, page, per_page)
