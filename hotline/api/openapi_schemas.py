"""The component schemas of the OpenAPI description: what each serializer writes and each view reads.

JSON Schema as OpenAPI 3.1 has it. Response objects refuse properties they do not list
(`additionalProperties: false`), so a field added to a serializer without a line here
fails tests/api/test_api_fuzz.py; request bodies refuse them too, as `parsing.json_body` does.
`null` is accepted wherever the API treats it as "not given".
"""

from __future__ import annotations

from typing import Any

from hotline.bounds import MAX_ID
from hotline.models import TICKET_TYPES, URGENCIES, Channel, Role, Status
from hotline.models.audit import ViewChannel, ViewKind
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR
from hotline.services.reporting.call_report import CALL_GROUPINGS
from hotline.services.reporting.reports import GROUPINGS
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
TEXT: Schema = {"type": "string", "description": "Not blank."}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, to the second."}
DATE: Schema = {"type": "string", "format": "date"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
CODES: Schema = {"type": "array", "items": STRING}
VERSION: Schema = nullable(
    {"type": "integer", "minimum": 1, "description": "The ticket's version the client saw (or If-Match)."}
)
STATUS: Schema = {"type": "string", "enum": list(Status.ALL)}
TICKET_TYPE: Schema = {"type": "string", "enum": list(TICKET_TYPES)}
URGENCY: Schema = {"type": "string", "enum": list(URGENCIES)}
RATE: Schema = nullable({"type": "number", "minimum": 0, "maximum": 1})


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
    "CallbackQueue": obj(
        {
            "tickets": {
                "type": "array",
                "items": obj(
                    {
                        "number": STRING,
                        "type": TICKET_TYPE,
                        "category": STRING,
                        "department": nullable(STRING),
                        "resolved_at": nullable(TIME),
                        "version": {"type": "integer", "minimum": 1},
                    }
                ),
            }
        }
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
    "Duplicate": obj(
        {
            "number": STRING,
            "status": STATUS,
            "reasons": {
                "type": "array",
                "items": {"type": "string", "enum": ["same_phone", "same_place", "similar_text"]},
            },
            "similarity": {"type": "number", "minimum": 0, "maximum": 1},
            "created_at": TIME,
        }
    ),
    "Suggestion": obj({"department": STRING, "confidence": {"type": "number", "minimum": 0, "maximum": 1}}),
    "View": obj(
        {
            "user": STRING,
            "name": STRING,
            "role": {"type": "string", "enum": list(Role.ALL)},
            "department": nullable(STRING),
            "at": TIME,
            "what": {"type": "string", "enum": list(ViewKind.ALL)},
            "via": {"type": "string", "enum": list(ViewChannel.ALL)},
            "remote_addr": nullable(STRING),
        }
    ),
    "ViewPage": obj(
        {
            "ticket": STRING,
            "views": {"type": "array", "items": ref("View")},
            "page": ID,
            "per_page": ID,
            "total": COUNT,
            "pages": COUNT,
        }
    ),
    "SearchHit": obj(
        {
            "number": STRING,
            "status": STATUS,
            "category": STRING,
            "department": nullable(STRING),
            "parent": nullable(STRING),
            "created_at": TIME,
            "snippet": nullable(STRING),
            "snippet_html": nullable(STRING),
            "score": NUMBER,
        }
    ),
    "SearchPage": page_of("tickets", ref("SearchHit"), total_is_lower_bound=BOOLEAN),
    # --- the directory and the catalogue ------------------------------------------------------
    "RoutingRule": obj(
        {
            "id": ID,
            "priority": INTEGER,
            "name": STRING,
            "category": nullable(STRING),
            "district": nullable(STRING),
            "type": nullable(TICKET_TYPE),
            "urgency": nullable(URGENCY),
            "keywords": CODES,
            "department": STRING,
            "assisting": CODES,
            "active": BOOLEAN,
            "place_unit": nullable(
                {**STRING, "description": "The unit (code) handling the gazetteer place at the ticket's point."}
            ),
        }
    ),
    "RoutingTrace": obj(
        {
            "rule": nullable(INTEGER),
            "priority": INTEGER,
            "matched": BOOLEAN,
            "failed": nullable(
                {"type": "string", "enum": ["category", "district", "type", "urgency", "keywords", "place_unit"]}
            ),
        }
    ),
    "RoutingDecision": obj(
        {
            "by": {"type": "string", "enum": ["rule", "category_default", "suggestion", "none"]},
            "department": nullable(STRING),
            "assisting": CODES,
            "rule": nullable(obj({"id": nullable(INTEGER), "priority": INTEGER, "name": STRING})),
            "confidence": RATE,
            "reason": STRING,
            "trace": {"type": "array", "items": ref("RoutingTrace")},
        }
    ),
    "SlaPolicy": obj(
        {
            "id": ID,
            "category": nullable(STRING),
            "urgency": URGENCY,
            "accept_amount": INTEGER,
            "accept_unit": {"type": "string", "enum": list(ACCEPT_UNITS)},
            "resolve_amount": INTEGER,
            "resolve_unit": {"type": "string", "enum": list(RESOLVE_UNITS)},
            "return_window_days": INTEGER,
            "max_extension_days": INTEGER,
            # First contact (issue 17): null, the urgency's default (2 working hours; urgent 30 minutes).
            "contact_amount": nullable(INTEGER),
            "contact_unit": nullable({"type": "string", "enum": list(ACCEPT_UNITS)}),
        }
    ),
    "CalendarDay": obj({"date": DATE, "off": BOOLEAN, "name": STRING, "source": nullable(STRING)}),
    "CalendarYear": obj(
        {
            "year": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
            "known": BOOLEAN,
            "days": {"type": "array", "items": ref("CalendarDay")},
        }
    ),
    "Article": obj(
        {
            "id": ID,
            "question": STRING,
            "answer": STRING,
            "category": STRING,
            "department": STRING,
            "tags": CODES,
            "version": ID,
            "valid_from": nullable(DATE),
            "valid_until": nullable(DATE),
            "validity": {"type": "string", "enum": ["in_force", "expired", "not_yet_valid"]},
            "in_force": BOOLEAN,
            "status": {"type": "string", "enum": ["active", "retired"]},
            "approved_at": nullable(TIME),
            "use_count": COUNT,
            "last_used_at": nullable(TIME),
            "matched": {"type": "array", "items": STRING, "description": "With `q`: the words it matched."},
            "score": {"type": "number", "description": "With `q`: the rank, higher is better."},
        },
        required=(
            "id",
            "question",
            "answer",
            "category",
            "department",
            "tags",
            "version",
            "valid_from",
            "valid_until",
            "validity",
            "in_force",
            "status",
            "approved_at",
            "use_count",
            "last_used_at",
        ),
    ),
    "ArticlePage": page_of("articles", ref("Article")),
    # --- reports ------------------------------------------------------------------------------
    "ResponseTimeRow": obj(
        {
            "group_by": {"type": "string", "enum": ["all", *GROUPINGS]},
            "key": {"type": "string", "description": "The group's code; empty where tickets have none."},
            "name": STRING,
            "period": nullable(DATE),
            "tickets": COUNT,
            "received": COUNT,
            "dispatched": COUNT,
            "accepted": COUNT,
            "resolved": COUNT,
            "open": COUNT,
            "overdue_open": nullable(COUNT),
            "direct_answers": COUNT,
            "returned": COUNT,
            "reopened": COUNT,
            "rated": COUNT,
            "accepted_late": COUNT,
            "resolved_late": COUNT,
            "unsatisfied": COUNT,
            **{
                f"{clock}_{measure}_{unit}": nullable(NUMBER)
                for clock, unit in (("dispatch", "minutes"), ("accept", "minutes"), ("resolve", "hours"))
                for measure in ("p50", "p90", "mean")
            },
            **{
                rate: RATE
                for rate in (
                    "response_rate",
                    "resolution_rate",
                    "resolved_on_time_rate",
                    "satisfaction_rate",
                    "direct_answer_rate",
                    "return_rate",
                    "reopen_rate",
                    "contacted_on_time_rate",  # issue 17
                )
            },
            "first_contact_p50_hours": nullable(NUMBER),  # issue 17
            "first_contact_p90_hours": nullable(NUMBER),
            "approximate": BOOLEAN,
            # The first version's names for the group: `department` and `department_name`, etc.
            **{name: nullable(STRING) for grouping in GROUPINGS for name in (grouping, f"{grouping}_name")},
        },
        required=("group_by", "key", "name", "period", "tickets", "received", "approximate"),
    ),
    "CallReportRow": obj(
        {
            "group_by": {"type": "string", "enum": list(CALL_GROUPINGS)},
            "key": {
                "type": "string",
                "description": "The local hour (2026-11-25T10:00) or day, or the operator's user name; "
                "empty for all, and for calls no operator answered.",
            },
            "name": STRING,
            **{
                name: COUNT
                for name in (
                    "offered",
                    "answered",
                    "answered_within_15s",
                    "abandoned",
                    "voicemail",
                    "out_of_hours",
                    "missed",
                    "missed_called_back",
                )
            },
            "answer_rate": RATE,
            "answer_within_15s_rate": RATE,
            **{
                name: nullable({"type": "number", "minimum": 0})
                for name in ("wait_p50_seconds", "wait_p90_seconds", "talk_mean_seconds", "callback_p50_seconds")
            },
        }
    ),
    "MisroutingRow": obj(
        {
            "key": {"type": "string", "examples": ["rule:7", "category_default", "potholes"]},
            "label": STRING,
            "routed": COUNT,
            "returned": COUNT,
            "reassigned": COUNT,
            "ping_pong": {**COUNT, "description": "Dispatches back to a department that had returned the ticket."},
            "misrouting_rate": RATE,
        }
    ),
    "OverdueNow": obj(
        {
            "overdue_now": COUNT,
            "imported": COUNT,
            "at": TIME,
        }
    ),
    "MisroutingReport": obj(
        {
            "rules": {"type": "array", "items": ref("MisroutingRow")},
            "categories": {"type": "array", "items": ref("MisroutingRow")},
        }
    ),
}

# --- request bodies ---------------------------------------------------------------------------


def optional(schema: Schema) -> Schema:
    """An optional field: null counts as not given."""
    return nullable(schema)


RULE_INPUT_FIELDS: dict[str, Schema] = {
    "id": optional({**ID, "description": "Ignored by POST; by PUT it must be the rule's own."}),
    "priority": optional({"type": "integer", "minimum": -1_000_000, "maximum": 1_000_000, "default": 100}),
    "name": optional(STRING),
    "category": optional(STRING),
    "district": optional(STRING),
    "type": optional(TICKET_TYPE),
    "urgency": optional(URGENCY),
    "keywords": optional(CODES),
    "department": optional(STRING),
    "assisting": optional(CODES),
    "active": optional(BOOLEAN),
    "place_unit": optional(STRING),
}
POLICY_INPUT_FIELDS: dict[str, Schema] = {
    "category": nullable(STRING),
    "urgency": URGENCY,
    "accept_amount": {"type": "integer", "minimum": 1, "maximum": 7 * 24 * 60},
    "accept_unit": {"type": "string", "enum": list(ACCEPT_UNITS)},
    "resolve_amount": {"type": "integer", "minimum": 1, "maximum": 366 * 24},
    "resolve_unit": {"type": "string", "enum": list(RESOLVE_UNITS)},
    "return_window_days": {"type": "integer", "minimum": 1, "maximum": 30},
    "max_extension_days": {"type": "integer", "minimum": 0, "maximum": 250},
    "contact_amount": optional({"type": "integer", "minimum": 1, "maximum": 7 * 24 * 60}),  # issue 17
    "contact_unit": optional({"type": "string", "enum": list(ACCEPT_UNITS)}),
}

SCHEMAS.update(
    {
        "RoutingRuleInput": obj(RULE_INPUT_FIELDS, required=("department",)),
        "RoutingRuleChange": obj(RULE_INPUT_FIELDS, required=()),
        "RoutingSample": obj(
            {
                "category": STRING,
                "district": optional(STRING),
                "type": optional(TICKET_TYPE),
                "urgency": optional(URGENCY),
                "description": optional(STRING),
            },
            required=("category",),
        ),
        "RoutingTest": obj(
            {
                "sample": ref("RoutingSample"),
                "rules": optional({"type": "array", "items": ref("RoutingRuleInput")}),
            },
            required=("sample",),
        ),
        "SlaPolicyInput": obj(
            POLICY_INPUT_FIELDS, required=("urgency", "accept_amount", "accept_unit", "resolve_amount", "resolve_unit")
        ),
        "SlaPolicyChange": obj(POLICY_INPUT_FIELDS, required=()),
        "CalendarDayInput": obj(
            {
                "off": nullable(
                    {"type": "boolean", "description": "true: a day off; false: worked; null: no exception."}
                ),
                "name": optional(STRING),
            },
            required=("off",),
        ),
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

# -- duty rota (值班, issue 17 item 4) ------------------------------------------------------------
SCHEMAS.update(
    {
        "DutyShift": obj(
            {"id": ID, "department": nullable(STRING), "user": STRING, "starts_at": TIME, "ends_at": TIME}
        ),
        "DutyRota": obj(
            {
                "department": STRING,
                "on_duty_now": nullable(STRING),
                "shifts": {"type": "array", "items": ref("DutyShift")},
            }
        ),
        "DutyShiftInput": obj(
            {
                "user": STRING,
                "starts_at": {"type": "string", "description": "ISO 8601; without an offset: the hotline's time zone."},
                "ends_at": {"type": "string", "description": "After starts_at, at most 7 days later."},
                "phone": optional(
                    {"type": "string", "description": "The person's duty phone; needed once, kept for the next shifts."}
                ),
            },
            required=("user", "starts_at", "ends_at"),
        ),
    }
)

# --- geo (issue 18): tickets near a point, the gazetteer ---------------------------------------
LATITUDE: Schema = {"type": "number", "minimum": -90, "maximum": 90}
LONGITUDE: Schema = {"type": "number", "minimum": -180, "maximum": 180}
SCHEMAS.update(
    {
        "NearbyTicket": obj(
            {
                "number": STRING,
                "status": STATUS,
                "category": STRING,
                "district": nullable(STRING),
                "address": STRING,
                "description": STRING,
                "lat": LATITUDE,
                "long": LONGITUDE,
                "created_at": TIME,
                "distance_m": {"type": "number", "minimum": 0},
                "same_category": BOOLEAN,
            }
        ),
        "Nearby": obj(
            {
                "lat": LATITUDE,
                "long": LONGITUDE,
                "radius_m": {"type": "integer", "minimum": 1},
                "tickets": {"type": "array", "items": ref("NearbyTicket")},
            }
        ),
        "Place": obj(
            {
                "id": ID,
                "name": STRING,
                "kind": {"type": "string", "enum": ["road", "community", "landmark"]},
                "lat": LATITUDE,
                "long": LONGITUDE,
                "district": nullable(STRING),
                "district_name": nullable(STRING),
                "department": nullable(STRING),
            }
        ),
        "Places": obj({"places": {"type": "array", "items": ref("Place")}}),
    }
)
