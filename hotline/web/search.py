"""The search page: tickets by their words (Chinese or English), with filters, best first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from hotline.api.queries import categories, departments, districts
from hotline.labels import STATUS_LABELS
from hotline.models.audit import ViewChannel
from hotline.services.accounts import access, audit
from hotline.services.errors import InvalidInput
from hotline.services.search import ticket_search
from hotline.web.guards import roles_required
from hotline.web.paging import page_number

bp = Blueprint("search", __name__)

PAGE_SIZE = 20
FILTER_NAMES = ("status", "category", "department", "district", "from", "to")


@bp.get("/search")
@roles_required()
def index():
    raw = request.args.get("q", "").strip()
    form = {name: request.args.get(name, "").strip() for name in ("q", *FILTER_NAMES)}
    results = None
    error = None
    if raw or any(form[name] for name in FILTER_NAMES):
        try:
            filters = ticket_search.filters_from(
                [form["status"]], form["category"], form["department"], form["district"], form["from"], form["to"]
            )
            results = ticket_search.search(current_user, raw, filters, page=page_number(), per_page=PAGE_SIZE)
        except InvalidInput as problem:
            error = problem.message
    # The tickets they were merged into, by number: only those the user may see.
    hits = results.hits if results is not None else []
    parents = {
        hit.ticket.id: parent.number for hit in hits if (parent := access.shown(current_user, hit.ticket.parent))
    }
    page = render_template(
        "search/index.html",
        form=form,
        results=results,
        parents=parents,
        error=error,
        statuses=STATUS_LABELS,
        categories=categories(),
        departments=departments(),
        districts=districts(),
        reindex_needed=ticket_search.needs_reindex() if results is not None else False,
    )
    if results is not None:  # the snippets of confidential tickets: recorded (services/accounts/audit.py)
        audit.record_list(current_user, [hit.ticket for hit in results.hits], ViewChannel.LIST, caller=False)
    return page, 400 if error else 200
