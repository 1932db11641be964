"""The authorisation matrix (issue #8): every route of the app and the API, called anonymously
and by every role, gets exactly the answer its role allows.

`MATRIX` has one row per endpoint and method of `app.url_map` (HEAD and OPTIONS are implicit);
`test_every_route_has_a_row` fails for a route without a row (and for a row without a route),
so a new route cannot ship without a rule.

The callers: anonymous, operator, dispatcher, roads (department staff of the roads department,
which holds the test's tickets and articles), water (department staff of another department),
supervisor, admin. The answers, per caller:
  - allowed: past every authorisation check, never a 5xx, and really done: each row sets the
    state up so that the call succeeds (a dispatched ticket to accept, an extension request to
    approve; `fresh` rows get a new one per allowed caller), so a 4xx or a "danger" flash on a
    page (a refusal on state or input) fails the row too. A 302 elsewhere than /login (a page's
    redirect after a form) is allowed.
  - anonymous, not allowed: pages redirect to /login, the API answers 401; Open311 filing
    and the Twilio webhooks answer 403 (no session to log into).
  - `hidden`: 404, where the app hides the object on purpose (another department's ticket,
    a draft article of another department): no probing of numbers.
  - any other role: 403. Ticket and article actions on the pages refuse by a flashed message
    and a redirect back (the services raise PermissionDenied): that counts as 403 here, as it
    is recorded when the service raises it.

Pages are called with a real session (POST /login); CSRF is off in TestingConfig (as in all
the page tests), so the role checks are what answers.

Two smaller tables follow: `CONFIDENTIAL` (the ticket routes on a confidential ticket, 保密件,
hidden from those access.py keeps it from) and `LISTS` (lists and searches list only the
tickets the caller may see). The objects the rows name are built by tests/authz_world.py.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from hotline.extensions import db
from hotline.models import Role
from hotline.services import errors
from hotline.services.accounts.users import issue_token
from tests import attachment_files, factories
from tests.authz_world import World

ANON = "anonymous"
OPERATOR = "operator"
DISPATCHER = "dispatcher"
ROADS = "roads"  # department staff of the department holding the test's tickets
WATER = "water"  # department staff of another department
SUPERVISOR = "supervisor"
ADMIN = "admin"
USERS = (OPERATOR, DISPATCHER, ROADS, WATER, SUPERVISOR, ADMIN)
CALLERS = (ANON, *USERS)

EVERYONE = frozenset(CALLERS)
SIGNED_IN = frozenset(USERS)
INTAKE = frozenset({OPERATOR, DISPATCHER, SUPERVISOR, ADMIN})
DISPATCH = frozenset({DISPATCHER, SUPERVISOR, ADMIN})
SUPERVISE = frozenset({SUPERVISOR, ADMIN})
REPORTS = SUPERVISE
CALLBACK = frozenset({OPERATOR, SUPERVISOR, ADMIN})  # access.CALLBACK_ROLES (回访, issue 17)
ADMINS = frozenset({ADMIN})
DEPARTMENTS = frozenset({ROADS, WATER})
# Who can see the roads department's ticket: everyone signed in but the water department.
SEE_ROADS_TICKET = SIGNED_IN - {WATER}
WRITERS = frozenset({ROADS, WATER, SUPERVISOR, ADMIN})  # knowledge.can_write
ROADS_EDITORS = frozenset({ROADS, SUPERVISOR, ADMIN})  # knowledge.can_edit on a roads article
# Who may mark the roads ticket's photo public or not (issue 18 item 5): its unit and the desk.
PUBLISH = frozenset({ROADS, DISPATCHER, SUPERVISOR, ADMIN})

TWILIO_TOKEN = "authz-matrix-token"


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    path: str  # "{name.attr}" placeholders are filled from `World`
    allow: frozenset[str]
    hidden: frozenset[str] = frozenset()  # answered 404 on purpose
    kind: str = "web"  # web (session), api (bearer token), open311 (api_key), twilio (signature), public
    data: dict | None = None  # form fields (placeholders filled)
    json: dict | None = None
    fresh: bool = False  # a new object (World.fresh) before each allowed caller: the action changes it
    calendar: bool = False  # changes the seeded holiday calendar: restored afterwards
    sender: bool = False  # needs an SMS sender configured (Twilio settings, no queue)
    calls: bool = False  # starts a call: the fake Twilio runs, and the staff have their own phones (issue 17)
    # A second ticket named in the form or body (a merge's parent): the World name of one that
    # `absent` callers may not see, and that must answer them exactly as a number that does not exist.
    second: str = ""
    absent: frozenset[str] = frozenset()
    config: tuple[tuple[str, object], ...] = ()  # app settings for the row (a rate limit wide enough for all)

    @property
    def id(self) -> str:
        return f"{self.endpoint} {self.method}"


def web(endpoint, method, path, allow, **kw) -> Row:
    return Row(endpoint, method, path, frozenset(allow), **kw)


def api(endpoint, method, path, allow, **kw) -> Row:
    return Row(endpoint, method, path, frozenset(allow), kind="api", **kw)


def public(endpoint, method, path, **kw) -> Row:
    return Row(endpoint, method, path, EVERYONE, kind="public", **kw)


def twilio(endpoint, path, params) -> Row:
    # Callers here: "anonymous" posts unsigned, every other caller posts signed with the token.
    return Row(endpoint, "POST", path, SIGNED_IN, kind="twilio", data=params)


V = "{%s.version}"
T = "/tickets/{%s.number}"
A = "/api/v1/tickets/{%s.number}"


def version(name: str, **fields) -> dict:
    """A ticket action's form or JSON body: the version the caller saw, and the fields."""
    return {"version": V % name, **fields}


