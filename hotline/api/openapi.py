"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every /api/v1 route, without auth.

Assembled with apispec from the tables below, the marshmallow schemas of each resource and the
few plain ones in `openapi_schemas`;
docs/api.md stays the prose reference. tests/api/test_openapi.py fails when a route
has no description here (or the other way round), and tests/api/test_api_fuzz.py
holds the API to it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from flask import Response
from marshmallow import Schema as MarshmallowSchema

from hotline.api.actions import API_ACTIONS
from hotline.api.areas import AREA, AREA_BODY, AREA_LIST, AREA_TICKETS
from hotline.api.attachment_publicity import ATTACHMENT_STATE, PUBLIC_BODY
from hotline.api.blueprint import bp
from hotline.api.calendar import CALENDAR_DAY, CALENDAR_DAY_INPUT, CALENDAR_YEAR
from hotline.api.contacts import CALLBACK_QUEUE, REVEAL_BODY
from hotline.api.deadlines import NOTICES
from hotline.api.directory import CATEGORIES, DEPARTMENTS, DISTRICTS
from hotline.api.duty import ROTA, SHIFT, SHIFT_INPUT
from hotline.api.geo import NEARBY, PLACES
from hotline.api.knowledge import ARTICLE, ARTICLE_PAGE
from hotline.api.merging import DUPLICATES
from hotline.api.openapi_schemas import (
    DATE,
    ID,
    SCHEMAS,
    STATUS,
    Schema,
    ref,
)
from hotline.api.policies import POLICIES, POLICY, POLICY_CHANGE, POLICY_INPUT
from hotline.api.reports import CALL_REPORT, MISROUTING, OVERDUE, RESPONSE_TIMES
from hotline.api.responses import json_response
from hotline.api.routing import DECISION, RETURN_REASONS, RULE, RULE_CHANGE, RULE_INPUT, RULE_TEST, RULES, SUGGESTIONS
from hotline.api.search import SEARCH_PAGE
from hotline.api.ticket_schemas import COMPONENTS, TICKET_INPUT
from hotline.api.tickets import VIEW_PAGE
from hotline.models import Role
from hotline.services.accounts import access
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR
from hotline.services.reporting.call_report import CALL_GROUPINGS
from hotline.services.reporting.reports import GROUPINGS, PERIODS

ANY = ()  # any user with a valid token
PUBLIC = None  # no token at all
DEPARTMENT = (Role.DEPARTMENT,)
ADMIN = (Role.ADMIN,)
SEES_ALL = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)

ERRORS = {
    400: "Bad input: a field or parameter missing, of the wrong type, unknown or refused (`field` names it).",
    401: "No token, or not a valid one.",
    403: "The user's role may not do this (or not to this ticket).",
    404: "No such resource, or one the user may not see.",
    409: "A stale `version`, or the ticket's state does not allow the action.",
    413: "The body is over 256 KiB.",
    415: "A body that is not application/json.",
}


def _param(
    name: str, where: str, schema: Schema, description: str = "", required: bool = False, example: Any = None
) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "schema": schema, "required": required or where == "path"}
    if description:
        param["description"] = description
    if example is not None:
        param["example"] = example
    return param


