"""Every lifecycle action the API takes, through one view: POST /api/v1/tickets/<number>/<tail>.

`API_ACTIONS` is the table: per path tail, the Flask endpoint (the OpenAPI operationId), the
lifecycle action whose roles it admits (`services/ticketing/lifecycle.py: ACTIONS`), the body it reads
(a schema of `schemas.py`, which validates it and describes it in the OpenAPI document) and
the service call that takes it. `take` is the one view; each row is registered at its own
path and endpoint, so paths, endpoint names and the 404 of an unknown tail are the routes'
as before. An action a new issue adds is a row here (and one in the lifecycle table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response
from flask_babel import gettext as _
from marshmallow import ValidationError, fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Codes, Flag, Text, Version, load, optional
from hotline.api.ticket_schemas import ticket_json
from hotline.models import Role, Status, Ticket, User
from hotline.models.audit import ViewChannel
from hotline.services.accounts import access, audit
from hotline.services.citizens import citizen_contact
from hotline.services.errors import NotFound
from hotline.services.ticketing import assists, deadlines, lifecycle, merging, returns, tickets, tree

NOT_BLANK = {"description": "Not blank."}

# --- the bodies, fields in the order the API reads them ----------------------------------------


class VersionOnly(Body):
    version = Version()


class DispatchBody(Body):
    department = Text(required=True)
    assisting = optional(Codes())
    version = Version()
    # Optional, except back to a department that returned the ticket (ping-pong): then a 400 names it.
    reason = optional(
        Text(metadata={"description": "Why this department; required when it returned the ticket before (ping-pong)."})
    )


class ResolveBody(Body):
    resolution = Text(required=True, metadata=NOT_BLANK)
    version = Version()


class ReturnBody(Body):
    reason = Text(required=True, metadata=NOT_BLANK)
    reason_code = optional(Text(metadata={"description": "A code of GET /return-reasons; default other."}))
    version = Version()


class NoteBody(Body):
    text = Text(required=True, metadata=NOT_BLANK)
    version = Version()


class Days(fields.Integer):
    """The type only: the service decides how many days may be asked for."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Ask for a whole number of working days, at least 1."))
        return value


class ExtensionBody(Body):
    days = Days(required=True, metadata={"minimum": 1, "description": "Working days; the policy sets the most."})
    reason = Text(required=True, metadata=NOT_BLANK)
    version = Version()


class ApprovalBody(Body):
    note = optional(Text())
    version = Version()


class ReasonBody(Body):
    reason = Text(required=True, metadata=NOT_BLANK)
    version = Version()


class UrgeBody(Body):
    text = optional(Text())
    version = Version()


class AssistReply(Body):
    # No version: the assisting department's part changes neither the ticket's status nor its version.
    reply = Text(required=True, metadata=NOT_BLANK)


class MergeBody(Body):
    into = Text(required=True, metadata={"description": "The number of the ticket that answers for this one."})
    version = Version()


# Units in a tree (issue 17).
class SubdispatchBody(Body):
    department = Text(required=True, metadata={"description": "A direct sub-unit of the unit holding it."})
    due = optional(Text(metadata={"format": "date-time", "description": "No later than your own deadline."}))
    note = optional(Text())
    version = Version()


class ReviewBody(Body):
    approve = Flag(required=True)
    reason = optional(Text(metadata={"description": "Why, when refusing."}))
    version = Version()


class AssignBody(Body):
    handler = Text(required=True, metadata={"description": "The username of a member of the unit holding it."})
    version = Version()


# Contact with the citizen and callback (issue 17).
class ContactBody(Body):
    outcome = Text(required=True, metadata={"enum": ["reached", "no_answer", "wrong_number", "text"]})
    note = optional(Text())
    template = optional(Text(metadata={"enum": ["contact_tried", "contact_visit"]}))
    version = Version()


class CallbackBody(Body):
    rating = Text(required=True, metadata={"enum": ["satisfied", "basically_satisfied", "unsatisfied"]})
    words = optional(Text())
    version = Version()


# --- the service calls -------------------------------------------------------------------------

Take = Callable[[User, Ticket, dict[str, Any]], Any]


def _merge(user: User, ticket: Ticket, data: dict[str, Any]) -> None:
    try:
        merging.merge_into(user, ticket, data["into"], expected_version=data["version"])
    except NotFound:
        # The ticket in the address exists (it was loaded): it is the one named in the body that does not.
        raise ApiError(
            400, "invalid_input", _("No ticket %(number)s to merge into.", number=data["into"]), field="into"
        ) from None