# Request bodies (placeholders filled from World).
LOGIN = {"username": "operator", "password": factories.PASSWORD}
NEW_PASSWORD = {
    "current": factories.PASSWORD,
    "password": "tidy lantern by the river",
    "repeated": "tidy lantern by the river",
}
LOOKUP = {"number": "{ticket.number}", "digits": "8000"}
OPEN311_REQUEST = {
    "service_code": "potholes",
    "description": "人民路路面有一个大坑。",
    "address_string": "东城区人民路 12 号",
    "phone": "13800138000",
}
INTAKE_FORM = {
    "caller_phone": "13800138000",
    "type": "complaint",
    "category": "potholes",
    "district": "east",
    "address": "东城区人民路 12 号",
    "description": "人民路路面有一个大坑。",
    "urgency": "normal",
    "channel": "phone",
}
INTAKE_JSON = {
    key: INTAKE_FORM[key] for key in ("caller_phone", "type", "category", "district", "address", "description")
}
DUPLICATES_FORM = {"caller_phone": "13800138000", "category": "potholes", "description": "人民路路面有一个大坑。"}
RETURN = {"reason": "属于燃气公司", "reason_code": "not_our_remit"}
ARTICLE_NEW = {
    "question": "井盖丢失找谁？",
    "answer": "由道路管理局处理。",
    "category": "infrastructure",
    "tags": "井盖",
    "department": "{own_department}",  # department staff write for their own department
}
ARTICLE_EDIT = {
    "question": "路灯不亮找谁？",
    "answer": "路灯由道路管理局在两个工作日内修复。",
    "category": "infrastructure",
    "tags": "路灯",
}
# duty rota (值班, issue 17 item 4)
DUTY_SHIFT = {
    "user": "roads_staff",
    "starts_at": "2030-01-05T18:00:00+08:00",
    "ends_at": "2030-01-06T09:00:00+08:00",
    "phone": "13900139000",
}
DUTY_SHIFT_FORM = {
    "user": "roads_staff",
    "starts_at": "2030-02-05T18:00",
    "ends_at": "2030-02-06T09:00",
    "phone": "13900139000",
}
DUTY_PATTERN_FORM = {"user": "roads_staff", "day_kind": "workday", "starts": "18:00", "ends": "09:00"}
CALENDAR_DAY = {"day": "2026-12-31", "kind": "off", "name": "测试假日"}
HOLIDAY_FILE = {"year": 2031, "papers": [], "days": [{"name": "元旦", "date": "2031-01-01", "isOffDay": True}]}
USER_ROLE = {"role": "dispatcher", "department": "", "active": "y", "reason": "转岗"}
NEW_USER = {
    "username": "new_operator",
    "display_name": "新话务员",
    "role": "operator",
    "department": "",
    "password": "tidy lantern by the river",
    "reason": "新入职",
}
PASSWORD_RESET = {"reset-reason": "忘记密码"}
POLICY_FORM = {
    "category": "water-supply",
    "urgency": "normal",
    "accept_amount": "4",
    "accept_unit": "working_hours",
    "resolve_amount": "5",
    "resolve_unit": "working_days",
    "return_window_days": "1",
    "max_extension_days": "5",
}
POLICY_EDIT = {**POLICY_FORM, "category": "potholes", "accept_amount": "2"}  # the World's policy, changed
POLICY_JSON = {key: int(value) if value.isdigit() else value for key, value in POLICY_FORM.items()}
POLICY_EDIT_JSON = {**POLICY_JSON, "category": "potholes", "accept_amount": 2}
RULE_FORM = {
    "priority": "20",
    "name": "井盖归道路",
    "category": "infrastructure",
    "keywords": "井盖",
    "department": "roads",
    "active": "y",
}
RULE_EDIT = {
    "priority": "10",
    "name": "路灯归水务",
    "category": "infrastructure",
    "keywords": "路灯",
    "department": "water",
    "active": "y",
}
RULE_JSON = {
    "priority": 20,
    "name": "井盖归道路",
    "category": "infrastructure",
    "keywords": ["井盖"],
    "department": "roads",
}
RULE_SAMPLE = {"sample": {"category": "infrastructure", "description": "路灯不亮"}}
ATTACHMENT = "/api/v1/tickets/{attachment.ticket.number}/attachments/{attachment.id}"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Recordings/RE" + "a" * 32
CALL = {"CallSid": "CA" + "1" * 32, "From": "+8613800138000", "To": "+8653112345"}
SMS = {"MessageSid": "SM" + "1" * 32, "From": "+8613800138000", "To": "+8653112345", "Body": "查询进度"}
SMS_STATUS = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "To": "+8613800138000"}