# The examples of docs/api.md, in the codes of its example city (potholes, east, roads, water).
BODY_EXAMPLES: dict[str, Any] = {
    "set_attachment_public": {"public": True},
    "create_ticket": {
        "caller_phone": "13800138000",
        "caller_name": "张三",
        "type": "complaint",
        "category": "potholes",
        "district": "east",
        "address": "东城区人民路 12 号",
        "description": "人民路路面有一个大坑，晚上很危险。",
        "channel": "phone",
    },
    "dispatch": {"department": "water", "assisting": ["roads"]},
    "accept": {},
    "resolve": {"resolution": "已更换破损水管，恢复供水。"},
    "return_to_dispatch": {"reason": "属于燃气公司管辖", "reason_code": "not_our_remit"},
    "add_note": {"text": "市民第二次来电催问"},
    "request_extension": {"days": 3, "reason": "需要协调施工单位"},
    "approve_extension": {"note": "同意延期"},
    "refuse_extension": {"reason": "请按期办结"},
    "urge": {"text": "市民第三次来电，请尽快处理"},
    "wait_on_citizen": {"reason": "请市民补充现场照片"},
    "resume": {},
    "approve_return": {"note": "同意退回"},
    "refuse_return": {"reason": "属于你单位职责，请继续办理"},
    "assist_done": {"reply": "已配合完成现场勘查。"},
    "merge": {"into": "20261125-000001"},
    # Units in a tree (issue 17)
    "subdispatch": {"department": "east-street-1", "due": "2026-12-07T17:00:00+08:00", "note": "请现场核实"},
    "return_up": {"reason": "不属于本街道辖区"},
    "review": {"approve": False, "reason": "答复未说明整改时限"},
    "assign": {"handler": "li.na"},
    "create_rule": {
        "priority": 10,
        "name": "供水管道",
        "category": "infrastructure",
        "keywords": ["水管", "漏水"],
        "urgency": "urgent",
        "department": "water",
        "assisting": ["roads"],
    },
    "update_rule": {"priority": 20, "active": False},
    "test_rules": {
        "sample": {"category": "potholes", "district": "east", "description": "小区里水管漏水"},
        "rules": [
            {"id": 1, "priority": 5, "keywords": ["路灯"], "department": "roads"},
            {"id": 2, "priority": 9, "keywords": ["漏水"], "department": "water"},
        ],
    },
    "create_policy": {
        "category": "infrastructure",
        "urgency": "normal",
        "accept_amount": 2,
        "accept_unit": "working_hours",
        "resolve_amount": 3,
        "resolve_unit": "working_days",
    },
    "update_policy": {"resolve_amount": 4, "max_extension_days": 5},
    "set_calendar_day": {"off": True, "name": "防汛停工"},
    "add_duty_shift": {
        "user": "dept-water",
        "starts_at": "2026-12-05T18:00:00+08:00",
        "ends_at": "2026-12-06T09:00:00+08:00",
    },
    "load_calendar_years": {"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]},
    "create_area": {"name": "人民路坑洼", "points": [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]},
}


NUMBER = _param("number", "path", {"type": "string"}, "The ticket's number, e.g. 20261125-000042.")
IF_MATCH = _param(
    "If-Match", "header", {"type": "string"}, 'The ticket\'s version, as `3`, `"3"` or `W/"3"`; `*`: any.'
)
PAGE = _param("page", "query", {"type": "integer", "minimum": 1}, "From 1; past the end: an empty list.")


def _per_page(default: str) -> dict[str, Any]:
    return _param("per_page", "query", {"type": "integer", "minimum": 1}, f"Default {default}; larger is capped.")


def _limit(default: int, cap: int) -> dict[str, Any]:
    return _param("limit", "query", {"type": "integer", "minimum": 1}, f"Default {default}, capped at {cap}.")


DATE_RANGE = [
    _param("from", "query", DATE, "First local date of creation; default 29 days before `to`."),
    _param("to", "query", DATE, "Last local date of creation, inclusive; default today. At most 366 days."),
]
# Response times read week and month rows: ten years, per week or month (per day or exact: 366 days).
LONG_DATE_RANGE = [
    DATE_RANGE[0],
    _param(
        "to",
        "query",
        DATE,
        "Last local date of creation, inclusive; default today. At most 3653 days (ten years);"
        " with period=day or exact=1, at most 366.",
    ),
]


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    operation_id: str,
    summary: str,
    roles: tuple[str, ...] | None,
    *,
    tag: str,
    ok: tuple[int, Schema | MarshmallowSchema | None] = (200, None),
    errors: tuple[int, ...] = (),
    params: list[dict[str, Any]] | None = None,
    body: Schema | MarshmallowSchema | None = None,
    body_required: bool = True,
    description: str = "",
    location: bool = False,
    also: tuple[int, Schema] | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    status, schema = ok
    who = "no token needed" if roles is None else ("any user" if not roles else ", ".join(roles))
    responses: dict[str, Any] = {str(status): {"description": "OK" if status < 300 else "Done"}}
    if schema is not None:
        responses[str(status)]["content"] = _json(schema)
    if location:
        headers = {**(headers or {}), "Location": {"schema": {"type": "string"}, "description": "Its URL."}}
    if headers:
        responses[str(status)]["headers"] = headers
    if also is not None:
        responses[str(also[0])] = {"description": "Accepted", "content": _json(also[1])}
    codes = set(errors)
    if roles is not None:
        codes.add(401)
    if roles:
        codes.add(403)
    if params or body is not None:
        codes.add(400)
    if any(p["in"] == "path" for p in params or ()):
        codes.add(404)  # an unknown id, or a value that makes the path match no route
    if body is not None:
        codes.update((413, 415))
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": (description + "\n\n" if description else "") + f"Roles: {who}.",
        "tags": [tag],
        "responses": responses,
        "security": [] if roles is None else [{"bearerAuth": []}],
    }
    if params:
        result["parameters"] = params
    if body is not None:
        content = _json(body)
        if operation_id in BODY_EXAMPLES:
            content["application/json"]["example"] = BODY_EXAMPLES[operation_id]
        result["requestBody"] = {"required": body_required, "content": content}
    return result


