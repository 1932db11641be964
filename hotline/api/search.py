"""Searching tickets by their words: GET /api/v1/search/tickets?q=…, best first, within the
caller's rights (the same rules as the search page; see services/search/ticket_search.py).

Described once: `SearchHitSchema` writes a hit (the document's `SearchHit`), `SEARCH_PAGE` a page
of them (`SearchPage`)."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Computed, Output, Time, page_of
from hotline.api.serializers import parent_number
from hotline.models import Status
from hotline.models.audit import ViewChannel
from hotline.services.accounts import audit
from hotline.services.search import search_index, ticket_search

PARAMETERS = ("q", "status", "category", "department", "district", "from", "to", "page", "per_page")


class SearchHitSchema(Output):
    """A ticket found (`ticket_search.Hit`): the snippet of its text that matched, marked in `snippet_html`."""

    number = fields.String(required=True, attribute="ticket.number")
    status = fields.String(required=True, attribute="ticket.status", metadata={"enum": list(Status.ALL)})
    category = Code(required=True, attribute="ticket.category")
    department = Code(required=True, allow_none=True, attribute="ticket.department")
    # Null, as if it had none, for a parent the caller may not see.
    parent = Computed(
        lambda hit: parent_number(hit.ticket, api_user()), required=True, allow_none=True, metadata={"type": "string"}
    )
    created_at = Time(required=True, attribute="ticket.created_at")
    snippet = Computed(
        lambda hit: search_index.plain(hit.snippet), required=True, allow_none=True, metadata={"type": "string"}
    )
    snippet_html = Computed(
        lambda hit: str(hit.snippet) if hit.snippet is not None else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    score = Computed(lambda hit: round(hit.score, 6), required=True, metadata={"type": "number"})


# More matches than were ranked: only the newest `total` were; narrow the search.
SEARCH_PAGE = page_of("SearchPage", "tickets", SearchHitSchema, total_is_lower_bound=fields.Boolean(required=True))


@bp.get("/search/tickets")
@api_roles()
def search_tickets() -> Response:
    for name, value in request.args.items(multi=True):
        if name not in PARAMETERS:
            raise ApiError(
                400,
                "invalid_input",
                _("Unknown parameter “%(field)s”; allowed: %(allowed)s.", field=name, allowed=", ".join(PARAMETERS)),
                field=name,
            )
        if "\x00" in value:
            raise ApiError(400, "invalid_input", _("“%(field)s” contains a NUL character.", field=name), field=name)
    filters = ticket_search.filters_from(
        request.args.getlist("status"),
        request.args.get("category"),
        request.args.get("department"),
        request.args.get("district"),
        request.args.get("from"),
        request.args.get("to"),
    )
    results = ticket_search.search(
        api_user(),
        request.args.get("q"),
        filters,
        page=query_int("page", 1),
        per_page=query_int("per_page", 20, maximum=ticket_search.PER_PAGE_MAX),
    )
    page = {
        "tickets": results.hits,
        "page": results.page,
        "per_page": results.per_page,
        "total": results.total,
        "total_is_lower_bound": results.capped,
        "pages": results.pages,
    }
    response = json_response(SEARCH_PAGE.dump(page))
    # The snippets of confidential tickets it showed: recorded (services/accounts/audit.py), after the
    # answer is made (the commit expires the rows it reads).
    audit.record_list(api_user(), [hit.ticket for hit in results.hits], ViewChannel.API, caller=False)
    return response