# fmt: off
# One row per endpoint and method: kind, endpoint, method, path, who is allowed, who gets 404.
MATRIX: list[Row] = [
    # --- public: everyone, signed in or not -------------------------------------------------------
    public("auth.login", "GET", "/login"),
    public("auth.login", "POST", "/login", data=LOGIN),  # signing in (failed sign-ins would meet the throttle)
    public("auth.logout", "POST", "/logout"),  # harmless for anyone: a redirect to /login, allowed here
    public("auth.set_locale", "POST", "/locale", data={"locale": "en"}),
    public("public.status", "GET", "/status"),
    public("public.lookup", "POST", "/status", data=LOOKUP),
    # the citizen's web report (网上留言) and the public board (issue 18): no account, by design
    public("public.report", "GET", "/report"),
    public(
        "public.report_code", "POST", "/report/code", data={"phone": "13900139000"}, sender=True,
        config=(("HOTLINE_REPORT_CODES_PER_PHONE", 10),),
    ),
    public("public.report_verify", "POST", "/report/verify", data={"code": "123456"}),
    public("public.report_restart", "POST", "/report/restart"),
    public("public.report_submit", "POST", "/report", data={"topic": "road", "description": "人民路有个大坑。"}),
    public("public.report_places", "GET", "/report/places?q=人民"),
    public("public.board", "GET", "/board"),
    public("public.board_photo", "GET", "/board/photos/{board_photo.id}"),  # issue 18: a web report's public photo
    public("public.board_photo_thumbnail", "GET", "/board/photos/{board_photo.id}/thumbnail"),
    public("health.healthz", "GET", "/healthz"),
    public("health.readyz", "GET", "/readyz"),
    public("static", "GET", "/static/hotline.css"),
    public("bootstrap.static", "GET", "/bootstrap/static/css/bootstrap.min.css"),
    public("api.ping", "GET", "/api/v1/ping"),
    public("api.openapi", "GET", "/api/v1/openapi.json"),  # the API's description, without auth by design
    public("open311.root", "GET", "/open311/v2/"),
    public("open311.discovery", "GET", "/open311/v2/discovery.json"),
    public("open311.services", "GET", "/open311/v2/services.json"),
    public("open311.service_definition", "GET", "/open311/v2/services/potholes.json"),
    public("open311.list_requests", "GET", "/open311/v2/requests.json"),
    public("open311.get_request", "GET", "/open311/v2/requests/{ticket.number}.json"),
    public("open311.token", "GET", "/open311/v2/tokens/{ticket.number}.json"),
    public("open311.media", "GET", "/open311/v2/media/{public_photo.ticket.number}/{public_photo.id}"),  # issue 18 item 5
    # Open311 filing: the api_key is a hotline user's API token, of an intake role; none: 403.
    Row("open311.create_request", "POST", "/open311/v2/requests.json", INTAKE, kind="open311", data=OPEN311_REQUEST),
    # --- pages: home, notices, search, tickets ------------------------------------------------------
    web("home.index", "GET", "/", SIGNED_IN),
    web("home.notices", "GET", "/notices", SIGNED_IN),
    web("auth.change_password", "GET", "/account/password", SIGNED_IN),
    web("auth.change_password", "POST", "/account/password", SIGNED_IN, data=NEW_PASSWORD),  # each their own
    web("search.index", "GET", "/search?q=路面", SIGNED_IN),
    web("tickets.index", "GET", "/tickets", SIGNED_IN),
    web("tickets.show", "GET", T % "ticket", SEE_ROADS_TICKET, hidden={WATER}),
    web("tickets.views", "GET", T % "ticket" + "/views", SUPERVISE),
    web("tickets.accept", "POST", T % "ticket" + "/accept", {ROADS}, hidden={WATER}, data=version("ticket")),
    web("tickets.resolve", "POST", T % "accepted" + "/resolve", {ROADS}, hidden={WATER}, data=version("accepted", resolution="已修复。")),
    web("tickets.return_", "POST", T % "ticket" + "/return", {ROADS}, hidden={WATER}, data=version("ticket", **RETURN)),
    web("tickets.add_note", "POST", T % "ticket" + "/notes", SEE_ROADS_TICKET, hidden={WATER}, data=version("ticket", text="已联系。")),
    # attachments (issue 18 item 5): the upload (a photo, see _call), the file and its thumbnail
    web("attachments.upload", "POST", T % "ticket" + "/attachments", SEE_ROADS_TICKET, hidden={WATER}),
    web("attachments.file", "GET", T % "attachment.ticket" + "/attachments/{attachment.id}", SEE_ROADS_TICKET, hidden={WATER}),
    web("attachments.thumbnail", "GET", T % "attachment.ticket" + "/attachments/{attachment.id}/thumbnail", SEE_ROADS_TICKET, hidden={WATER}),
    # a photo marked public or not: the unit holding the ticket and the desk (attachment_publicity)
    web("attachments.set_public", "POST", T % "attachment.ticket" + "/attachments/{attachment.id}/public", PUBLISH, hidden={WATER}, data={"public": "1"}),
    web("tickets.wait", "POST", T % "accepted" + "/wait", {ROADS}, hidden={WATER}, data=version("accepted", reason="请提供照片")),
    web("tickets.resume", "POST", T % "waiting" + "/resume", {ROADS}, hidden={WATER}, data=version("waiting")),
    web("tickets.request_extension", "POST", T % "accepted" + "/extension", {ROADS}, hidden={WATER}, data=version("accepted", days="3", reason="需要协调")),
    web("tickets.approve_extension", "POST", T % "extension" + "/extension/approve", SUPERVISE, fresh=True, data=version("extension", note="同意")),
    web("tickets.refuse_extension", "POST", T % "extension" + "/extension/refuse", SUPERVISE, fresh=True, data=version("extension", note="不同意")),
    web("tickets.approve_return", "POST", T % "returning" + "/return/approve", SUPERVISE, fresh=True, data=version("returning", note="同意")),
    web("tickets.refuse_return", "POST", T % "returning" + "/return/refuse", SUPERVISE, fresh=True, data=version("returning", note="不同意")),
    web("tickets.urge", "POST", T % "ticket" + "/urge", SUPERVISE, data=version("ticket", text="请尽快")),
    web("tickets.dispatch", "POST", T % "pending" + "/dispatch", DISPATCH, fresh=True, data=version("pending", department="roads")),
    web("tickets.merge", "POST", T % "pending" + "/merge", DISPATCH, fresh=True, data=version("pending", into="{into.number}")),
    # Roads assists on a ticket water leads: water (the lead, not assisting) is refused.
    web("tickets.assist_done", "POST", T % "assisted" + "/assist-done", {ROADS}, data=version("assisted", reply="已配合完成。")),
    # Units in a tree (issue 17): roads sends down to its street office, returns up to the works
    # bureau above it, reviews its street office's reply; its lead names the handler.
    web("tickets.subdispatch", "POST", T % "accepted" + "/subdispatch", {ROADS}, hidden={WATER}, data=version("accepted", department="{sub_unit.code}", note="请现场核实")),
    web("tickets.return_up", "POST", T % "sent_down_to_roads" + "/return-up", {ROADS}, hidden={WATER}, data=version("sent_down_to_roads", reason="不属于本单位")),
    web("tickets.review", "POST", T % "replied" + "/review", {ROADS}, hidden={WATER}, data=version("replied", decision="approve")),
    web("tree.sent_down", "GET", "/tickets/sent-down", DEPARTMENTS),
    web("tree.mine", "GET", "/tickets/mine", DEPARTMENTS),
    web("tree.load", "GET", "/units/load", set()),  # unit leads only: none of the matrix's callers is one
    web("tickets.assign", "POST", T % "lead_ticket" + "/assign", {ROADS}, hidden={WATER}, data=version("lead_ticket", handler="roads_colleague")),
    # --- pages: intake and the console -------------------------------------------------------------
    web("intake.new_ticket", "GET", "/tickets/new", INTAKE),
    web("intake.new_ticket", "POST", "/tickets/new", INTAKE, data=INTAKE_FORM),
    web("intake.caller_history", "GET", "/tickets/caller-history?phone=13800138000", INTAKE),
    web("intake.likely_duplicates", "POST", "/tickets/likely-duplicates", INTAKE, data=DUPLICATES_FORM),
    web("intake.places", "GET", "/tickets/places.json?q=人民", INTAKE),  # geo (issue 18): the gazetteer at intake
    # geo (issue 18 item 2): the intake form's map, its background and what a clicked point says
    web("intake_map.background", "GET", "/tickets/map.json", INTAKE),
    web("intake_map.point", "GET", "/tickets/point.json?lat=39.91&long=116.41", INTAKE),
    # geo (issue 18): the desks' maps
    web("maps.unit", "GET", "/maps/unit", DEPARTMENTS),
    web("maps.city", "GET", "/maps/city", SUPERVISE),
    web("maps.geography", "GET", "/admin/geography", ADMINS),
    # hotspot areas (issue 18 item 4): drawn, saved and deleted on the supervisors' map
    web("map_areas.save", "POST", "/maps/areas", SUPERVISE, data={"name": "人民路", "points": "[[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]"}),
    web("map_areas.delete", "POST", "/maps/areas/{area.id}/delete", SUPERVISE, fresh=True),
    web("console.index", "GET", "/console/", INTAKE),
    web("console.feed", "GET", "/console/calls.json", INTAKE),
    web("console.answer", "POST", "/console/calls/{call.call_sid}/answer", INTAKE, fresh=True),
    web("console.called_back", "POST", "/console/calls/{missed.call_sid}/called-back", INTAKE, fresh=True),
    # --- pages: dispatch, supervision, reports, hotspots -------------------------------------------
    web("dispatch.queue", "GET", "/dispatch", DISPATCH),
    web("supervision.overdue", "GET", "/supervision/overdue", SUPERVISE),
    web("supervision.failed_logins", "GET", "/supervision/failed-logins", SUPERVISE),
    web("reports.index", "GET", "/reports/", REPORTS),
    web("reports.response_times", "GET", "/reports/response-times", REPORTS),
    web("reports.response_times_export", "GET", "/reports/response-times.csv", REPORTS),
    web("reports.tickets", "GET", "/reports/tickets?group_by=all&measure=received", REPORTS),
    web("reports.tickets_export", "GET", "/reports/tickets.csv?group_by=all&measure=received", REPORTS),
    web("reports.misrouting", "GET", "/reports/misrouting", REPORTS),
    web("reports.calls", "GET", "/reports/calls?group_by=hour", REPORTS),
    web("hotspots.index", "GET", "/hotspots", SUPERVISE),
    web("hotspots.show", "GET", "/hotspots/{hotspot.id}", SUPERVISE),
    web("hotspots.name", "POST", "/hotspots/{hotspot.id}/name", SUPERVISE, data={"name": "幸福小区夜间施工"}),
    web("hotspots.follow", "POST", "/hotspots/{hotspot.id}/follow", SUPERVISE),
    web("hotspots.unfollow", "POST", "/hotspots/{hotspot.id}/unfollow", SUPERVISE),
    web("hotspots.dismiss", "POST", "/hotspots/{hotspot.id}/dismiss", SUPERVISE, fresh=True),
    web("hotspots.reopen", "POST", "/hotspots/{dismissed.id}/reopen", SUPERVISE, fresh=True),
    web("hotspots.assign", "POST", "/hotspots/{hotspot.id}/assign", SUPERVISE, fresh=True, data={"department": "roads", "note": "请排查"}),
    # --- pages: the knowledge base ("article" is approved, roads owns it) ----------------------------
    web("knowledge.index", "GET", "/knowledge/", SIGNED_IN),
    web("knowledge.suggest", "GET", "/knowledge/suggest?q=路灯", INTAKE),
    web("knowledge.pending", "GET", "/knowledge/pending", SUPERVISE),
    web("knowledge.create", "GET", "/knowledge/new", WRITERS),
    web("knowledge.create", "POST", "/knowledge/new", WRITERS, data=ARTICLE_NEW),
    web("knowledge.show", "GET", "/knowledge/{article.id}", SIGNED_IN),
    web("knowledge.edit", "GET", "/knowledge/{article.id}/edit", ROADS_EDITORS),
    web("knowledge.edit", "POST", "/knowledge/{article.id}/edit", ROADS_EDITORS, fresh=True, data=ARTICLE_EDIT),
    # A draft is seen by its department, supervisors and administrators only: 404 for the others.
    web("knowledge.submit", "POST", "/knowledge/{draft.id}/submit", ROADS_EDITORS, fresh=True, hidden={OPERATOR, DISPATCHER, WATER}),
    web("knowledge.retire", "POST", "/knowledge/{article.id}/retire", ROADS_EDITORS, fresh=True),
    web("knowledge.approve", "POST", "/knowledge/{submitted.id}/approve", SUPERVISE, fresh=True),
    web("knowledge.reject", "POST", "/knowledge/{submitted.id}/reject", SUPERVISE, fresh=True, data={"note": "请补充时限。"}),
    # --- pages: administration ------------------------------------------------------------------------
    web("admin_calendar.index", "GET", "/admin/calendar/", ADMINS),
    web("admin_calendar.set_day", "POST", "/admin/calendar/day", ADMINS, calendar=True, data=CALENDAR_DAY),
    web("admin_calendar.upload", "POST", "/admin/calendar/upload", ADMINS, calendar=True),  # HOLIDAY_FILE, see _call
    web("admin_users.index", "GET", "/admin/users/", ADMINS),
    web("admin_users.log", "GET", "/admin/users/log", ADMINS),
    web("admin_users.edit", "GET", "/admin/users/{user.id}", ADMINS),
    web("admin_users.edit", "POST", "/admin/users/{user.id}", ADMINS, data=USER_ROLE),
    web("admin_users.create", "GET", "/admin/users/new", ADMINS),
    web("admin_users.create", "POST", "/admin/users/new", ADMINS, data=NEW_USER),
    web("admin_users.reset_password", "POST", "/admin/users/{user.id}/password", ADMINS, data=PASSWORD_RESET),
    web("admin_users.revoke_token", "POST", "/admin/users/{user.id}/tokens/{token.id}/revoke", ADMINS),
    web("admin_users.revoke_tokens", "POST", "/admin/users/{user.id}/tokens/revoke", ADMINS),
    web("outbox.index", "GET", "/admin/outbox/", ADMINS),
    # A held message, sent again once a sender (the row's Twilio settings) is configured.
    web("outbox.retry", "POST", "/admin/outbox/{message.id}/retry", ADMINS, sender=True),
    web("policies.index", "GET", "/admin/sla-policies/", ADMINS),
    web("policies.create", "GET", "/admin/sla-policies/new", ADMINS),
    web("policies.create", "POST", "/admin/sla-policies/new", ADMINS, data=POLICY_FORM),
    web("policies.edit", "GET", "/admin/sla-policies/{policy.id}/edit", ADMINS),
    web("policies.edit", "POST", "/admin/sla-policies/{policy.id}/edit", ADMINS, data=POLICY_EDIT),
    web("policies.delete", "GET", "/admin/sla-policies/{policy.id}/delete", ADMINS),
    web("policies.delete", "POST", "/admin/sla-policies/{policy.id}/delete", ADMINS),
    web("rules.index", "GET", "/admin/routing-rules/", ADMINS),
    web("rules.create", "GET", "/admin/routing-rules/new", ADMINS),
    web("rules.create", "POST", "/admin/routing-rules/new", ADMINS, data=RULE_FORM),
    web("rules.edit", "GET", "/admin/routing-rules/{rule.id}/edit", ADMINS),
    web("rules.edit", "POST", "/admin/routing-rules/{rule.id}/edit", ADMINS, data=RULE_EDIT),
    web("rules.delete", "GET", "/admin/routing-rules/{rule.id}/delete", ADMINS),
    web("rules.delete", "POST", "/admin/routing-rules/{rule.id}/delete", ADMINS),
    # --- the API: tickets -------------------------------------------------------------------------------
    api("api.list_tickets", "GET", "/api/v1/tickets", SIGNED_IN),
    api("api.create_ticket", "POST", "/api/v1/tickets", INTAKE, json=INTAKE_JSON),
    api("api.get_ticket", "GET", A % "ticket", SEE_ROADS_TICKET, hidden={WATER}),
    api("api.ticket_views", "GET", A % "ticket" + "/views", SUPERVISE),
    api("api.duplicates", "GET", A % "ticket" + "/duplicates", INTAKE),
    api("api.ticket_suggestions", "GET", A % "pending" + "/suggestions", DISPATCH),
    api("api.search_tickets", "GET", "/api/v1/search/tickets?q=路面", SIGNED_IN),
    # geo (issue 18): tickets near a point (each sees only those it may: tests/api/test_geo_api.py), the gazetteer
    api("api.nearby_tickets", "GET", "/api/v1/tickets/nearby?lat=39.91&long=116.41", SIGNED_IN),
    api("api.search_places", "GET", "/api/v1/places?q=人民", SIGNED_IN),
    # hotspot areas (issue 18 item 4)
    api("api.list_areas", "GET", "/api/v1/areas", SUPERVISE),
    api("api.create_area", "POST", "/api/v1/areas", SUPERVISE, json={"name": "人民路", "points": [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]]}),
    api("api.area_tickets", "GET", "/api/v1/areas/{area.id}/tickets?scope=all", SUPERVISE),
    api("api.delete_area", "DELETE", "/api/v1/areas/{area.id}", SUPERVISE, fresh=True),
    api("api.accept", "POST", A % "ticket" + "/accept", {ROADS}, hidden={WATER}, json=version("ticket")),
    api("api.resolve", "POST", A % "accepted" + "/resolve", {ROADS}, hidden={WATER}, json=version("accepted", resolution="已修复。")),
    api("api.return_to_dispatch", "POST", A % "ticket" + "/return", {ROADS}, hidden={WATER}, json=version("ticket", **RETURN)),
    api("api.add_note", "POST", A % "ticket" + "/notes", SEE_ROADS_TICKET, hidden={WATER}, json={"text": "已联系。"}),
    # attachments (issue 18 item 5): whoever may see the ticket; the upload's file: see _call
    api("api.add_attachment", "POST", A % "ticket" + "/attachments", SEE_ROADS_TICKET, hidden={WATER}),
    api("api.get_attachment", "GET", ATTACHMENT, SEE_ROADS_TICKET, hidden={WATER}),
    api("api.get_attachment_thumbnail", "GET", ATTACHMENT + "/thumbnail", SEE_ROADS_TICKET, hidden={WATER}),
    api("api.set_attachment_public", "PATCH", ATTACHMENT, PUBLISH, hidden={WATER}, json={"public": True}),
    api("api.wait_on_citizen", "POST", A % "accepted" + "/wait-on-citizen", {ROADS}, hidden={WATER}, json=version("accepted", reason="请提供照片")),
    api("api.resume", "POST", A % "waiting" + "/resume", {ROADS}, hidden={WATER}, json=version("waiting")),
    api("api.request_extension", "POST", A % "accepted" + "/extend", {ROADS}, hidden={WATER}, json=version("accepted", days=3, reason="需要协调")),
    api("api.approve_extension", "POST", A % "extension" + "/approve-extension", SUPERVISE, fresh=True, json=version("extension")),
    api("api.refuse_extension", "POST", A % "extension" + "/refuse-extension", SUPERVISE, fresh=True, json=version("extension", reason="不同意")),
    api("api.approve_return", "POST", A % "returning" + "/approve-return", SUPERVISE, fresh=True, json=version("returning")),
    api("api.refuse_return", "POST", A % "returning" + "/refuse-return", SUPERVISE, fresh=True, json=version("returning", reason="不同意")),
    api("api.urge", "POST", A % "ticket" + "/urge", SUPERVISE, json={"text": "请尽快"}),
    api("api.dispatch", "POST", A % "pending" + "/dispatch", DISPATCH, fresh=True, json=version("pending", department="roads")),
    api("api.merge", "POST", A % "pending" + "/merge", DISPATCH, fresh=True, json=version("pending", into="{into.number}")),
    api("api.assist_done", "POST", A % "assisted" + "/assist-done", {ROADS}, json={"reply": "已配合完成。"}),
    # Units in a tree (issue 17)
    api("api.subdispatch", "POST", A % "accepted" + "/subdispatch", {ROADS}, hidden={WATER}, json=version("accepted", department="{sub_unit.code}", note="请现场核实")),
    api("api.return_up", "POST", A % "sent_down_to_roads" + "/return-up", {ROADS}, hidden={WATER}, json=version("sent_down_to_roads", reason="不属于本单位")),
    api("api.review", "POST", A % "replied" + "/review", {ROADS}, hidden={WATER}, json=version("replied", approve=True)),
    api("api.assign", "POST", A % "lead_ticket" + "/assign", {ROADS}, hidden={WATER}, json=version("lead_ticket", handler="roads_colleague")),
    # --- the API: directory, knowledge, reports, rules, policies, calendar -----------------------------
    api("api.list_departments", "GET", "/api/v1/departments", SIGNED_IN),
    api("api.list_districts", "GET", "/api/v1/districts", SIGNED_IN),
    api("api.list_categories", "GET", "/api/v1/categories", SIGNED_IN),
    api("api.list_return_reasons", "GET", "/api/v1/return-reasons", SIGNED_IN),
    api("api.list_notices", "GET", "/api/v1/notices", SIGNED_IN),
    api("api.list_articles", "GET", "/api/v1/knowledge/articles?q=路灯", SIGNED_IN),
    api("api.get_article", "GET", "/api/v1/knowledge/articles/{article.id}", SIGNED_IN),
    api("api.response_times_report", "GET", "/api/v1/reports/response-times", REPORTS),
    api("api.misrouting_report", "GET", "/api/v1/reports/misrouting", REPORTS),
    # Units in a tree (issue 17): supervisors any unit; a unit lead their own (the matrix's roads staff is no lead).
    api("api.units_report", "GET", "/api/v1/reports/units?from=2026-11-01&to=2026-11-30", REPORTS),
    api("api.calls_report", "GET", "/api/v1/reports/calls?group_by=operator", REPORTS),
    api("api.overdue_report", "GET", "/api/v1/reports/overdue", REPORTS),
    api("api.list_rules", "GET", "/api/v1/routing-rules", DISPATCH),
    api("api.get_rule", "GET", "/api/v1/routing-rules/{rule.id}", DISPATCH),
    api("api.test_rules", "POST", "/api/v1/routing-rules/test", DISPATCH, json=RULE_SAMPLE),
    api("api.create_rule", "POST", "/api/v1/routing-rules", ADMINS, json=RULE_JSON),
    api("api.update_rule", "PUT", "/api/v1/routing-rules/{rule.id}", ADMINS, json={"priority": 30}),
    api("api.delete_rule", "DELETE", "/api/v1/routing-rules/{rule.id}", ADMINS),
    api("api.list_policies", "GET", "/api/v1/sla-policies", SIGNED_IN),
    api("api.create_policy", "POST", "/api/v1/sla-policies", ADMINS, json=POLICY_JSON),
    api("api.update_policy", "PUT", "/api/v1/sla-policies/{policy.id}", ADMINS, json=POLICY_EDIT_JSON),
    api("api.delete_policy", "DELETE", "/api/v1/sla-policies/{policy.id}", ADMINS),
    api("api.calendar_year", "GET", "/api/v1/calendar/2026", SIGNED_IN),
    api("api.set_calendar_day", "PUT", "/api/v1/calendar/days/2026-12-31", ADMINS, calendar=True, json={"off": True, "name": "测试假日"}),
    api("api.load_calendar_years", "POST", "/api/v1/calendar/years", ADMINS, calendar=True, json=HOLIDAY_FILE),
    # --- duty rota (值班, issue 17 item 4): the unit's staff, supervisors and admins read; its lead
    # (roads_staff is no lead: tests/api/test_duty.py covers the lead) and admins change ------------
    api("api.duty_shifts", "GET", "/api/v1/departments/roads/duty-shifts", {ROADS, SUPERVISOR, ADMIN}),
    api("api.add_duty_shift", "POST", "/api/v1/departments/roads/duty-shifts", ADMINS, fresh=True, json=DUTY_SHIFT),
    api("api.delete_duty_shift", "DELETE", "/api/v1/departments/roads/duty-shifts/{shift.id}", ADMINS, fresh=True),
    web("duty.index", "GET", "/duty/", DEPARTMENTS | SUPERVISE),  # each unit to its own rota
    web("duty.rota", "GET", "/duty/roads", {ROADS, SUPERVISOR, ADMIN}),
    web("duty.add_shift", "POST", "/duty/roads/shifts", ADMINS, fresh=True, data=DUTY_SHIFT_FORM),
    web("duty.delete_shift", "POST", "/duty/roads/shifts/{shift.id}/delete", ADMINS, fresh=True),
    web("duty.add_pattern", "POST", "/duty/roads/patterns", ADMINS, fresh=True, data=DUTY_PATTERN_FORM),
    web("duty.delete_pattern", "POST", "/duty/roads/patterns/{pattern.id}/delete", ADMINS, fresh=True),
    # --- Twilio webhooks: unsigned 403, signed with the auth token accepted ---------------------------
    twilio("twilio.incoming_call", "/twilio/voice", {**CALL, "CallStatus": "ringing"}),
    twilio("twilio.queue_wait", "/twilio/voice/wait", {**CALL, "QueueTime": "5"}),
    twilio("twilio.queue_left", "/twilio/voice/queue", {**CALL, "QueueResult": "hangup"}),
    twilio("twilio.call_status", "/twilio/voice/status", {**CALL, "CallStatus": "completed"}),
    twilio("twilio.recording", "/twilio/voice/recording", {**CALL, "RecordingUrl": RECORDING, "RecordingDuration": "14"}),
    twilio("twilio.transcription", "/twilio/voice/transcription", {**CALL, "TranscriptionStatus": "completed", "TranscriptionText": "路灯不亮", "RecordingUrl": RECORDING}),
    twilio("twilio.incoming_sms", "/twilio/sms", SMS),
    twilio("twilio.message_status", "/twilio/status", SMS_STATUS),
    # --- Contact with the citizen and callback (issue 17) -------------------------------------------
    web("contacts.record_contact", "POST", T % "accepted" + "/contacts", {ROADS}, hidden={WATER}, data=version("accepted", outcome="reached", note="已电话联系")),
    web("contacts.call_citizen", "POST", T % "accepted" + "/call-citizen", {ROADS}, hidden={WATER}, calls=True, data=version("accepted")),
    web("contacts.reveal_phone", "POST", T % "accepted" + "/reveal-phone", {ROADS}, hidden={WATER}, data=version("accepted", reason="上门核实")),
    web("contacts.callback_call", "POST", T % "resolved" + "/callback-call", CALLBACK, hidden={WATER}, calls=True, data=version("resolved")),
    web("contacts.record_callback", "POST", T % "resolved" + "/callback", CALLBACK, hidden={WATER}, fresh=True, data=version("resolved", rating="satisfied", words="满意")),
    web("contacts.queue", "GET", "/callbacks", CALLBACK),
    web("contacts.own_phone", "GET", "/account/phone", SIGNED_IN),
    web("contacts.own_phone", "POST", "/account/phone", SIGNED_IN, data={"phone": "13900139000"}),
    api("api.record_contact", "POST", A % "accepted" + "/contacts", {ROADS}, hidden={WATER}, json=version("accepted", outcome="reached", note="已电话联系")),
    api("api.call_citizen", "POST", A % "accepted" + "/call-citizen", {ROADS}, hidden={WATER}, calls=True, json=version("accepted")),
    api("api.reveal_phone", "POST", A % "accepted" + "/reveal-phone", {ROADS}, hidden={WATER}, json=version("accepted", reason="上门核实")),
    api("api.callback_queue", "GET", "/api/v1/callbacks", CALLBACK),
    api("api.callback_call", "POST", A % "resolved" + "/callback-call", CALLBACK, calls=True, json=version("resolved")),
    api("api.record_callback", "POST", A % "resolved" + "/callback", CALLBACK, fresh=True, json=version("resolved", rating="satisfied", words="满意")),
    twilio("twilio.contact_bridge", "/twilio/contact/bridge", {**CALL, "CallStatus": "in-progress"}),
    twilio("twilio.contact_dialled", "/twilio/contact/dialled", {**CALL, "DialCallStatus": "completed", "DialCallDuration": "42"}),
    twilio("twilio.contact_call_status", "/twilio/contact/status", {**CALL, "CallStatus": "completed", "CallDuration": "50"}),
]
# fmt: on

