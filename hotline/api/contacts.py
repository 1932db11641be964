"""Contact with the citizen (先联系后办理) and callback (回访), issue 17: the API's part.

- `POST /tickets/<number>/contacts` `{"outcome", "note", "template"?}`: an attempt recorded;
- `POST /tickets/<number>/call-citizen`: the hotline rings the caller's phone and bridges the
  citizen (202: the call is under way; Twilio's status callback logs it);
- `POST /tickets/<number>/reveal-phone` `{"reason"}`: the citizen's number, with the reason logged;
- `GET /callbacks`: the callback queue; `POST /tickets/<number>/callback-call` (202) and
  `POST /tickets/<number>/callback` `{"rating", "words"}`.
The four actions are rows of `api/actions.py` (the one action view); reveal-phone and the queue
are here. All answer with the ticket (reveal-phone adds `caller_phone` unmasked); 409 on a stale version
or a wrong state, 404 for a ticket the caller may not see. The rules are in
`services/citizens/citizen_contact.py`.
"""

from __future__ import annotations

from flask import Response
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Code, Output, Text, Time, Version, load, nullable
from hotline.api.ticket_schemas import ticket_json
from hotline.models import TICKET_TYPES, Role
from hotline.services.accounts import access
from hotline.services.citizens import citizen_contact


class RevealBody(Body):
    reason = Text(required=True, metadata={"description": "Not blank."})
    version = Version()


REVEAL_BODY = RevealBody()


class CallbackTicketSchema(Output):
    number = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": list(TICKET_TYPES)})
    category = Code(required=True)
    department = Code(required=True, allow_none=True)
    resolved_at = nullable(Time(required=True))
    version = fields.Integer(required=True, metadata={"minimum": 1})


class CallbackQueueSchema(Output):
    tickets = fields.List(fields.Nested(CallbackTicketSchema), required=True)


CALLBACK_QUEUE = CallbackQueueSchema()


@bp.post("/tickets/<number>/reveal-phone")
@api_roles(Role.DEPARTMENT)
def reveal_phone(number: str) -> Response:
    body = load(REVEAL_BODY)
    ticket = access.ticket_for(api_user(), number)
    phone = citizen_contact.reveal_phone(api_user(), ticket, body["reason"], body["version"])
    return json_response(ticket_json(ticket, api_user()) | {"caller_phone": phone})


@bp.get("/callbacks")
@api_roles(*access.CALLBACK_ROLES)
def callback_queue() -> Response:
    return json_response(CALLBACK_QUEUE.dump({"tickets": citizen_contact.callback_queue(api_user())}))
