"""The actions that move a ticket's deadlines: extensions (延期), urging (催办), waiting on the citizen;
and the notices they (and the amber/red sweep) leave for staff."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import expected_version, json_body, text
from hotline.api.responses import json_response
from hotline.api.serializers import notice_json, ticket_json
from hotline.models import Role, Ticket
from hotline.models.types import utcnow
from hotline.services import access, deadlines, notices


@bp.post("/tickets/<number>/extend")
@api_roles(Role.DEPARTMENT)
def request_extension(number: str) -> Response:
    body = json_body(("days", "reason", "version"))
    days, reason = _days(body), text(body, "reason", required=True)
    version = expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    deadlines.request_extension(api_user(), ticket, days, reason, expected_version=version)
    # 200, as for every other action: the request is part of the ticket (`extension`), not a resource of its own.
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/approve-extension")
@api_roles(*access.SUPERVISE_ROLES)
def approve_extension(number: str) -> Response:
    body = json_body(("note", "version"), required=False)
    note, version = text(body, "note", default=""), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    deadlines.approve_extension(api_user(), ticket, note, expected_version=version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/refuse-extension")
@api_roles(*access.SUPERVISE_ROLES)
def refuse_extension(number: str) -> Response:
    body = json_body(("reason", "version"))
    reason, version = text(body, "reason", required=True), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    deadlines.refuse_extension(api_user(), ticket, reason, expected_version=version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/urge")
@api_roles(*access.SUPERVISE_ROLES)
def urge(number: str) -> Response:
    body = json_body(("text", "version"), required=False)
    message, version = text(body, "text", default=""), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    deadlines.urge(api_user(), ticket, message, expected_version=version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/wait-on-citizen")
@api_roles(Role.DEPARTMENT)
def wait_on_citizen(number: str) -> Response:
    body = json_body(("reason", "version"))
    reason, version = text(body, "reason", required=True), expected_version(body)
    ticket = access.ticket_for(api_user(), number)
    deadlines.wait_on_citizen(api_user(), ticket, reason, expected_version=version)
    return _ticket_response(ticket)


@bp.post("/tickets/<number>/resume")
@api_roles(Role.DEPARTMENT)
def resume(number: str) -> Response:
    version = expected_version(json_body(("version",), required=False))
    ticket = access.ticket_for(api_user(), number)
    deadlines.resume(api_user(), ticket, expected_version=version)
    return _ticket_response(ticket)


@bp.get("/notices")
@api_roles()
def list_notices() -> Response:
    return json_response([notice_json(notice) for notice in notices.notices_for(api_user(), utcnow())])


def _days(body: dict[str, Any]) -> int:
    """The type only: the service decides how many days may be asked for."""
    value = body.get("days")
    if value is None:
        raise ApiError(400, "invalid_input", _("“%(field)s” is required.", field="days"), field="days")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "invalid_input", _("Ask for a whole number of working days, at least 1."), field="days")
    return value


def _ticket_response(ticket: Ticket) -> Response:
    return json_response(ticket_json(ticket, api_user()))
