"""Tickets: create, read, list, and every lifecycle action (dispatch or reassign, accept, resolve, return, notes)."""

from __future__ import annotations

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import boolean, expected_version, integer, json_body, query_int, string_list, text
from hotline.api.queries import assists_by_ticket, department_by_code, ticket_page
from hotline.api.responses import json_response
from hotline.api.serializers import event_json, iso, notification_json, ticket_json
from hotline.models import Channel, Role, Status, Ticket
from hotline.models.audit import ViewChannel
from hotline.services import access, audit, tickets
from hotline.services.phones import normalise_phone

MAX_PER_PAGE = 100
MAX_VIEWS_PER_PAGE = 500
INTAKE_FIELDS = (
    "caller_phone",
    "caller_name",
    "type",
    "category",
    "district",
    "address",
    "description",
    "urgency",
    "channel",
    "confidential",
    "direct_answer",
    "article_id",
)


@bp.post("/tickets")
@api_roles(*access.INTAKE_ROLES)
def create_ticket() -> Response:
    body = json_body(INTAKE_FIELDS)
    intake = tickets.Intake(
        caller_phone=text(body, "caller_phone", required=True),
        caller_name=text(body, "caller_name", default=""),
        type=text(body, "type", required=True),
        category=text(body, "category", required=True),
        district=text(body, "district") or None,
        address=text(body, "address", default=""),
        description=text(body, "description", required=True),
        urgency=text(body, "urgency", default="normal"),
        channel=text(body, "channel", default=Channel.API.value),
        confidential=boolean(body, "confidential"),
        direct_answer=text(body, "direct_answer"),
        article_id=integer(body, "article_id"),  # cite a knowledge-base article (its answer if none given)
    )
    # Speed (benchmarks/intake.py): the answer is built from the rows as written, not read back:
    # a new ticket has no children and no assisting departments, and its events and texts are
    # the ones intake just wrote.
    user = api_user()
    result = tickets.create_ticket(user, intake)
    data = ticket_json(result.written, user, events=False, assisting=[])
    masked = access.masks_caller(user)
    data["children"] = []
    data["events"] = [event_json(event) for event in result.events]
    data["notifications"] = [notification_json(message, masked) for message in result.messages]
    # False when Redis is down: the ticket is saved and the sweeper routes it later.
    data["routing_queued"] = result.routing_queued
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
            "tickets": [
                ticket_json(ticket, user, events=False, assisting=assisting[ticket.id]) for ticket in page.tickets
            ],
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
        {
            "ticket": ticket.number,
            "views": [
                {
                    "user": record.user.username,
                    "name": record.user.label,
                    "role": record.user.role,
                    "department": record.user.department.code if record.user.department else None,
                    "at": iso(record.at),
                    "what": record.what,  # confidential | caller | ticket
                    "via": record.via,  # page | list | api | export
                    "remote_addr": record.remote_addr or None,
                }
                for record in result.records
            ],
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        }
    )


@bp.post("/tickets/<number>/dispatch")
@api_roles(*access.DISPATCH_ROLES)
def dispatch(number: str) -> Response:
    """A first dispatch, or a reassignment of a ticket a department holds (a `reassigned` event).
    Back to a department that returned the ticket needs a `reason` (ping-pong)."""
    body = json_body(("department", "assisting", "version", "reason"))
    department, version = text(body, "department", required=True), expected_version(body)
    assisting = string_list(body, "assisting")
    ticket = access.ticket_for(api_user(), number)
    tickets.dispatch(api_user(), ticket, department, version, assisting=assisting, reason=text(body, "reason"))
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/accept")
@api_roles(Role.DEPARTMENT)
def accept(number: str) -> Response:
    version = expected_version(json_body(("version",), required=False))
    ticket = access.ticket_for(api_user(), number)
    tickets.accept(api_user(), ticket, version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/resolve")
@api_roles(Role.DEPARTMENT)
def resolve(number: str) -> Response:
    body = json_body(("resolution", "version"))
    resolution, version = text(body, "resolution", required=True), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    tickets.resolve(api_user(), ticket, resolution, version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/return")
@api_roles(Role.DEPARTMENT)
def return_to_dispatch(number: str) -> Response:
    """200 with the ticket back at the desk; after the return window, 202: the ticket stays
    with the department and carries the `return_request` a supervisor will decide."""
    body = json_body(("reason", "reason_code", "version"))
    reason, version = text(body, "reason", required=True), expected_version(body)
    reason_code = text(body, "reason_code")
    ticket = access.ticket_for(api_user(), number)
    tickets.return_to_dispatch(api_user(), ticket, reason, version, reason_code=reason_code)
    status = 200 if ticket.status == Status.PENDING_DISPATCH else 202
    return json_response(ticket_json(ticket, api_user()), status)


@bp.post("/tickets/<number>/notes")
@api_roles()
def add_note(number: str) -> Response:
    body = json_body(("text", "version"))
    note, version = text(body, "text", required=True), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    tickets.add_note(api_user(), ticket, note, version)
    return _ticket_response(ticket)


def _ticket_response(ticket: Ticket) -> Response:
    response = json_response(ticket_json(ticket, api_user()))
    audit.record_view(api_user(), ticket, ViewChannel.API)  # an action's answer shows the ticket too
    return response
