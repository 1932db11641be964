"""Routing as a 12345 centre runs it: the dispatch catalogue (routing rules) and its tester,
learned suggestions and the return reasons.

Dispatch, returns and their decisions, and assisting departments' replies are lifecycle
actions (api/actions.py); duplicates are in api/merging.py.
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from marshmallow import fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import json_body, nested_object, query_int, string_list
from hotline.api.responses import json_response
from hotline.api.schemas import Output
from hotline.bounds import id_number
from hotline.models import TICKET_TYPES, URGENCIES, Role
from hotline.services.accounts import access
from hotline.services.dispatch import routing, suggestions
from hotline.services.ticketing import returns

# Ids beyond this are no rule; bounding them keeps the database's integer type happy.
# Wide enough for any catalogue, narrow enough for the database's integer column.
PRIORITY_LIMIT = 1_000_000
RULE_FIELDS = (
    "id",
    "priority",
    "name",
    "category",
    "district",
    "type",
    "urgency",
    "keywords",
    "department",
    "assisting",
    "active",
    "place_unit",  # geo (issue 18): the unit handling the ticket's gazetteer place
)
SAMPLE_FIELDS = ("category", "district", "type", "urgency", "description")
MAX_SUGGESTIONS = 10


# --- return reasons and late returns -----------------------------------------------------------


class ReturnReasonSchema(Output):
    code = fields.String(required=True)
    name = fields.String(required=True)


RETURN_REASONS = ReturnReasonSchema(many=True)


@bp.get("/return-reasons")
@api_roles()
def list_return_reasons() -> Response:
    return json_response(RETURN_REASONS.dump(returns.reasons()))


# --- learned suggestions ------------------------------------------------------------------------


@bp.get("/tickets/<number>/suggestions")
@api_roles(*access.DISPATCH_ROLES)
def ticket_suggestions(number: str) -> Response:
    limit = query_int("limit", 3, maximum=MAX_SUGGESTIONS)
    ticket = access.ticket_for(api_user(), number)
    found = suggestions.suggest(ticket.description, limit=limit)
    return json_response([{"department": s.department, "confidence": round(s.confidence, 3)} for s in found])


# --- the dispatch catalogue ---------------------------------------------------------------------


@bp.get("/routing-rules")
@api_roles(*access.DISPATCH_ROLES)
def list_rules() -> Response:
    return json_response([routing.rule_json(rule) for rule in routing.list_rules()])


@bp.get("/routing-rules/<rule_id>")
@api_roles(*access.DISPATCH_ROLES)
def get_rule(rule_id: str) -> Response:
    return json_response(routing.rule_json(routing.get_rule(_id(rule_id))))


@bp.post("/routing-rules")
@api_roles(Role.ADMIN)
def create_rule() -> Response:
    fields = _rule_fields(json_body(RULE_FIELDS))
    fields.pop("id", None)  # accepted so that a rule read can be sent back; the new rule gets its own
    rule = routing.save_rule(fields)
    return json_response(routing.rule_json(rule), 201, {"Location": url_for("api.get_rule", rule_id=rule.id)})


@bp.put("/routing-rules/<rule_id>")
@api_roles(Role.ADMIN)
def update_rule(rule_id: str) -> Response:
    """The fields given replace the rule's (null: the field's default); the others keep their values."""
    body = json_body(RULE_FIELDS)
    rule = routing.get_rule(_id(rule_id))
    if body.get("id") is not None and body["id"] != rule.id:
        raise ApiError(400, "invalid_input", _("“id” does not match the rule in the address."), field="id")
    _rule_fields(body)
    fields = _without_nulls({**routing.rule_json(rule), **body})
    fields.pop("id", None)
    routing.save_rule(fields, rule)
    return json_response(routing.rule_json(rule))


@bp.delete("/routing-rules/<rule_id>")
@api_roles(Role.ADMIN)
def delete_rule(rule_id: str) -> Response:
    routing.delete_rule(routing.get_rule(_id(rule_id)))
    return Response(status=204)


@bp.post("/routing-rules/test")
@api_roles(*access.DISPATCH_ROLES)
def test_rules() -> Response:
    """Which department would get this sample: under the saved rules, or under `rules` (unsaved)."""
    body = json_body(("sample", "rules"))
    if body.get("sample") is None:
        raise ApiError(400, "invalid_input", _("“%(field)s” is required.", field="sample"), field="sample")
    sample = _sample(nested_object(body["sample"], SAMPLE_FIELDS, "sample"))
    rules = None
    if body.get("rules") is not None:
        if not isinstance(body["rules"], list):
            raise ApiError(400, "invalid_input", _("“rules” must be a list of rules."), field="rules")
        rules = [
            _rule_fields(nested_object(rule, RULE_FIELDS, f"rules[{i}]"), f"rules[{i}].")
            for i, rule in enumerate(body["rules"])
        ]
    decision = routing.try_rules(sample, rules)
    return json_response(
        {
            "by": decision.by,
            "department": decision.department.code if decision.department else None,
            "assisting": [department.code for department in decision.assisting],
            "rule": decision.event_data().get("rule"),
            "confidence": round(decision.confidence, 3) if decision.confidence is not None else None,
            "reason": decision.reason,
            "trace": decision.trace,
        }
    )


def _rule_fields(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The types the service leaves to its callers (and strings inside lists); nulls dropped,
    so that a field sent as null takes its default. Codes and values are the service's to check."""
    for name in ("name", "category", "district", "type", "urgency", "department", "place_unit"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            _invalid(_("“%(field)s” must be a string.", field=prefix + name), prefix + name)
    for name in ("id", "priority"):
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            _invalid(_("“%(field)s” must be a whole number.", field=prefix + name), prefix + name)
    priority = fields.get("priority")
    if priority is not None and not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
        _invalid(
            _("The priority must be between %(low)d and %(high)d.", low=-PRIORITY_LIMIT, high=PRIORITY_LIMIT),
            prefix + "priority",
        )
    if fields.get("active") is not None and not isinstance(fields["active"], bool):
        _invalid(_("“%(field)s” must be true or false.", field=prefix + "active"), prefix + "active")
    string_list(fields, "keywords", prefix=prefix)
    string_list(fields, "assisting", prefix=prefix)
    return _without_nulls(fields)


def _sample(sample: dict[str, Any]) -> dict[str, Any]:
    for name in SAMPLE_FIELDS:
        if sample.get(name) is not None and not isinstance(sample[name], str):
            _invalid(_("“%(field)s” must be a string.", field="sample." + name), "sample." + name)
    if sample.get("type") is not None and sample["type"] not in TICKET_TYPES:
        _invalid(_("Unknown ticket type “%(type)s”.", type=sample["type"]), "sample.type")
    if sample.get("urgency") is not None and sample["urgency"] not in URGENCIES:
        _invalid(_("Urgency must be normal or urgent."), "sample.urgency")
    return sample


def _without_nulls(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _invalid(detail: str, field: str) -> None:
    raise ApiError(400, "invalid_input", detail, field=field)


def _id(raw: str) -> int:
    # A non-numeric id is no rule at all: 404, as for an unknown ticket number.
    value = id_number(raw)
    if value is None:
        raise ApiError(404, "not_found", _("No routing rule %(id)s.", id=raw))
    return value
