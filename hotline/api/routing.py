"""Routing as a 12345 centre runs it: the dispatch catalogue (routing rules) and its tester,
learned suggestions and the return reasons.

Dispatch, returns and their decisions, and assisting departments' replies are lifecycle
actions (api/actions.py); duplicates are in api/merging.py.
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError, fields

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import json_body, nested_object, query_int
from hotline.api.responses import json_response
from hotline.api.schemas import (
    Body,
    Code,
    Codes,
    Computed,
    Flag,
    Id,
    Output,
    Text,
    checked,
    load_given,
    nullable,
    optional,
    service_required,
)
from hotline.bounds import MAX_ID, id_number
from hotline.models import TICKET_TYPES, URGENCIES, Role
from hotline.services.accounts import access
from hotline.services.dispatch import routing, suggestions
from hotline.services.ticketing import returns

# Wide enough for any catalogue, narrow enough for the database's integer column.
PRIORITY_LIMIT = 1_000_000
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


class SuggestionSchema(Output):
    department = fields.String(required=True)
    confidence = Computed(
        lambda suggestion: round(suggestion.confidence, 3),
        required=True,
        metadata={"type": "number", "minimum": 0, "maximum": 1},
    )


SUGGESTIONS = SuggestionSchema(many=True)


@bp.get("/tickets/<number>/suggestions")
@api_roles(*access.DISPATCH_ROLES)
def ticket_suggestions(number: str) -> Response:
    limit = query_int("limit", 3, maximum=MAX_SUGGESTIONS)
    ticket = access.ticket_for(api_user(), number)
    found = suggestions.suggest(ticket.description, limit=limit)
    return json_response(SUGGESTIONS.dump(found))


# --- the dispatch catalogue ---------------------------------------------------------------------


class WholeNumber(fields.Integer):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("“%(field)s” must be a whole number.", field=self.name))
        return value


class Priority(WholeNumber):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = super()._deserialize(value, attr, data, **kwargs)
        if not -PRIORITY_LIMIT <= number <= PRIORITY_LIMIT:
            raise ValidationError(
                _("The priority must be between %(low)d and %(high)d.", low=-PRIORITY_LIMIT, high=PRIORITY_LIMIT)
            )
        return number


class RoutingRuleSchema(Output):
    id = Id(required=True)
    priority = fields.Integer(required=True)
    name = fields.String(required=True)
    category = Code(required=True, allow_none=True)
    district = Code(required=True, allow_none=True)
    type = nullable(fields.String(required=True, metadata={"enum": list(TICKET_TYPES)}))
    urgency = nullable(fields.String(required=True, metadata={"enum": list(URGENCIES)}))
    keywords = Computed(
        lambda rule: list(rule.keywords or []), required=True, metadata={"type": "array", "items": {"type": "string"}}
    )
    department = Code(required=True)
    assisting = fields.List(Code(), required=True)
    active = fields.Boolean(required=True)
    place_unit = Code(
        attribute="place_department",
        required=True,
        allow_none=True,
        metadata={"description": "The unit (code) handling the gazetteer place at the ticket's point."},
    )


def _rule_body(name: str, *, adding: bool) -> type[Body]:
    """A rule as POST takes it (`department` required, which the service says) or PUT (the fields to change)."""
    department = Text()
    described: dict[str, fields.Field] = {
        "id": optional(
            WholeNumber(
                metadata={
                    "minimum": 1,
                    "maximum": MAX_ID,
                    "description": "Ignored by POST; by PUT it must be the rule's own.",
                }
            )
        ),
        "priority": optional(
            Priority(metadata={"minimum": -PRIORITY_LIMIT, "maximum": PRIORITY_LIMIT, "default": 100})
        ),
        "name": optional(Text()),
        "category": optional(Text()),
        "district": optional(Text()),
        "type": optional(Text(metadata={"enum": list(TICKET_TYPES)})),
        "urgency": optional(Text(metadata={"enum": list(URGENCIES)})),
        "keywords": optional(Codes()),
        "department": optional(service_required(department) if adding else department),
        "assisting": optional(Codes()),
        "active": optional(Flag()),
        "place_unit": optional(Text()),  # geo (issue 18): the unit handling the ticket's gazetteer place
    }
    body = Body.from_dict(described, name=name)
    # The order the API always named the first fault in: the strings, the numbers, then the rest.
    body.CHECKED_IN = RULE_CHECKED_IN
    return body


RULE_CHECKED_IN = (
    *("name", "category", "district", "type", "urgency", "department", "place_unit"),
    *("id", "priority", "active", "keywords", "assisting"),
)


class Object(fields.Nested):
    """An object inside the body (a sample to try), held to the body's rules and checked by its
    schema; its fields are named by their path in messages ("sample.category")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        schema = self.schema
        return checked(schema, nested_object(value, tuple(schema.fields), self.name), self.name + ".")


