"""Tickets: create, read, list, and who viewed them. Every lifecycle action (dispatch, accept,
resolve, return, notes...) is a row of api/actions.py, which one view takes."""

from __future__ import annotations

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.queries import assists_by_ticket, department_by_code, ticket_page
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Computed, Count, Id, Output, Time, load
from hotline.api.ticket_schemas import TICKET_INPUT, new_ticket_json, summaries, ticket_json
from hotline.models import Channel, Role, Status
from hotline.models.audit import ViewChannel, ViewKind
from hotline.services.accounts import access, audit
from hotline.services.citizens.phones import normalise_phone
from hotline.services.ticketing import tickets

MAX_PER_PAGE = 100
MAX_VIEWS_PER_PAGE = 500


class ViewSchema(Output):
    """Who viewed the ticket's personal data (a `ViewRecord`)."""

    user = Code(required=True, key="username")
    name = Computed(lambda record: record.user.label, required=True, metadata={"type": "string"})
    role = Computed(lambda record: record.user.role, required=True, metadata={"type": "string", "enum": list(Role.ALL)})
    department = Computed(
        lambda record: record.user.department.code if record.user.department else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    at = Time(required=True)
    what = fields.String(required=True, metadata={"enum": list(ViewKind.ALL)})  # confidential | caller | ticket
    via = fields.String(required=True, metadata={"enum": list(ViewChannel.ALL)})  # page | list | api | export
    remote_addr = Computed(
        lambda record: record.remote_addr or None, required=True, allow_none=True, metadata={"type": "string"}
    )


VIEW_PAGE = Output.from_dict(
    {
        "ticket": fields.String(required=True),
        "views": fields.List(fields.Nested(ViewSchema), required=True),
        "page": Id(required=True),
        "per_page": Id(required=True),
        "total": Count(required=True),
        "pages": Count(required=True),
    },
    name="ViewPage",
)()


@bp.post("/tickets")
@api_roles(*access.INTAKE_ROLES)
def create_ticket() -> Response:
    body = load(TICKET_INPUT)
    intake = tickets.Intake(
        caller_phone=body["caller_phone"],
        caller_name=body["caller_name"] or "",
        type=body["type"],
        category=body["category"],
        district=body["district"] or None,
        address=body["address"] or "",
        description=body["description"],
        urgency=body["urgency"] or "normal",
        channel=body["channel"] or Channel.API.value,
        confidential=bool(body["confidential"]),
        direct_answer=body["direct_answer"],
        article_id=body["article_id"],  # cite a knowledge-base article (its answer if none given)
        lat=body["lat"],  # geo (issue 18)
        long=body["long"],
    )
    user = api_user()
    result = tickets.create_ticket(user, intake)
    data = new_ticket_json(result.written, user, result.events, result.messages, result.routing_queued)
    location = url_for("api.get_ticket", number=result.written.number)
    return json_response(data, 201, {"Location": location})


@bp.get("/tickets")
@api_roles()
def list_tickets() -> Response:
    user = api_user()
    statuses = _statuses(",".join(request.args.getlist("status")))
    department = None
    code = request.args.get("department", "").strip()
    if code:
        department = department_by_code(code)
        if department is None:
            raise ApiError(400, "invalid_input", _("Unknown department “%(code)s”.", code=code), field="department")
    phone = None
    if request.args.get("caller_phone", "").strip():
        # Masked callers stay masked: no probing numbers through the filter.
        if access.masks_caller(user):
            raise ApiError(403, "forbidden", _("Your role may not search by caller."))
        phone = normalise_phone(request.args["caller_phone"])
    default_size = min(current_app.config["HOTLINE_API_PAGE_SIZE"], MAX_PER_PAGE)
    page = ticket_page(
        user,
        statuses=statuses,
        department=department,
        caller_phone=phone,
        page=query_int("page", 1),
        per_page=query_int("per_page", default_size, maximum=MAX_PER_PAGE),
    )
    assisting = assists_by_ticket(page.tickets)
    response = json_response(
        {
            "tickets": summaries(page.tickets, user, assisting),
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
        }
    )
    audit.record_list(user, page.tickets, ViewChannel.API, name=True)  # the callers it showed
    return response


def _statuses(raw: str) -> list[str]:
    """`status=new`, or several: `status=new,pending_dispatch` (or the parameter repeated)."""
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    for status in wanted:
        if status not in Status.ALL:
            raise ApiError(
                400,
                "invalid_input",
                _("Unknown status “%(status)s”; one of: %(all)s.", status=status, all=", ".join(Status.ALL)),
                field="status",
            )
    return wanted


@bp.get("/tickets/<number>")
@api_roles()
def get_ticket(number: str) -> Response:
    ticket = access.ticket_for(api_user(), number)
    response = json_response(ticket_json(ticket, api_user()))
    audit.record_view(api_user(), ticket, ViewChannel.API)
    return response


@bp.get("/tickets/<number>/views")
@api_roles(*access.AUDIT_ROLES)
def ticket_views(number: str) -> Response:
    """Who viewed the ticket's personal data, newest first: `page` and `per_page` as for lists."""
    ticket = access.ticket_for(api_user(), number)
    result = audit.views_of(
        ticket, page=query_int("page", 1), per_page=query_int("per_page", 100, maximum=MAX_VIEWS_PER_PAGE)
    )
    return json_response(
        VIEW_PAGE.dump(
            {
                "ticket": ticket.number,
                "views": result.records,
                "page": result.page,
                "per_page": result.per_page,
                "total": result.total,
                "pages": result.pages,
            }
        )
    )
