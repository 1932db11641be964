"""The API described once: a marshmallow schema per request body that validates the input and,
through apispec's MarshmallowPlugin, is the OpenAPI document's description of it.

A body is a `Body` subclass: its fields, in the order the API reads them and lists them in
"Unknown field" messages. `load(SomeBody)` reads the request with `parsing.json_body` (415, 413,
bad JSON, unknown fields, characters that cannot be stored), then lets marshmallow check the
types with the fields below, whose messages are the API's own (a 400 naming the field at fault,
the first one in the schema's order). `null` counts as not given, as everywhere in the API.

The fields carry their OpenAPI details as `metadata` (description, minimum...); `openapi.py`
hands the schema classes to apispec, which writes them as components. docs/api.md, "Adding an
API route", says how to describe a new route.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields

from hotline.api.errors import ApiError
from hotline.api.parsing import json_body
from hotline.api.serializers import iso
from hotline.bounds import MAX_ID
from hotline.services.platform.storage import storable


class Body(Schema):
    """A JSON object body: closed (unknown keys refused, `additionalProperties: false`)."""

    class Meta:
        unknown = RAISE


class Output(Schema):
    """A response object as `dump` writes it: every field always there (required in the
    document, null where `allow_none`), no other (`additionalProperties: false`)."""

    class Meta:
        unknown = RAISE


class Code(fields.String):
    """A related row (department, category...) shown by its code (`key`: another attribute,
    such as a ticket's number); null for none."""

    def __init__(self, *, key: str = "code", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return getattr(value, self.key) if value is not None else None


class Computed(fields.Field):
    """An answer's value worked out from the whole object (`compute(obj)`); its type is the
    `metadata`'s (`{"type": "number"}`...)."""

    def __init__(self, compute: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self.compute(obj)


class Time(fields.DateTime):
    """A moment as the API writes them all (`serializers.iso`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"description": "ISO 8601 in UTC, to the second."}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return iso(value)


class Count(fields.Integer):
    """A number of things: 0 or more."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"minimum": 0, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


def page_of(name: str, key: str, item: type[Schema], **extra: fields.Field) -> Schema:
    """A page of a list as the API writes them all: the items under `key`, then `page`,
    `per_page`, `total` (and `extra`), `pages`; the component is `name`."""
    described: dict[str, fields.Field] = {
        key: fields.List(fields.Nested(item), required=True),
        "page": Id(required=True),
        "per_page": Id(required=True),
        "total": Count(required=True),
        **extra,
        "pages": Count(required=True),
    }
    return Output.from_dict(described, name=name)()


class Text(fields.String):
    """A string; `required=True` refuses it missing or null."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(_("“%(field)s” must be a string.", field=self.name))
        return value


class Codes(fields.List):
    """A list of strings (codes, keywords)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(_("“%(field)s” must be a list of strings.", field=self.name))
        if not all(storable(item) for item in value):
            raise ValidationError(_("“%(field)s” contains characters that cannot be stored.", field=self.name))
        return value


class Id(fields.Integer):
    """A positive id, up to what the database's integer column holds."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"minimum": 1, "maximum": MAX_ID, **kwargs.pop("metadata", {})}
        super().__init__(strict=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise ValidationError(_("“%(field)s” must be a positive integer.", field=self.name))
        return value


class Number(fields.Float):
    """A finite JSON number (a coordinate, say); ranges are the service's to check."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError(_("“%(field)s” must be a number.", field=self.name))
        return float(value)


class Flag(fields.Boolean):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(_("“%(field)s” must be true or false.", field=self.name))
        return value


class Version(fields.Integer):
    """The ticket's version the client saw; `load` merges it with the If-Match header."""

    def __init__(self) -> None:
        super().__init__(
            allow_none=True,
            metadata={"minimum": 1, "description": "The ticket's version the client saw (or If-Match)."},
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(_("“version” must be a positive integer."))
        return value


def expected_version(body: dict[str, Any]) -> int | None:
    """The version the client saw: `"version": n` in the body or an `If-Match: n` header.

    `If-Match: *` means "whatever it is now", as in HTTP. Both given and different: 400.
    """
    from_body = body.get("version")
    if from_body is not None and (isinstance(from_body, bool) or not isinstance(from_body, int) or from_body < 1):
        raise ApiError(400, "invalid_input", _("“version” must be a positive integer."), field="version")
    from_header = _if_match_version()
    if from_body is not None and from_header is not None and from_body != from_header:
        raise ApiError(400, "invalid_input", _("“version” and the If-Match header disagree."), field="version")
    return from_body if from_body is not None else from_header


_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def _if_match_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() in ("", "*"):
        return None
    match = _IF_MATCH.match(header)
    if match is None or int(match.group(1)) < 1:
        raise ApiError(
            400, "invalid_input", _("If-Match must carry the ticket's version, e.g. If-Match: 3."), field="version"
        )
    return int(match.group(1))


class Given(fields.Raw):
    """A value the service checks, with its own messages (which are the API's), a missing one
    too: the schema documents its type (`metadata`: `type`, `minimum`, `enum`...) and whether
    it is required, and lets it through as sent."""


def optional(field: fields.Field) -> fields.Field:
    """Mark a field as one that null may stand for (documented as such, in its `enum` too); not required."""
    field.allow_none = True
    enum = field.metadata.get("enum")
    if enum is not None and None not in enum:
        field.metadata = {**field.metadata, "enum": [*enum, None]}
    return field


# In an answer: a field that may be null (documented as such, in its `enum` too).
nullable = optional


def load(schema: Schema, *, required: bool = True) -> dict[str, Any]:
    """The request's body as `schema` describes it: every field of the schema present in the
    result (None where not given), `version` from the body or the If-Match header.

    `required=False`: an empty body is an empty object (e.g. POST .../accept with no body)."""
    fields_ = schema.fields
    body = json_body(tuple(fields_), required=required)
    result: dict[str, Any] = {}
    # Field by field rather than `schema.load`: the first field at fault, in the schema's order,
    # is the one named, and intake skips the schema-level machinery it does not use (40 µs).
    for name, field in fields_.items():
        value = body.get(name)
        if value is None:
            if field.required:
                raise ApiError(400, "invalid_input", _("“%(field)s” is required.", field=name), field=name)
            result[name] = None
            continue
        try:
            result[name] = field.deserialize(value)
        except ValidationError as error:
            raise ApiError(400, "invalid_input", _first(error.messages), field=name) from None
    if "version" in fields_:
        result["version"] = expected_version(body)
    return result


def load_given(schema: Schema) -> dict[str, Any]:
    """The fields the body gives, as sent (null included: a change may mean it), each checked by
    its field; for a change that keeps what the body leaves out, or a service that tells a field
    given as null from one left out. Required fields as in `load`, but for those the service
    checks (`Given`, `service_required`)."""
    return checked(schema, json_body(tuple(schema.fields)))


def checked(schema: Schema, body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`load_given` on an object already read: the request's body, or one inside it (`prefix`
    places its fields in messages, e.g. "rules[0]."). Fields are checked in the schema's
    `CHECKED_IN` order if it has one (the order the API always named the first fault in), then
    the schema's `after_fields` checks what concerns several."""
    order = getattr(schema, "CHECKED_IN", None) or tuple(schema.fields)
    for name in order:
        field, value, path = schema.fields[name], body.get(name), prefix + name
        if value is None:
            # Required and nullable: it must be there, null being one of its values.
            if field.required and not (field.allow_none and name in body) and not _left_to_service(field):
                raise ApiError(400, "invalid_input", _required(field, path), field=path)
            continue
        if prefix:  # the field's messages name it by its path
            field = copy.copy(field)
            field.name = path
        try:
            body[name] = field.deserialize(value)
        except ValidationError as error:
            raise ApiError(400, "invalid_input", _first(error.messages), field=path) from None
    after = getattr(schema, "after_fields", None)
    if after is not None:
        after(body, prefix)
    return body


def service_required(field: fields.Field) -> fields.Field:
    """Required (so documented), but the service says so when it is missing, in its own words."""
    field.required = True
    setattr(field, _LEFT_TO_SERVICE, True)  # noqa: B010 - an attribute marshmallow's fields lack
    return field


_LEFT_TO_SERVICE = "missing_left_to_service"


def _left_to_service(field: fields.Field) -> bool:
    return isinstance(field, Given) or getattr(field, _LEFT_TO_SERVICE, False)


_MISSING = fields.Field.default_error_messages["required"]


def _required(field: fields.Field, name: str) -> str:
    """The field's own message for a missing value (`error_messages={"required": lazy_gettext(...)}`), or the API's."""
    own = field.error_messages.get("required", _MISSING)
    return str(own) if own != _MISSING else _("“%(field)s” is required.", field=name)


def _first(messages: Any) -> str:
    while isinstance(messages, list | dict):
        messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
    return str(messages)