def _attachment_upload() -> dict[str, Any]:
    operation = _operation(
        "add_attachment",
        "Attach a photo, PDF document or recording to a ticket",
        ANY,
        tag="tickets",
        ok=(201, ref("Attachment")),
        errors=(400, 413, 415),
        params=[NUMBER],
        location=True,
        description="The type is read from the content, not the name; photos are re-encoded without EXIF."
        " At most HOTLINE_ATTACHMENT_MAX_BYTES (10 MB). Whoever may see the ticket may attach.",
    )
    form = {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": ["photo", "before", "after", "document", "recording"]},
        "public": {"type": "boolean", "description": "Photos only: shown to the public (Open311 media_url)."},
    }
    schema = {"type": "object", "properties": form, "required": ["file"]}
    operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    return operation


def _attachment_file(operation_id: str, summary: str) -> dict[str, Any]:
    attachment_id = _param("attachment_id", "path", {"type": "integer"}, "The attachment's id.")
    operation = _operation(operation_id, summary, ANY, tag="tickets", params=[NUMBER, attachment_id])
    operation["responses"]["200"]["content"] = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    return operation


def _attachment_publicity() -> dict[str, Any]:
    attachment_id = _param("attachment_id", "path", {"type": "integer"}, "The attachment's id.")
    return _operation(
        "set_attachment_public",
        "Mark a ticket's photo public (Open311 media_url, the public board) or not",
        ANY,
        tag="tickets",
        ok=(200, ATTACHMENT_STATE),
        errors=(403,),
        params=[NUMBER, attachment_id],
        body=PUBLIC_BODY,
        description="Photos only (400 for a document or a recording). The staff of the unit holding the"
        " ticket, dispatchers, supervisors and admins (403 for others who may see it); the timeline"
        " records it. The photo shown is the one kept: re-encoded without EXIF when it was attached.",
    )


