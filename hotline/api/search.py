"""Searching tickets by their words: GET /api/v1/search/tickets?q=…, best first, within the
caller's rights (the same rules as the search page; see services/search/ticket_search.py)."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.serializers import iso, parent_number
from hotline.models.audit import ViewChannel
from hotline.services.accounts import audit
from hotline.services.search import search_index, ticket_search

PARAMETERS = ("q", "status", "category", "department", "district", "from", "to", "page", "per_page")


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
    response = json_response(
        {
            "tickets": [
                {
                    "number": hit.ticket.number,
                    "status": hit.ticket.status,
                    "category": hit.ticket.category.code,
                    "department": hit.ticket.department.code if hit.ticket.department else None,
                    "parent": parent_number(hit.ticket, api_user()),
                    "created_at": iso(hit.ticket.created_at),
                    "snippet": search_index.plain(hit.snippet),
                    "snippet_html": str(hit.snippet) if hit.snippet is not None else None,
                    "score": round(hit.score, 6),
                }
                for hit in results.hits
            ],
            "page": results.page,
            "per_page": results.per_page,
            "total": results.total,
            # More matches than were ranked: only the newest `total` were; narrow the search.
            "total_is_lower_bound": results.capped,
            "pages": results.pages,
        }
    )
    # The snippets of confidential tickets it showed: recorded (services/accounts/audit.py), after the
    # answer is made (the commit expires the rows it reads).
    audit.record_list(api_user(), [hit.ticket for hit in results.hits], ViewChannel.API, caller=False)
    return response