@dataclass(frozen=True)
class ApiAction:
    tail: str  # the path's last part
    endpoint: str  # the Flask endpoint, the operationId
    action: str  # the lifecycle action whose roles may take it
    summary: str
    body: Body
    take: Take
    body_required: bool = True  # False: no body at all is an empty one
    tag: str = "lifecycle"
    records_view: bool = False  # the answer shows the ticket: a view in its audit trail
    accepted: Callable[[Ticket], bool] | None = None  # when 202 rather than 200
    description: str = ""

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles `api_roles` admits; () for any user with a token."""
        roles = lifecycle.ACTIONS[self.action].roles
        return () if set(roles) == set(Role.ALL) else roles

    @property
    def versioned(self) -> bool:
        return "version" in self.body.fields


_ROWS = (
    ApiAction(
        "dispatch",
        "dispatch",
        "dispatch",
        "Dispatch a ticket to a department (with assisting ones), or reassign it",
        DispatchBody(),
        lambda user, ticket, d: tickets.dispatch(
            user, ticket, d["department"], d["version"], assisting=d["assisting"], reason=d["reason"]
        ),
        records_view=True,
        description="Back to a department that returned the ticket needs a `reason` (ping-pong).",
    ),
    ApiAction(
        "accept",
        "accept",
        "accept",
        "Sign for a ticket (签收)",
        VersionOnly(),
        lambda user, ticket, d: tickets.accept(user, ticket, d["version"]),
        body_required=False,
        records_view=True,
    ),
    ApiAction(
        "resolve",
        "resolve",
        "resolve",
        "Reply and finish the work (办结)",
        ResolveBody(),
        lambda user, ticket, d: tickets.resolve(user, ticket, d["resolution"], d["version"]),
        records_view=True,
    ),
    ApiAction(
        "return",
        "return_to_dispatch",
        "return",
        "Hand a misrouted ticket back (退单); after the window, ask a supervisor to",
        ReturnBody(),
        lambda user, ticket, d: tickets.return_to_dispatch(
            user, ticket, d["reason"], d["version"], reason_code=d["reason_code"]
        ),
        accepted=lambda ticket: ticket.status != Status.PENDING_DISPATCH,
        description="200: back at the desk. 202: after the return window the ticket stays, with its "
        "`return_request` waiting for a supervisor.",
    ),
    ApiAction(
        "notes",
        "add_note",
        "notes",
        "Add an internal note",
        NoteBody(),
        lambda user, ticket, d: tickets.add_note(user, ticket, d["text"], d["version"]),
        records_view=True,
    ),
    ApiAction(
        "extend",
        "request_extension",
        "extend",
        "Ask for more working days (延期)",
        ExtensionBody(),
        lambda user, ticket, d: deadlines.request_extension(
            user, ticket, d["days"], d["reason"], expected_version=d["version"]
        ),
    ),
    ApiAction(
        "approve-extension",
        "approve_extension",
        "approve_extension",
        "Grant the pending extension",
        ApprovalBody(),
        lambda user, ticket, d: deadlines.approve_extension(
            user, ticket, d["note"] or "", expected_version=d["version"]
        ),
        body_required=False,
    ),
    ApiAction(
        "refuse-extension",
        "refuse_extension",
        "refuse_extension",
        "Refuse the pending extension",
        ReasonBody(),
        lambda user, ticket, d: deadlines.refuse_extension(user, ticket, d["reason"], expected_version=d["version"]),
    ),
    ApiAction(
        "urge",
        "urge",
        "urge",
        "Press the department (催办)",
        UrgeBody(),
        lambda user, ticket, d: deadlines.urge(user, ticket, d["text"] or "", expected_version=d["version"]),
        body_required=False,
    ),
    ApiAction(
        "wait-on-citizen",
        "wait_on_citizen",
        "wait",
        "Pause the clocks until the citizen answers",
        ReasonBody(),
        lambda user, ticket, d: deadlines.wait_on_citizen(user, ticket, d["reason"], expected_version=d["version"]),
    ),
    ApiAction(
        "resume",
        "resume",
        "resume",
        "Run the clocks again",
        VersionOnly(),
        lambda user, ticket, d: deadlines.resume(user, ticket, expected_version=d["version"]),
        body_required=False,
    ),
    ApiAction(
        "approve-return",
        "approve_return",
        "approve_return",
        "Grant a return asked for after the window",
        ApprovalBody(),
        lambda user, ticket, d: returns.approve_return(user, ticket, d["note"] or "", expected_version=d["version"]),
        body_required=False,
    ),
    ApiAction(
        "refuse-return",
        "refuse_return",
        "refuse_return",
        "Refuse a late return, saying why",
        ReasonBody(),
        lambda user, ticket, d: returns.refuse_return(user, ticket, d["reason"], expected_version=d["version"]),
    ),
    ApiAction(
        "assist-done",
        "assist_done",
        "assist_done",
        "Reply with an assisting department's part (协办)",
        AssistReply(),
        lambda user, ticket, d: assists.mark_done(user, ticket, d["reply"]),
        tag="routing",
    ),
    ApiAction(
        "merge",
        "merge",
        "merge",
        "Merge a duplicate into the ticket that answers for it (重复件)",
        MergeBody(),
        _merge,
    ),
    # Units in a tree (issue 17): `services/ticketing/tree.py`.
    ApiAction(
        "subdispatch",
        "subdispatch",
        "subdispatch",
        "Send an accepted ticket down to a sub-unit (下派)",
        SubdispatchBody(),
        lambda user, ticket, d: tree.subdispatch(
            user, ticket, d["department"], d["due"], d["note"] or "", d["version"]
        ),
        records_view=True,
        description="`due` no later than the sender's own deadline; by default "
        "HOTLINE_SUBDISPATCH_MARGIN_HOURS before it.",
    ),
    ApiAction(
        "return-up",
        "return_up",
        "return_up",
        "Hand a ticket sent down back to the unit above (回退)",
        ReasonBody(),
        lambda user, ticket, d: tree.return_up(user, ticket, d["reason"], d["version"]),
        records_view=True,
    ),
    ApiAction(
        "review",
        "review",
        "review",
        "Approve or refuse the reply from the unit below (审核)",
        ReviewBody(),
        lambda user, ticket, d: tree.review(user, ticket, d["approve"], d["reason"] or "", d["version"]),
        records_view=True,
    ),
    ApiAction(
        "assign",
        "assign",
        "assign",
        "Name the person who handles it (承办人; the unit lead)",
        AssignBody(),
        lambda user, ticket, d: tree.assign(user, ticket, d["handler"], d["version"]),
        records_view=True,
    ),
    # Contact with the citizen (先联系后办理) and callback (回访), issue 17: `services/citizens/citizen_contact.py`.
    ApiAction(
        "contacts",
        "record_contact",
        "contact",
        "Record an attempt to reach the citizen (先联系后办理)",
        ContactBody(),
        lambda user, ticket, d: citizen_contact.record_contact(
            user, ticket, d["outcome"], d["note"] or "", d["version"], template=d["template"]
        ),
        records_view=True,
    ),
    ApiAction(
        "call-citizen",
        "call_citizen",
        "call_citizen",
        "Ring your phone, then bridge the citizen (click-to-call)",
        VersionOnly(),
        lambda user, ticket, d: citizen_contact.call_citizen(user, ticket, d["version"]),
        body_required=False,
        accepted=lambda ticket: True,
        description="202: the call is under way; Twilio's status callback logs it on the ticket.",
    ),
    ApiAction(
        "callback-call",
        "callback_call",
        "callback_call",
        "Call the citizen back from the callback queue",
        VersionOnly(),
        lambda user, ticket, d: citizen_contact.callback_call(user, ticket, d["version"]),
        body_required=False,
        accepted=lambda ticket: True,
        description="202: the call is under way; Twilio's status callback logs it on the ticket.",
    ),
    ApiAction(
        "callback",
        "record_callback",
        "callback",
        "Record the callback's answer (回访); unsatisfied reopens",
        CallbackBody(),
        lambda user, ticket, d: citizen_contact.record_callback(
            user, ticket, d["rating"], d["words"] or "", d["version"]
        ),
        records_view=True,
    ),
)
API_ACTIONS: dict[str, ApiAction] = {row.tail: row for row in _ROWS}


def take(row: ApiAction, number: str) -> Response:
    """The one action view: read the body, find the ticket, take the action, show the ticket.
    The body is read before the ticket is looked up (a 400 before a 404), as the services
    check the right before the input."""
    data = load(row.body, required=row.body_required)
    user = api_user()
    ticket = access.ticket_for(user, number)
    row.take(user, ticket, data)
    status = 202 if row.accepted is not None and row.accepted(ticket) else 200
    response = json_response(ticket_json(ticket, user), status)
    if row.records_view:
        audit.record_view(user, ticket, ViewChannel.API)  # an action's answer shows the ticket too
    return response


def _register(row: ApiAction) -> None:
    def view(number: str) -> Response:
        return take(row, number)

    view.__name__ = row.endpoint
    view.__doc__ = row.summary
    bp.add_url_rule(f"/tickets/<number>/{row.tail}", row.endpoint, api_roles(*row.roles)(view), methods=["POST"])


for _row in _ROWS:
    _register(_row)