def _paths() -> dict[str, dict[str, dict[str, Any]]]:
    paths: dict[str, dict[str, dict[str, Any]]] = {
        "/api/v1/ping": {
            "get": _operation(
                "ping", "Liveness: touches neither database nor Redis", PUBLIC, tag="meta", ok=(200, ref("Ping"))
            )
        },
        "/api/v1/openapi.json": {
            "get": _operation("openapi", "This description", PUBLIC, tag="meta", ok=(200, {"type": "object"}))
        },
        "/api/v1/tickets": {
            "post": _operation(
                "create_ticket",
                "Log a call as a ticket",
                access.INTAKE_ROLES,
                tag="tickets",
                ok=(201, ref("NewTicket")),
                body=TICKET_INPUT,
                location=True,
            ),
            "get": _operation(
                "list_tickets",
                "List the visible tickets, newest first, paged",
                ANY,
                tag="tickets",
                ok=(200, ref("TicketPage")),
                errors=(403,),  # department staff filtering by caller
                params=[
                    _param(
                        "status",
                        "query",
                        {"type": "array", "items": STATUS},
                        "One or several (repeated or comma-separated).",
                    ),
                    _param("department", "query", {"type": "string"}, "The code of the department holding it."),
                    _param(
                        "caller_phone", "query", {"type": "string"}, "The caller's tickets; not for department staff."
                    ),
                    PAGE,
                    _per_page("HOTLINE_API_PAGE_SIZE (50), at most 100"),
                ],
            ),
        },
        # geo (issue 18): tickets near a point, the gazetteer
        "/api/v1/tickets/nearby": {
            "get": _operation(
                "nearby_tickets",
                "Open tickets near a point that the caller may see, same category first, then nearest",
                ANY,
                tag="tickets",
                ok=(200, NEARBY),
                params=[
                    _param("lat", "query", {"type": "number", "minimum": -90, "maximum": 90}, "WGS84.", True),
                    _param("long", "query", {"type": "number", "minimum": -180, "maximum": 180}, "WGS84.", True),
                    _param("radius_m", "query", {"type": "integer", "minimum": 1}, "Metres: 100, at most 2,000."),
                    _param("category", "query", {"type": "string"}, "A category code: its tickets come first."),
                ],
            )
        },
        "/api/v1/places": {
            "get": _operation(
                "search_places",
                "The gazetteer's places whose name holds q, those starting with it first",
                ANY,
                tag="tickets",
                ok=(200, PLACES),
                params=[_param("q", "query", {"type": "string"}, "Part of the name."), _limit(10, 50)],
            )
        },
        "/api/v1/tickets/{number}": {
            "get": _operation(
                "get_ticket", "One ticket with its events", ANY, tag="tickets", ok=(200, ref("Ticket")), params=[NUMBER]
            )
        },
        # Attachments (issue 18 item 5)
        "/api/v1/tickets/{number}/attachments": {"post": _attachment_upload()},
        "/api/v1/tickets/{number}/attachments/{attachment_id}": {
            "get": _attachment_file("get_attachment", "An attachment's file, streamed"),
            "patch": _attachment_publicity(),
        },
        "/api/v1/tickets/{number}/attachments/{attachment_id}/thumbnail": {
            "get": _attachment_file("get_attachment_thumbnail", "A photo's thumbnail (at most 320 px); else the file")
        },
        "/api/v1/tickets/{number}/views": {
            "get": _operation(
                "ticket_views",
                "Who viewed the ticket's personal data, newest first",
                access.AUDIT_ROLES,
                tag="tickets",
                ok=(200, VIEW_PAGE),
                params=[NUMBER, PAGE, _per_page("100, at most 500")],
            )
        },
        "/api/v1/tickets/{number}/duplicates": {
            "get": _operation(
                "duplicates",
                "Likely duplicates of a ticket, most likely first",
                SEES_ALL,
                tag="routing",
                ok=(200, DUPLICATES),
                params=[NUMBER, _limit(10, 50)],
            )
        },
        "/api/v1/tickets/{number}/suggestions": {
            "get": _operation(
                "ticket_suggestions",
                "The departments a trained model suggests",
                access.DISPATCH_ROLES,
                tag="routing",
                ok=(200, SUGGESTIONS),
                params=[NUMBER, _limit(3, 10)],
            )
        },
        "/api/v1/notices": {
            "get": _operation(
                "list_notices",
                "The current user's notices, newest first",
                ANY,
                tag="deadlines",
                ok=(200, NOTICES),
            )
        },
        "/api/v1/return-reasons": {
            "get": _operation(
                "list_return_reasons",
                "The reasons a department may give for a return",
                ANY,
                tag="routing",
                ok=(200, RETURN_REASONS),
            )
        },
        "/api/v1/routing-rules": {
            "get": _operation(
                "list_rules",
                "The routing rules, in the order they are tried",
                access.DISPATCH_ROLES,
                tag="routing",
                ok=(200, RULES),
            ),
            "post": _operation(
                "create_rule",
                "Add a routing rule",
                ADMIN,
                tag="routing",
                ok=(201, RULE),
                body=RULE_INPUT,
                location=True,
            ),
        },
        "/api/v1/routing-rules/test": {
            "post": _operation(
                "test_rules",
                "Which department would get a sample, and why",
                access.DISPATCH_ROLES,
                tag="routing",
                ok=(200, DECISION),
                body=RULE_TEST,
            )
        },
        "/api/v1/routing-rules/{rule_id}": {
            "get": _operation(
                "get_rule",
                "One routing rule",
                access.DISPATCH_ROLES,
                tag="routing",
                ok=(200, RULE),
                params=[_id("rule_id")],
            ),
            "put": _operation(
                "update_rule",
                "Change the fields given of a routing rule",
                ADMIN,
                tag="routing",
                ok=(200, RULE),
                params=[_id("rule_id")],
                body=RULE_CHANGE,
            ),
            "delete": _operation(
                "delete_rule", "Delete a routing rule", ADMIN, tag="routing", ok=(204, None), params=[_id("rule_id")]
            ),
        },
        "/api/v1/calendar/{year}": {
            "get": _operation(
                "calendar_year",
                "The holiday calendar's exceptions in a year",
                ANY,
                tag="calendar",
                ok=(200, CALENDAR_YEAR),
                params=[_param("year", "path", {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR})],
            )
        },
        "/api/v1/calendar/days/{day}": {
            "put": _operation(
                "set_calendar_day",
                "Correct one day of the calendar",
                ADMIN,
                tag="calendar",
                ok=(200, CALENDAR_DAY),
                params=[
                    _param("day", "path", DATE, f"YYYY-MM-DD, from {FIRST_YEAR} to {LAST_YEAR}.", example="2026-12-31")
                ],
                body=CALENDAR_DAY_INPUT,
            )
        },
        "/api/v1/calendar/years": {
            "post": _operation(
                "load_calendar_years",
                "Load years' holiday lists (holiday-cn JSON); each year given replaces its exceptions",
                ADMIN,
                tag="calendar",
                ok=(200, ref("HolidayCounts")),
                body=ref("HolidayFile"),
            )
        },
        "/api/v1/sla-policies": {
            "get": _operation("list_policies", "The SLA policies", ANY, tag="policies", ok=(200, POLICIES)),
            "post": _operation(
                "create_policy",
                "Add an SLA policy",
                ADMIN,
                tag="policies",
                ok=(201, POLICY),
                errors=(409,),
                body=POLICY_INPUT,
            ),
        },
        "/api/v1/sla-policies/{policy_id}": {
            "put": _operation(
                "update_policy",
                "Change the fields given of an SLA policy",
                ADMIN,
                tag="policies",
                ok=(200, POLICY),
                errors=(409,),
                params=[_id("policy_id")],
                body=POLICY_CHANGE,
            ),
            "delete": _operation(
                "delete_policy",
                "Delete an SLA policy",
                ADMIN,
                tag="policies",
                ok=(204, None),
                params=[_id("policy_id")],
            ),
        },
        "/api/v1/departments": {
            "get": _operation(
                "list_departments", "The departments, by code", ANY, tag="directory", ok=(200, DEPARTMENTS)
            )
        },
        "/api/v1/districts": {
            "get": _operation("list_districts", "The districts, by code", ANY, tag="directory", ok=(200, DISTRICTS))
        },
        "/api/v1/categories": {
            "get": _operation(
                "list_categories", "The category tree, by code", ANY, tag="directory", ok=(200, CATEGORIES)
            )
        },
        "/api/v1/reports/response-times": {
            "get": _operation(
                "response_times_report",
                "Received, resolved, open and overdue tickets, the three clocks and the rates, per group",
                access.REPORT_ROLES,
                tag="reports",
                ok=(200, RESPONSE_TIMES),
                params=[
                    *LONG_DATE_RANGE,
                    _param("group_by", "query", {"type": "string", "enum": ["all", *GROUPINGS]}, "Default department."),
                    _param(
                        "period", "query", {"type": "string", "enum": list(PERIODS)}, "One row per period and group."
                    ),
                    _param(
                        "exact", "query", {"type": "string", "enum": ["0", "1", "true", "false"]}, "Read the tickets."
                    ),
                    _param(
                        "level",
                        "query",
                        {"type": "string", "enum": ["all", *(str(n) for n in range(1, 10))]},
                        "With group_by=category: only the categories down to this level of the tree.",
                    ),
                    PAGE,
                    _per_page("1000, at most 5000"),
                ],
                headers={
                    "X-Total-Count": {"schema": {"type": "string"}, "description": "Rows in all pages."},
                    "Link": {"schema": {"type": "string"}, "description": 'The next and previous pages (rel="next").'},
                },
            )
        },
        "/api/v1/reports/misrouting": {
            "get": _operation(
                "misrouting_report",
                "Returns and reassignments per routing rule and per category",
                access.REPORT_ROLES,
                tag="reports",
                ok=(200, MISROUTING),
                params=DATE_RANGE,
            )
        },
        # Units in a tree (issue 17)
        "/api/v1/reports/units": {
            "get": _operation(
                "units_report",
                "Per unit: sent down to it, returned up, replies sent up and refused; a unit lead's own unit by handler",
                (*access.REPORT_ROLES, *DEPARTMENT),
                tag="reports",
                ok=(200, {"type": "array", "items": {"type": "object"}}),
                errors=(400, 403),
                params=[
                    *DATE_RANGE,
                    _param("unit", "query", {"type": "string"}, "A unit's code: it and those below it"),
                ],
            )
        },
        "/api/v1/reports/overdue": {
            "get": _operation(
                "overdue_report",
                "Tickets overdue now, whenever logged (the dashboard's figure, the overdue list's count)",
                access.REPORT_ROLES,
                tag="reports",
                ok=(200, OVERDUE),
            )
        },
        "/api/v1/reports/calls": {
            "get": _operation(
                "calls_report",
                "The phone line's figures: offered, answered (within 15 s), abandoned, waits, call-backs",
                access.REPORT_ROLES,
                tag="reports",
                ok=(200, CALL_REPORT),
                params=[
                    *DATE_RANGE,
                    _param(
                        "group_by",
                        "query",
                        {"type": "string", "enum": list(CALL_GROUPINGS)},
                        "Per local hour or day (those with calls), per answering operator, or all (the default).",
                    ),
                ],
            )
        },
        "/api/v1/search/tickets": {
            "get": _operation(
                "search_tickets",
                "Tickets by their words, best first, within the user's rights",
                ANY,
                tag="search",
                ok=(200, SEARCH_PAGE),
                params=[
                    _param(
                        "q", "query", {"type": "string", "minLength": 1, "maxLength": 200}, "Words, all required.", True
                    ),
                    _param("status", "query", {"type": "array", "items": STATUS}),
                    _param("category", "query", {"type": "string"}, "Its subcategories too."),
                    _param("department", "query", {"type": "string"}),
                    _param("district", "query", {"type": "string"}),
                    *DATE_RANGE,
                    PAGE,
                    _per_page("20, at most 100"),
                ],
            )
        },
        "/api/v1/knowledge/articles": {
            "get": _operation(
                "list_articles",
                "Approved articles in force; with `q`, the best matches first",
                ANY,
                tag="knowledge",
                ok=(200, ARTICLE_PAGE),
                params=[
                    _param("q", "query", {"type": "string", "maxLength": 2000}, example="停水"),
                    _param("category", "query", {"type": "string"}, "Articles filed under it or below."),
                    PAGE,
                    _per_page("HOTLINE_API_PAGE_SIZE (50), at most 100"),
                ],
            )
        },
        "/api/v1/knowledge/articles/{article_id}": {
            "get": _operation(
                "get_article",
                "One approved article (an expired one says in_force false)",
                ANY,
                tag="knowledge",
                ok=(200, ARTICLE),
                params=[_id("article_id")],
            )
        },
    }
    paths.update(_duty_paths())  # duty rota (值班, issue 17 item 4)
    paths.update(_area_paths())  # hotspot areas (issue 18 item 4)
    for row in API_ACTIONS.values():
        paths[f"/api/v1/tickets/{{number}}/{row.tail}"] = {
            "post": _operation(
                row.endpoint,
                row.summary,
                row.roles,
                tag=row.tag,
                ok=(200, ref("Ticket")),
                errors=(409,),
                params=[NUMBER, IF_MATCH] if row.versioned else [NUMBER],
                body=row.body,
                body_required=row.body_required,
                also=(202, ref("Ticket")) if row.accepted is not None else None,
                description=row.description,
            )
        }
    paths["/api/v1/tickets/{number}/reveal-phone"] = {  # issue 17: contact with the citizen
        "post": _operation(
            "reveal_phone",
            "Show the citizen's number, with the reason logged",
            (Role.DEPARTMENT,),
            tag="lifecycle",
            ok=(200, ref("Ticket")),
            errors=(409,),
            params=[NUMBER, IF_MATCH],
            body=REVEAL_BODY,
            body_required=True,
        )
    }
    paths["/api/v1/callbacks"] = {
        "get": _operation(
            "callback_queue",
            "Resolved tickets to call back (回访), oldest answer first",
            access.CALLBACK_ROLES,
            tag="lifecycle",
            ok=(200, CALLBACK_QUEUE),
        )
    }
    return paths


