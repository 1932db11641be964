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

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Text, Version, load
from hotline.api.serializers import iso, ticket_json
from hotline.models import Role
from hotline.services.accounts import access
from hotline.services.citizens import citizen_contact


class RevealBody(Body):
    reason = Text(required=True, metadata={"description": "Not blank."})
    version = Version()


REVEAL_BODY = RevealBody()


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
    queue = citizen_contact.callback_queue(api_user())
    return json_response(
        {
            "tickets": [
                {
                    "number": t.number,
                    "type": t.type,
                    "category": t.category.code,
                    "department": t.department.code if t.department else None,
                    "resolved_at": iso(t.resolved_at),
                    "version": t.version,
                }
                for t in queue
            ]
        }
    )
