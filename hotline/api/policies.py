"""SLA policies: everyone may read the limits; administrators set them.

A change applies to tickets dispatched afterwards: each ticket copies its terms
at dispatch, so running clocks never move under a department's feet.

Described once: `SlaPolicySchema` writes a policy and is the document's `SlaPolicy`; the two
bodies (`SlaPolicyInput` to add one, `SlaPolicyChange` for the fields to change) list the
fields and their types, whose values `services.clocks.policies` checks with its own messages.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Code, Given, Id, Output, load_given, nullable, optional
from hotline.bounds import id_number
from hotline.models import URGENCIES, Role
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.services.clocks import policies


class SlaPolicySchema(Output):
    id = Id(required=True)
    category = Code(required=True, allow_none=True)
    urgency = fields.String(required=True, metadata={"enum": list(URGENCIES)})
    accept_amount = fields.Integer(required=True)
    accept_unit = fields.String(required=True, metadata={"enum": list(ACCEPT_UNITS)})
    resolve_amount = fields.Integer(required=True)
    resolve_unit = fields.String(required=True, metadata={"enum": list(RESOLVE_UNITS)})
    return_window_days = fields.Integer(required=True)
    max_extension_days = fields.Integer(required=True)
    # First contact (issue 17): null, the urgency's default (2 working hours; urgent 30 minutes).
    contact_amount = fields.Integer(required=True, allow_none=True)
    contact_unit = nullable(fields.String(required=True, metadata={"enum": list(ACCEPT_UNITS)}))


def _policy_body(name: str, *, adding: bool) -> type[Body]:
    """A policy's fields in `policies.FIELDS`'s order; adding one, the service's required ones are required."""

    def given(required: bool, **schema: Any) -> fields.Field:
        return Given(required=adding and required, metadata=schema)

    described: dict[str, fields.Field] = {
        "category": optional(given(False, type="string")),
        "urgency": given(True, type="string", enum=list(URGENCIES)),
        "accept_amount": given(True, type="integer", minimum=1, maximum=7 * 24 * 60),
        "accept_unit": given(True, type="string", enum=list(ACCEPT_UNITS)),
        "resolve_amount": given(True, type="integer", minimum=1, maximum=366 * 24),
        "resolve_unit": given(True, type="string", enum=list(RESOLVE_UNITS)),
        "return_window_days": given(False, type="integer", minimum=1, maximum=30),
        "max_extension_days": given(False, type="integer", minimum=0, maximum=250),
        "contact_amount": optional(given(False, type="integer", minimum=1, maximum=7 * 24 * 60)),  # issue 17
        "contact_unit": optional(given(False, type="string", enum=list(ACCEPT_UNITS))),
    }
    # In the service's order (a field it adds and this lacks: a KeyError at import).
    return Body.from_dict({field: described[field] for field in policies.FIELDS}, name=name)


POLICY = SlaPolicySchema()
POLICIES = SlaPolicySchema(many=True)
POLICY_INPUT = _policy_body("SlaPolicyInput", adding=True)()
POLICY_CHANGE = _policy_body("SlaPolicyChange", adding=False)()


@bp.get("/sla-policies")
@api_roles()
def list_policies() -> Response:
    return json_response(POLICIES.dump(policies.list_policies()))


@bp.post("/sla-policies")
@api_roles(Role.ADMIN)
def create_policy() -> Response:
    policy = policies.create_policy(api_user(), load_given(POLICY_INPUT))
    return json_response(POLICY.dump(policy), 201)


@bp.put("/sla-policies/<policy_id>")
@api_roles(Role.ADMIN)
def update_policy(policy_id: str) -> Response:
    body = load_given(POLICY_CHANGE)
    policy = policies.get_policy(_id(policy_id))
    policies.update_policy(api_user(), policy, body)
    return json_response(POLICY.dump(policy))


@bp.delete("/sla-policies/<policy_id>")
@api_roles(Role.ADMIN)
def delete_policy(policy_id: str) -> Response:
    policy = policies.get_policy(_id(policy_id))
    policies.delete_policy(api_user(), policy)
    return Response(status=204)


def _id(raw: str) -> int:
    # A non-numeric id is no policy at all: 404, as for an unknown ticket number.
    value = id_number(raw)
    if value is None:
        raise ApiError(404, "not_found", _("No SLA policy %(id)s.", id=raw))
    return value