def _id(name: str) -> dict[str, Any]:
    return _param(name, "path", ID)


def _components(spec: APISpec) -> None:
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, (output, description) in COMPONENTS.items():  # the ticket's (ticket_schemas.py)
        spec.components.schema(name, {"description": description} if description else None, schema=output)
    spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A per-user token: `flask users token NAME`."},
    )
    error = _json(ref("Error"))
    for code, description in ERRORS.items():
        response: dict[str, Any] = {"description": description, "content": error}
        if code == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        spec.components.response(str(code), response)


def _component_name(schema: type[MarshmallowSchema] | MarshmallowSchema) -> str | None:
    """The class name less `Schema`; None (written where it is used) for a schema marked `INLINE`."""
    kind = schema if isinstance(schema, type) else type(schema)
    return None if getattr(kind, "INLINE", False) else resolver(kind)


@cache
def document() -> dict[str, Any]:
    spec = APISpec(
        title="Hotline API",
        version="1",
        openapi_version="3.1.0",
        info={
            "description": "The JSON API of Hotline, the city's 12345/311 ticketing system; "
            'docs/api.md is the reference in prose. Errors are `{"error", "detail", "field"}`.'
        },
        security=[{"bearerAuth": []}],
        plugins=[MarshmallowPlugin(schema_name_resolver=_component_name)],
    )
    _components(spec)
    for path, operations in _paths().items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(document())