class Objects(fields.List):
    """A list of such objects (rules to try), named "rules[0]" and so on; nulls left out of each."""

    def __init__(self, schema: type[Body], **kwargs: Any) -> None:
        super().__init__(fields.Nested(schema), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise ValidationError(_("“rules” must be a list of rules."))
        schema = self.inner.schema
        return [
            _without_nulls(
                checked(schema, nested_object(item, tuple(schema.fields), f"{self.name}[{i}]"), f"{self.name}[{i}].")
            )
            for i, item in enumerate(value)
        ]


RoutingRuleInput = _rule_body("RoutingRuleInput", adding=True)
RULE_INPUT = RoutingRuleInput()
RULE_CHANGE = _rule_body("RoutingRuleChange", adding=False)()


class RoutingSample(Body):
    category = service_required(Text())
    district = optional(Text())
    type = optional(Text(metadata={"enum": list(TICKET_TYPES)}))
    urgency = optional(Text(metadata={"enum": list(URGENCIES)}))
    description = optional(Text())

    def after_fields(self, sample: dict[str, Any], prefix: str) -> None:
        # After every field's type, as the API always checked them.
        if sample.get("type") is not None and sample["type"] not in TICKET_TYPES:
            _invalid(_("Unknown ticket type “%(type)s”.", type=sample["type"]), prefix + "type")
        if sample.get("urgency") is not None and sample["urgency"] not in URGENCIES:
            _invalid(_("Urgency must be normal or urgent."), prefix + "urgency")


class RoutingTest(Body):
    sample = Object(RoutingSample, required=True)
    rules = optional(Objects(RoutingRuleInput))


class RoutingTraceSchema(Output):
    rule = fields.Integer(required=True, allow_none=True)
    priority = fields.Integer(required=True)
    matched = fields.Boolean(required=True)
    failed = nullable(
        fields.String(
            required=True, metadata={"enum": ["category", "district", "type", "urgency", "keywords", "place_unit"]}
        )
    )


class DecidedBySchema(Output):
    id = fields.Integer(required=True, allow_none=True)
    priority = fields.Integer(required=True)
    name = fields.String(required=True)


class DecidedBy(fields.Nested):
    """The rule that decided, as the routed event names it (`Decision.event_data`); null for none."""

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self._serialize(obj.event_data().get("rule"), attr, obj)


class RoutingDecisionSchema(Output):
    by = fields.String(required=True, metadata={"enum": ["rule", "category_default", "suggestion", "none"]})
    department = Code(required=True, allow_none=True)
    assisting = fields.List(Code(), required=True)
    rule = DecidedBy(DecidedBySchema, required=True, allow_none=True)
    confidence = Computed(
        lambda decision: round(decision.confidence, 3) if decision.confidence is not None else None,
        required=True,
        allow_none=True,
        metadata={"type": "number", "minimum": 0, "maximum": 1},
    )
    reason = fields.String(required=True)
    trace = fields.List(fields.Nested(RoutingTraceSchema), required=True)


RULE = RoutingRuleSchema()
RULES = RoutingRuleSchema(many=True)
RULE_TEST = RoutingTest()
DECISION = RoutingDecisionSchema()


@bp.get("/routing-rules")
@api_roles(*access.DISPATCH_ROLES)
def list_rules() -> Response:
    return json_response(RULES.dump(routing.list_rules()))


@bp.get("/routing-rules/<rule_id>")
@api_roles(*access.DISPATCH_ROLES)
def get_rule(rule_id: str) -> Response:
    return json_response(RULE.dump(routing.get_rule(_id(rule_id))))


@bp.post("/routing-rules")
@api_roles(Role.ADMIN)
def create_rule() -> Response:
    fields = _without_nulls(load_given(RULE_INPUT))
    fields.pop("id", None)  # accepted so that a rule read can be sent back; the new rule gets its own
    rule = routing.save_rule(fields)
    return json_response(RULE.dump(rule), 201, {"Location": url_for("api.get_rule", rule_id=rule.id)})


@bp.put("/routing-rules/<rule_id>")
@api_roles(Role.ADMIN)
def update_rule(rule_id: str) -> Response:
    """The fields given replace the rule's (null: the field's default); the others keep their values."""
    body = json_body(tuple(RULE_CHANGE.fields))
    rule = routing.get_rule(_id(rule_id))
    if body.get("id") is not None and body["id"] != rule.id:
        raise ApiError(400, "invalid_input", _("“id” does not match the rule in the address."), field="id")
    fields = _without_nulls({**routing.rule_json(rule), **checked(RULE_CHANGE, body)})
    fields.pop("id", None)
    routing.save_rule(fields, rule)
    return json_response(RULE.dump(rule))


@bp.delete("/routing-rules/<rule_id>")
@api_roles(Role.ADMIN)
def delete_rule(rule_id: str) -> Response:
    routing.delete_rule(routing.get_rule(_id(rule_id)))
    return Response(status=204)


@bp.post("/routing-rules/test")
@api_roles(*access.DISPATCH_ROLES)
def test_rules() -> Response:
    """Which department would get this sample: under the saved rules, or under `rules` (unsaved)."""
    body = load_given(RULE_TEST)
    return json_response(DECISION.dump(routing.try_rules(body["sample"], body.get("rules"))))


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