ROWS = {row.id: row for row in MATRIX}


def _routes(app: Flask) -> set[str]:
    return {
        f"{rule.endpoint} {method}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_has_a_row(app: Flask) -> None:
    assert len(ROWS) == len(MATRIX), "a route is listed twice"
    routes = _routes(app)
    missing = sorted(routes - set(ROWS))
    stale = sorted(set(ROWS) - routes)
    assert not missing, f"routes without a row in the authorisation matrix: {', '.join(missing)}"
    assert not stale, f"rows for routes that no longer exist: {', '.join(stale)}"


# --- calling -------------------------------------------------------------------------------------


@dataclass
class Callers:
    app: Flask
    city: factories.City
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, caller: str):
        return {
            OPERATOR: self.city.operator,
            DISPATCHER: self.city.dispatcher,
            ROADS: self.city.roads_staff,
            WATER: self.city.water_staff,
            SUPERVISOR: self.city.supervisor,
            ADMIN: self.city.admin,
        }[caller]

    def session(self, caller: str) -> FlaskClient:
        if caller not in self.clients:
            client = self.app.test_client()
            if caller != ANON:
                user = self.user(caller)
                response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
                assert response.status_code == 302, f"{caller} could not log in"
            self.clients[caller] = client
        return self.clients[caller]

    def token(self, caller: str) -> str:
        if caller not in self.tokens:
            self.tokens[caller] = issue_token(self.user(caller))
        return self.tokens[caller]


