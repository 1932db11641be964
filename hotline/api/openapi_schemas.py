"""The component schemas of the OpenAPI description that are not marshmallow schemas: the error
body, ping and a year's holiday file (read as holiday-cn publishes it,
`calendar.load_calendar_years`). The ticket's are its marshmallow schemas (`ticket_schemas.py`).

JSON Schema as OpenAPI 3.1 has it. Response objects refuse properties they do not list
(`additionalProperties: false`), so a field an answer gains without a line here fails
tests/api/test_api_fuzz.py.
"""

from __future__ import annotations

from typing import Any

from hotline.bounds import MAX_ID
from hotline.models import Status

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: tuple[str, ...] | None = None, **extra: Any) -> Schema:
    """A closed object; every property required unless `required` names some."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
        **extra,
    }


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STATUS: Schema = {"type": "string", "enum": list(Status.ALL)}


SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        {
            "error": {"type": "string", "description": "A short code that never changes with the language."},
            "detail": {"type": "string", "description": "A message in the request's language."},
            "field": {"type": "string", "description": "The field or parameter at fault, when one is."},
        },
        required=("error", "detail"),
    ),
}

# --- a year's holiday file (POST /calendar/years), and what loading it answers --------------------


SCHEMAS.update(
    {
        "HolidayEntry": {
            "type": "object",
            "properties": {"name": STRING, "date": DATE, "isOffDay": BOOLEAN},
            "required": ["date", "isOffDay"],
        },
        "HolidayFile": {
            "description": "A holiday-cn file as published (other keys are ignored), or its bare list of days.",
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "year": INTEGER,
                        "days": {"type": "array", "items": ref("HolidayEntry"), "minItems": 1},
                    },
                    "required": ["days"],
                },
                {"type": "array", "items": ref("HolidayEntry"), "minItems": 1},
            ],
        },
    }
)


SCHEMAS["Ping"] = obj({"ok": {"type": "boolean", "const": True}})
SCHEMAS["HolidayCounts"] = {
    "type": "object",
    "description": "Days loaded, per year.",
    "additionalProperties": COUNT,
    "propertyNames": {"pattern": "^[0-9]{4}$"},
}