# -- duty rota (值班, issue 17 item 4) ----------------------------------------------------------


def _duty_paths() -> dict[str, dict[str, dict[str, Any]]]:
    code = _param("code", "path", {"type": "string"}, "The unit's code.", example="roads")
    who = "the unit's lead or an administrator changes it; supervisors, administrators and the unit's staff read it"
    return {
        "/api/v1/departments/{code}/duty-shifts": {
            "get": _operation(
                "duty_shifts",
                "A unit's dated duty shifts and who is on duty now",
                ANY,
                tag="duty",
                ok=(200, ROTA),
                params=[
                    code,
                    _param(
                        "from", "query", {"type": "string"}, "Shifts that end after this ISO time; default 7 days ago."
                    ),
                    _param("to", "query", {"type": "string"}, "Shifts that start before this ISO time."),
                ],
                errors=(403,),  # the rota's own rule, beyond the role
                description=who,
            ),
            "post": _operation(
                "add_duty_shift",
                "Add a dated shift (it overrides the weekly pattern); one person's shifts may not overlap",
                ANY,
                tag="duty",
                ok=(201, SHIFT),
                params=[code],
                body=SHIFT_INPUT,
                errors=(403,),  # the rota's own rule, beyond the role
                description=who,
            ),
        },
        "/api/v1/departments/{code}/duty-shifts/{shift_id}": {
            "delete": _operation(
                "delete_duty_shift",
                "Remove a dated shift",
                ANY,
                tag="duty",
                ok=(204, None),
                params=[code, _id("shift_id")],
                errors=(403,),  # the rota's own rule, beyond the role
                description=who,
            )
        },
    }


