"""SLA policies: everyone may read the limits; administrators set them.

A change applies to tickets dispatched afterwards: each ticket copies its terms
at dispatch, so running clocks never move under a department's feet.
"""

from __future__ import annotations

from flask import Response
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import json_body
from hotline.api.responses import json_response
from hotline.api.serializers import policy_json
from hotline.bounds import id_number
from hotline.models import Role
from hotline.services.clocks import policies

# Ids beyond this are no policy; bounding them keeps the database's integer type happy.


@bp.get("/sla-policies")
@api_roles()
def list_policies() -> Response:
    return json_response([policy_json(policy) for policy in policies.list_policies()])


@bp.post("/sla-policies")
@api_roles(Role.ADMIN)
def create_policy() -> Response:
    body = json_body(policies.FIELDS)
    policy = policies.create_policy(api_user(), body)
    return json_response(policy_json(policy), 201)


@bp.put("/sla-policies/<policy_id>")
@api_roles(Role.ADMIN)
def update_policy(policy_id: str) -> Response:
    body = json_body(policies.FIELDS)
    policy = policies.get_policy(_id(policy_id))
    policies.update_policy(api_user(), policy, body)
    return json_response(policy_json(policy))


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
