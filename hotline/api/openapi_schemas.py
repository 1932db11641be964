"""The component schemas of the OpenAPI description not yet written by marshmallow schemas: the
ticket's JSON (`serializers.ticket_json`) and what it nests, the error body, ping and a year's
holiday file (read as holiday-cn publishes it, `calendar.load_calendar_years`).

JSON Schema as OpenAPI 3.1 has it. Response objects refuse properties they do not list
(`additionalProperties: false`), so a field added to a serializer without a line here
fails tests/api/test_api_fuzz.py; request bodies refuse them too, as `parsing.json_body` does.
`null` is accepted wherever the API treats it as "not given".
"""

from __future__ import annotations

from typing import Any

from hotline.bounds import MAX_ID
from hotline.models import TICKET_TYPES, URGENCIES, Channel, Status
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.services.ticketing import lifecycle

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """The schema, or null."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    result = dict(schema)
    kind = result.get("type")
    result["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if "enum" in result:
        result["enum"] = [*result["enum"], None]
    return result


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
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, to the second."}
DATE: Schema = {"type": "string", "format": "date"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STATUS: Schema = {"type": "string", "enum": list(Status.ALL)}
TICKET_TYPE: Schema = {"type": "string", "enum": list(TICKET_TYPES)}
URGENCY: Schema = {"type": "string", "enum": list(URGENCIES)}


def page_of(name: str, items: Schema, **extra: Schema) -> Schema:
    return obj(
        {name: {"type": "array", "items": items}, "page": ID, "per_page": ID, "total": COUNT, "pages": COUNT, **extra}
    )


# --- tickets ----------------------------------------------------------------------------------

TICKET_FIELDS: dict[str, Schema] = {
    "number": {"type": "string", "examples": ["20261125-000042"]},
    "status": STATUS,
    "type": TICKET_TYPE,
    "category": STRING,
    "district": nullable(STRING),
    "address": STRING,
    "description": STRING,
    "urgency": URGENCY,
    # Any channel of the list: a hotspot's case and imported history too, not only those people name.
    "channel": {"type": "string", "enum": [channel.value for channel in Channel]},
    "confidential": BOOLEAN,
    "caller_phone": {"type": "string", "description": "E.164; masked (138****8000) for department staff."},
    "caller_name": nullable(STRING),
    "department": nullable(STRING),
    "routed_by": nullable({"type": "string", "enum": ["rule", "category_default", "suggestion", "dispatcher"]}),
    "routing_rule": nullable(INTEGER),
    "parent": nullable(STRING),
    "source": nullable(STRING),
    "external_id": nullable(STRING),
    # geo (issue 18)
    "lat": nullable({"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84; null when unknown."}),
    "long": nullable({"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84; null when unknown."}),
    "assisting": {"type": "array", "items": ref("Assist")},
    "resolution": nullable(STRING),
    "created_at": TIME,
    "dispatched_at": nullable(TIME),
    "accepted_at": nullable(TIME),
    "resolved_at": nullable(TIME),
    "closed_at": nullable(TIME),
    "accept_due_at": nullable(TIME),
    "resolve_due_at": nullable(TIME),
    "sla_level": nullable({"type": "string", "enum": ["amber", "red"]}),
    "paused_at": nullable(TIME),
    "extended_days": COUNT,
    "urge_count": COUNT,
    "sla": nullable(ref("Sla")),
    "extension": nullable(ref("ExtensionRequest")),
    "return_request": nullable(ref("ReturnRequest")),
    # Contact with the citizen (issue 17): the first-contact deadline, and when it was met.
    "contact_due_at": nullable(TIME),
    "first_contacted_at": nullable(TIME),
    "version": {"type": "integer", "minimum": 1},
    "actions": {
        "type": "array",
        "items": {"type": "string", "enum": lifecycle.listed_names()},
        "description": "The actions the caller may take on the ticket now (the lifecycle table).",
    },
    # Units in a tree (issue 17)
    "handler": nullable({"type": "string", "description": "The username of the person handling it (承办人)."}),
    "holder": nullable({"type": "string", "description": "The code of the unit holding it now."}),
    "holders": {
        "type": "array",
        "items": obj({"department": STRING, "since": nullable(TIME), "due": nullable(TIME)}),
        "description": "From the unit the city dispatched it to down to the one holding it now (下派).",
    },
}
TICKET_DETAIL_FIELDS: dict[str, Schema] = {
    **TICKET_FIELDS,
    "children": {"type": "array", "items": STRING},
    "events": {"type": "array", "items": ref("Event")},
    "notifications": {"type": "array", "items": ref("Notification")},
    "contacts": {"type": "array", "items": ref("Contact")},  # issue 17
    "attachments": {"type": "array", "items": ref("Attachment")},  # issue 18 item 5
}

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        {
            "error": {"type": "string", "description": "A short code that never changes with the language."},
            "detail": {"type": "string", "description": "A message in the request's language."},
            "field": {"type": "string", "description": "The field or parameter at fault, when one is."},
        },
        required=("error", "detail"),
    ),
    "TicketSummary": obj(TICKET_FIELDS, description="A ticket as lists show it: no events, children or texts."),
    "Ticket": obj(TICKET_DETAIL_FIELDS),
    "NewTicket": obj(
        {**TICKET_DETAIL_FIELDS, "routing_queued": BOOLEAN},
        description="The ticket just logged; `routing_queued` is false when it waits for the sweeper.",
    ),
    "TicketPage": page_of("tickets", ref("TicketSummary")),
    "Assist": obj(
        {
            "department": STRING,
            "status": {"type": "string", "enum": ["open", "done"]},
            "reply": STRING,
            "done_at": nullable(TIME),
        }
    ),
    "Sla": obj(
        {
            "policy": {"type": "string", "description": "A category code, `hotline` or `default`."},
            "accept": obj({"amount": INTEGER, "unit": {"type": "string", "enum": list(ACCEPT_UNITS)}}),
            "resolve": obj({"amount": INTEGER, "unit": {"type": "string", "enum": list(RESOLVE_UNITS)}}),
            "time_used": nullable(
                obj({"fraction": {"type": "number", "minimum": 0}, "minutes_left": INTEGER, "working": BOOLEAN})
            ),
        }
    ),
    "ExtensionRequest": obj({"days": INTEGER, "reason": STRING, "requested_by": STRING, "created_at": TIME}),
    "ReturnRequest": obj(
        {"reason_code": nullable(STRING), "reason": STRING, "requested_by": STRING, "created_at": TIME}
    ),
    "Event": obj(
        {
            "kind": {"type": "string", "examples": ["created", "routed", "dispatched", "accepted", "note"]},
            "at": TIME,
            "actor": nullable(STRING),
            "from_status": nullable(STATUS),
            "to_status": nullable(STATUS),
            "data": {"type": "object", "description": "What the event carries; depends on `kind`."},
        }
    ),
    # Attachments (issue 18 item 5): `url` streams the file (its thumbnail: `url` + "/thumbnail").
    "Attachment": obj(
        {
            "id": INTEGER,
            "kind": {"type": "string", "enum": ["photo", "before", "after", "document", "recording"]},
            "content_type": {"type": "string", "examples": ["image/jpeg", "application/pdf", "audio/wav"]},
            "size": COUNT,
            "created_at": TIME,
            "url": STRING,
        },
        required=("id", "kind", "content_type", "size", "created_at", "url"),
    ),
    # Contact with the citizen and callback (issue 17).
    "Contact": obj(
        {
            "outcome": {"type": "string", "enum": ["reached", "no_answer", "wrong_number", "text", "calling"]},
            "note": STRING,
            "by": nullable(STRING),
            "at": TIME,
            "purpose": {"type": "string", "enum": ["contact", "callback"]},
            "duration_seconds": nullable(COUNT),
            "rating": {"type": "string", "enum": ["satisfied", "basically_satisfied", "unsatisfied"]},
        },
        required=("outcome", "note", "by", "at", "purpose"),
        description="An attempt to reach the citizen; `duration_seconds` for a call through the hotline.",
    ),
    "Notification": obj(
        {
            "channel": STRING,
            "to": STRING,
            "status": {"type": "string", "enum": ["queued", "sending", "sent", "delivered", "failed", "held"]},
            "body": STRING,
            "created_at": TIME,
            "sent_at": nullable(TIME),
        }
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