# -- hotspot areas (issue 18 item 4) -------------------------------------------------------------


def _area_paths() -> dict[str, dict[str, dict[str, Any]]]:
    area_id = _param("area_id", "path", ID, "The area's id.")
    code = {"type": "string"}
    return {
        "/api/v1/areas": {
            "get": _operation(
                "list_areas", "The hotspot areas drawn", access.SUPERVISE_ROLES, tag="areas", ok=(200, AREA_LIST)
            ),
            "post": _operation(
                "create_area",
                "Save a hotspot area: a named polygon inside the city",
                access.SUPERVISE_ROLES,
                tag="areas",
                ok=(201, AREA),
                body=AREA_BODY,
                location=True,
            ),
        },
        "/api/v1/areas/{area_id}/tickets": {
            "get": _operation(
                "area_tickets",
                "The tickets inside an area that the caller may see, counted, the newest listed",
                access.SUPERVISE_ROLES,
                tag="areas",
                ok=(200, AREA_TICKETS),
                params=[
                    area_id,
                    _param("department", "query", code, "A department's code."),
                    _param("category", "query", code, "A category's code."),
                    _param("district", "query", code, "A district's code."),
                    _param(
                        "scope", "query", {"type": "string", "enum": ["open", "all"]}, "Open tickets (default) or all."
                    ),
                ],
            )
        },
        "/api/v1/areas/{area_id}": {
            "delete": _operation(
                "delete_area",
                "Delete a hotspot area",
                access.SUPERVISE_ROLES,
                tag="areas",
                ok=(204, None),
                params=[area_id],
            )
        },
    }