@pytest.fixture
def denials(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The PermissionDenied errors raised: pages flash them and redirect, so the status says nothing."""
    raised: list[str] = []
    original = errors.PermissionDenied.__init__

    def recording(self, message: str, **kwargs) -> None:
        raised.append(message)
        original(self, message, **kwargs)

    monkeypatch.setattr(errors.PermissionDenied, "__init__", recording)
    return raised


def _call(row: Row, caller: str, callers: Callers, world: World):
    path = world.fill(row.path)
    data = world.fill(row.data)
    body = world.fill(row.json, json_body=True)
    if row.kind == "api":
        client = callers.app.test_client()
        headers = {} if caller == ANON else {"Authorization": f"Bearer {callers.token(caller)}"}
        if row.endpoint == "api.add_attachment":  # multipart: a photo in the field "file"
            upload = {"file": (io.BytesIO(attachment_files.photo_with_location()), "photo.jpg")}
            return client.post(path, data=upload, headers=headers, content_type="multipart/form-data")
        return client.open(path, method=row.method, json=body, headers=headers)
    if row.kind == "open311":
        data = dict(data or {})
        if caller != ANON:
            data["api_key"] = callers.token(caller)
        return callers.app.test_client().open(path, method=row.method, data=data)
    if row.kind == "twilio":
        headers = {}
        if caller != ANON:
            url = f"http://localhost{path}"
            headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, data)
        return callers.app.test_client().open(path, method=row.method, data=data, headers=headers)
    client = callers.session(caller)
    if row.endpoint == "admin_calendar.upload":
        data = {"file": (io.BytesIO(json.dumps(HOLIDAY_FILE).encode()), "holidays.json")}
    if row.endpoint == "attachments.upload":
        data = {"file": (io.BytesIO(attachment_files.photo_with_location()), "photo.jpg")}
    return client.open(path, method=row.method, data=data, json=body)


def _flashes(client: FlaskClient | None) -> list[str]:
    if client is None:
        return []
    with client.session_transaction() as session:
        flashed = session.pop("_flashes", [])
    return [category for category, _message in flashed]


def _answer(row: Row, response, denied: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    location = urlsplit(response.headers.get("Location", "")).path
    sent_to_login = status in (301, 302, 303) and location == "/login" and row.kind != "public"
    if status == 401 or sent_to_login:
        return "login"
    if status == 403 or denied:
        return "forbidden"
    if status == 404:
        return "hidden"
    return "allowed"


def _expected(row: Row, caller: str) -> str:
    if caller in row.allow:
        return "allowed"
    if caller in row.absent:
        return "absent"
    if caller in row.hidden:
        return "hidden"
    if caller == ANON and row.kind in ("web", "api"):
        return "login"
    return "forbidden"


@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
def test_each_caller_gets_the_answer_its_role_allows(
    row: Row, app: Flask, city, denials: list[str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    _check(row, app, city, denials, monkeypatch, request)


# Confidential tickets (保密件, see hotline/services/accounts/access.py): the same routes answer 404 to
# those who may not see one. "secret" was logged by another operator and is held by roads;
# "secret_pending" (another operator's too) waits at the dispatch desk.
SEE_SECRET = {ROADS, SUPERVISOR, ADMIN}
SEE_SECRET_PENDING = {DISPATCHER, SUPERVISOR, ADMIN}

# fmt: off
CONFIDENTIAL: list[Row] = [
    web("tickets.show", "GET", T % "secret", SEE_SECRET, hidden={OPERATOR, DISPATCHER, WATER}),
    web("tickets.show", "GET", T % "secret_pending", SEE_SECRET_PENDING, hidden={OPERATOR, ROADS, WATER}),
    web("tickets.add_note", "POST", T % "secret" + "/notes", SEE_SECRET, hidden={OPERATOR, DISPATCHER, WATER}, data=version("secret", text="已联系。")),
    web("tickets.views", "GET", T % "secret" + "/views", SUPERVISE),
    api("api.get_ticket", "GET", A % "secret", SEE_SECRET, hidden={OPERATOR, DISPATCHER, WATER}),
    api("api.get_ticket", "GET", A % "secret_pending", SEE_SECRET_PENDING, hidden={OPERATOR, ROADS, WATER}),
    api("api.add_note", "POST", A % "secret" + "/notes", SEE_SECRET, hidden={OPERATOR, DISPATCHER, WATER}, json={"text": "已联系。"}),
    api("api.set_attachment_public", "PATCH", "/api/v1/tickets/{secret_photo.ticket.number}/attachments/{secret_photo.id}", SEE_SECRET, hidden={OPERATOR, DISPATCHER, WATER}, json={"public": True}),
    api("api.duplicates", "GET", A % "secret" + "/duplicates", SUPERVISE, hidden={OPERATOR, DISPATCHER}),
    api("api.ticket_suggestions", "GET", A % "secret_pending" + "/suggestions", DISPATCH),
    # Never published, to anyone.
    Row("open311.get_request", "GET", "/open311/v2/requests/{secret.number}.json", frozenset(), hidden=EVERYONE, kind="public"),
]
# fmt: on


# Every route that takes a second ticket (a merge's parent), called with a confidential one as
# each role (issue 14): those who may not see it get exactly the answer of a number that does not
# exist (`absent`: no telling whether a confidential number exists); those who may, merge into it.
# "secret" is held by roads (dispatchers no longer see it); "secret_pending" awaits dispatch.
# fmt: off
SECOND_TICKET: list[Row] = [
    web("tickets.merge", "POST", T % "pending" + "/merge", SUPERVISE, absent=frozenset({DISPATCHER}), second="secret", fresh=True, data=version("pending", into="{secret.number}")),
    api("api.merge", "POST", A % "pending" + "/merge", SUPERVISE, absent=frozenset({DISPATCHER}), second="secret", fresh=True, json=version("pending", into="{secret.number}")),
    web("tickets.merge", "POST", T % "pending" + "/merge", DISPATCH, fresh=True, data=version("pending", into="{secret_pending.number}")),
    api("api.merge", "POST", A % "pending" + "/merge", DISPATCH, fresh=True, json=version("pending", into="{secret_pending.number}")),
    # The confidential ticket in the address, an ordinary one in the body.
    web("tickets.merge", "POST", T % "secret" + "/merge", SUPERVISE, hidden={DISPATCHER}, fresh=True, data=version("secret", into="{into.number}")),
    api("api.merge", "POST", A % "secret" + "/merge", SUPERVISE, hidden={DISPATCHER}, fresh=True, json=version("secret", into="{into.number}")),
]
# fmt: on


@pytest.mark.parametrize(
    "row", SECOND_TICKET, ids=[f"{row.id} {row.path} {row.data or row.json}" for row in SECOND_TICKET]
)
def test_a_second_ticket_the_caller_may_not_see_answers_as_one_that_does_not_exist(
    row: Row, app: Flask, city, denials: list[str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    _check(row, app, city, denials, monkeypatch, request)


@dataclass(frozen=True)
class Related:
    """A page or answer that shows tickets related to the one asked for, and a confidential one
    it could name: only those in `sees` may find its number there."""

    kind: str
    path: str
    secret: str  # the World name of the confidential ticket
    sees: frozenset[str]
    callers: tuple[str, ...]
    build: tuple[str, ...] = ()  # World objects to make first


DESK = (OPERATOR, DISPATCHER, SUPERVISOR, ADMIN)
RELATED = [
    # The roads ticket, with another operator's confidential ticket merged into it: children, events.
    Related("web", T % "ticket", "secret_child", frozenset(SUPERVISE), (*DESK, ROADS)),
    Related("api", A % "ticket", "secret_child", frozenset(SUPERVISE), (*DESK, ROADS)),
    # A ticket merged into a confidential one: its parent, its merge event.
    Related("web", T % "merged_into_secret", "secret", frozenset(SUPERVISE), DESK, build=("merged_into_secret",)),
    Related("api", A % "merged_into_secret", "secret", frozenset(SUPERVISE), DESK, build=("merged_into_secret",)),
    # Likely duplicates: the confidential ticket has the same caller.
    Related("api", A % "ticket" + "/duplicates", "secret", frozenset(SUPERVISE), DESK),
    # A search hit merged into a confidential ticket names its parent.
    Related("web", "/search?q=井盖松动", "secret", frozenset(SUPERVISE), DESK, build=("merged_into_secret",)),
    Related(
        "api", "/api/v1/search/tickets?q=井盖松动", "secret", frozenset(SUPERVISE), DESK, build=("merged_into_secret",)
    ),
    # The call console names the ticket logged for a call.
    Related("web", "/console/calls.json", "secret", frozenset(SUPERVISE), DESK, build=("secret_call",)),
]


@pytest.mark.parametrize("case", RELATED, ids=[f"{case.kind} {case.path}" for case in RELATED])
def test_related_tickets_are_named_only_to_those_who_may_see_them(app: Flask, city, case: Related) -> None:
    callers, world = Callers(app, city), World(city)
    for name in case.build:
        world[name]
    number = world[case.secret].number
    path = world.fill(case.path)
    wrong = []
    for caller in case.callers:
        if case.kind == "api":
            response = app.test_client().get(path, headers={"Authorization": f"Bearer {callers.token(caller)}"})
        else:
            response = callers.session(caller).get(path)
        assert response.status_code == 200, f"{caller}: {response.status_code}"
        named = number in response.get_data(as_text=True)
        if named != (caller in case.sees):
            wrong.append(f"{caller}: {'names' if named else 'does not name'} {case.secret} {number}")
    assert not wrong, f"{path}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("row", CONFIDENTIAL, ids=[f"{row.id} {row.path}" for row in CONFIDENTIAL])
def test_confidential_tickets_are_hidden_from_those_who_may_not_see_them(
    row: Row, app: Flask, city, denials: list[str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    _check(row, app, city, denials, monkeypatch, request)


def _check(
    row: Row, app: Flask, city, denials: list[str], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if row.calendar:
        request.getfixturevalue("holidays")  # restores the seeded calendar afterwards
    for setting, value in row.config:
        monkeypatch.setitem(app.config, setting, value)
    if row.endpoint.startswith("health."):
        # Empty queues: a job that an earlier test left behind must not age past
        # HOTLINE_HEALTH_MAX_JOB_AGE in a long run and turn this row's answer into a 503.
        request.getfixturevalue("queue")
    if row.kind == "twilio" or row.sender:
        monkeypatch.setitem(app.config, "TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
        monkeypatch.setitem(app.config, "TWILIO_FROM_NUMBER", "+8653112345")
        monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)  # nothing is sent by itself
    if row.calls:  # issue 17: the hotline rings the caller's own phone through the fake Twilio
        from tests import fake_twilio

        fake = fake_twilio.running(app, monkeypatch)
        fake.__enter__()
        request.addfinalizer(lambda: fake.__exit__(None, None, None))
        for user in (city.roads_staff, city.operator, city.supervisor, city.admin):
            user.phone = "+8613900139000"
        db.session.commit()
    callers = Callers(app, city)
    world = World(city)
    # Those refused first, so that an allowed caller's change cannot hide a refusal.
    order = [c for c in CALLERS if c not in row.allow] + [c for c in CALLERS if c in row.allow]
    if row.kind == "twilio":
        order = [ANON, OPERATOR]  # unsigned, then signed: no user is involved
    wrong: list[str] = []
    for caller in order:
        if row.fresh and caller in row.allow:
            world.fresh()
        denials.clear()
        # Department staff write for their own department; supervisors and admins name one.
        world["own_department"] = "water" if caller == WATER else "roads"
        response = _call(row, caller, callers, world)
        response.get_data()  # a streamed export is produced to its end (an error there is a failure too)
        response.close()
        answer = _answer(row, response, bool(denials))
        expected = _expected(row, caller)
        detail = ""
        if expected == "absent":
            answer, detail = _as_if_absent(row, caller, callers, world, response)
        if answer == expected == "allowed":
            # Really allowed: no refusal on state or validation either (the rows set the state up).
            client = callers.clients.get(caller) if row.kind in ("web", "public") else None
            if response.status_code >= 400 or "danger" in _flashes(client):
                answer = "refused on state or input"
                detail = response.get_data(as_text=True)[:300]
        if answer != expected:
            who = "signed" if row.kind == "twilio" and caller != ANON else caller
            wrong.append(f"{who}: expected {expected}, got {answer} ({response.status_code}) {detail}")
    assert not wrong, f"{row.id} {row.path}:\n" + "\n".join(wrong)


# A number no ticket has: what a second ticket the caller may not see must answer as.
MISSING = "20991231-999999"


def _as_if_absent(row: Row, caller: str, callers: Callers, world: World, first) -> tuple[str, str]:
    """ "absent" when the call naming `row.second` answered exactly as the same call naming a
    number that does not exist: the same status, the same body (or page flash), the same place."""
    client = callers.clients.get(caller) if row.kind in ("web", "public") else None
    told = _what_it_told(first, client, world[row.second].number)
    placeholder = f"{{{row.second}.number}}"
    swap = {key: MISSING if value == placeholder else value for key, value in (row.data or row.json or {}).items()}
    missing = Row(
        row.endpoint, row.method, row.path, row.allow, kind=row.kind, **({"json": swap} if row.json else {"data": swap})
    )
    again = _call(missing, caller, callers, world)
    untold = _what_it_told(again, client, MISSING)
    if told != untold:
        return "told apart from a missing number", f"{told} != {untold}"
    return "absent", ""


def _what_it_told(response, client: FlaskClient | None, number: str) -> tuple:
    body = response.get_data(as_text=True).replace(number, "N")
    flashed = []
    if client is not None:
        with client.session_transaction() as session:
            flashed = [(category, message.replace(number, "N")) for category, message in session.pop("_flashes", [])]
    return response.status_code, urlsplit(response.headers.get("Location", "")).path, body, flashed


def test_the_matrix_covers_every_role() -> None:
    # Every role of the app is among the callers (department staff twice: own and other department).
    assert (set(USERS) - {ROADS, WATER}) | {Role.DEPARTMENT} == set(Role.ALL)


# Lists and searches answer everyone signed in: what they may see is in the rows they list.
LISTS = [
    ("web", "/tickets?tab=all"),
    ("web", "/search?q=人民路"),
    ("api", "/api/v1/tickets"),
    ("api", "/api/v1/search/tickets?q=人民路"),
]


@pytest.mark.parametrize(("kind", "path"), LISTS, ids=[path for _kind, path in LISTS])
def test_lists_and_searches_show_only_the_tickets_the_caller_may_see(app: Flask, city, kind: str, path: str) -> None:
    callers, world = Callers(app, city), World(city)
    roads_ticket, secret = world["ticket"].number, world["secret"].number
    sees = {
        ROADS: {roads_ticket, secret},
        WATER: set(),
        OPERATOR: {roads_ticket},  # not another operator's confidential ticket
        SUPERVISOR: {roads_ticket, secret},
    }
    wrong = []
    for caller, expected in sees.items():
        if kind == "api":
            response = app.test_client().get(path, headers={"Authorization": f"Bearer {callers.token(caller)}"})
        else:
            response = callers.session(caller).get(path)
        assert response.status_code == 200, f"{caller}: {response.status_code}"
        text = response.get_data(as_text=True)
        listed = {number for number in (roads_ticket, secret) if number in text}
        if listed != expected:
            wrong.append(f"{caller}: lists {sorted(listed)}, expected {sorted(expected)}")
    assert not wrong, f"{path}:\n" + "\n".join(wrong)
