"""POST /api/v1/tickets: what a CTI system sends when an operator logs a call."""

from __future__ import annotations

import json
import re

import pytest

from hotline.models import Status
from hotline.services.platform import queueing
from tests.api.helpers import assert_error, event_count, snapshot, ticket_count

CALL = {
    "caller_phone": "138 0013 8000",
    "caller_name": "张三",
    "type": "complaint",
    "category": "potholes",
    "district": "east",
    "address": "东城区人民路 12 号",
    "description": "人民路路面有一个大坑，晚上很危险。",
    "urgency": "urgent",
    "channel": "phone",
}


def call(**changes):
    body = dict(CALL)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("queued", [True, False])
def test_create_returns_201_with_the_ticket(api, city, monkeypatch, queued):
    enqueued = []
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: enqueued.append(ticket_id) or queued)
    response = api(city.operator).post("/api/v1/tickets", json=CALL)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert re.fullmatch(r"\d{8}-\d{6}", body["number"])
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{body['number']}")
    assert body["routing_queued"] is queued
    assert len(enqueued) == 1
    assert body["status"] == Status.NEW
    assert body["department"] is None  # routing runs in a job, after the commit
    assert body["caller_phone"] == "+8613800138000"
    assert body["caller_name"] == "张三"
    assert (body["type"], body["category"], body["district"]) == ("complaint", "potholes", "east")
    assert (body["urgency"], body["channel"], body["confidential"]) == ("urgent", "phone", False)
    assert body["address"] == CALL["address"] and body["description"] == CALL["description"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["created_at"])
    assert body["dispatched_at"] is None and body["resolve_due_at"] is None
    assert body["version"] == 1
    assert [(e["kind"], e["actor"], e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("created", "operator", None, "new")
    ]
    # What the API said is what was stored, and the Location leads to it.
    assert snapshot(body["number"]) == ("new", 1, None, ["created"])
    again = api(city.operator).get(response.headers["Location"])
    assert again.status_code == 200 and again.get_json()["number"] == body["number"]


def test_chinese_text_is_sent_as_utf8_not_escaped(api, city):
    response = api(city.operator).post("/api/v1/tickets", json=CALL)
    assert "人民路".encode() in response.get_data()


def test_optional_fields_default(api, city):
    body = {k: CALL[k] for k in ("caller_phone", "type", "category", "description")}
    response = api(city.dispatcher).post("/api/v1/tickets", json=body)
    assert response.status_code == 201
    created = response.get_json()
    assert (created["urgency"], created["channel"]) == ("normal", "api")
    assert (created["district"], created["address"], created["caller_name"]) == (None, "", "")
    assert created["confidential"] is False


def test_nulls_count_as_absent_for_optional_fields(api, city):
    response = api(city.operator).post(
        "/api/v1/tickets", json=call(district=None, caller_name=None, urgency=None, direct_answer=None)
    )
    assert response.status_code == 201
    assert response.get_json()["district"] is None
    assert response.get_json()["urgency"] == "normal"


def test_confidential_is_kept(api, city):
    response = api(city.operator).post("/api/v1/tickets", json=call(confidential=True))
    assert response.status_code == 201
    assert response.get_json()["confidential"] is True


def test_a_direct_answer_closes_a_consultation_at_once(api, city, monkeypatch):
    enqueued = []
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: enqueued.append(ticket_id) or True)
    response = api(city.operator).post(
        "/api/v1/tickets", json=call(type="consultation", direct_answer="办理时间为工作日 9:00-17:00。")
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == Status.CLOSED
    assert body["resolution"] == "办理时间为工作日 9:00-17:00。"
    assert body["closed_at"] == body["resolved_at"] == body["created_at"]
    assert [e["kind"] for e in body["events"]] == ["created", "direct_answer"]
    assert body["routing_queued"] is False and enqueued == []  # nothing left to route


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"caller_phone": "12ab"}, "caller_phone"),
        ({"caller_phone": "123"}, "caller_phone"),
        ({"caller_phone": ""}, "caller_phone"),
        ({"caller_phone": ...}, "caller_phone"),
        ({"caller_phone": 13800138000}, "caller_phone"),
        ({"category": "no-such-category"}, "category"),
        ({"category": ...}, "category"),
        ({"district": "atlantis"}, "district"),
        ({"description": ""}, "description"),
        ({"description": "   \n "}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"description": ...}, "description"),
        ({"description": 42}, "description"),
        ({"description": None}, "description"),
        ({"type": "gossip"}, "type"),
        ({"type": ...}, "type"),
        ({"urgency": "very"}, "urgency"),
        ({"urgency": ["urgent"]}, "urgency"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": {"name": "phone"}}, "channel"),
        ({"confidential": "yes"}, "confidential"),
        ({"confidential": 1}, "confidential"),
        ({"caller_name": 5}, "caller_name"),
        ({"district": 3}, "district"),
        ({"address": False}, "address"),
        ({"direct_answer": "请拨打 110"}, "direct_answer"),  # a complaint cannot be closed at once
        ({"direct_answer": 1}, "direct_answer"),
        ({"urgncy": "urgent"}, "urgncy"),  # a typo is refused, not ignored
        ({"description": "坑\x00"}, "description"),
    ],
)
def test_bad_fields_are_400s_naming_the_field_and_create_nothing(api, city, changes, field):
    response = api(city.operator).post("/api/v1/tickets", json=call(**changes))
    assert_error(response, 400, "invalid_input", field)
    assert ticket_count() == 0 and event_count() == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b'{"caller_phone": "13800138000",', "invalid_json"),
        (b"[1, 2, 3]", "invalid_json"),
        (b'"a ticket"', "invalid_json"),
        (b"null", "invalid_json"),
        (b"42", "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[" * 100000 + b"]" * 100000, "invalid_json"),
        (b"", "unsupported_media_type"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(api, city, data, error):
    content_type = "text/plain" if error == "unsupported_media_type" else "application/json"
    response = api(city.operator).post("/api/v1/tickets", data=data, content_type=content_type)
    assert_error(response, 415 if error == "unsupported_media_type" else 400, error)
    assert ticket_count() == 0


def test_a_lone_surrogate_is_refused_not_a_500(api, city):
    raw = json.dumps(call(description="坑")).replace("\\u5751", "\\ud800").encode()
    assert b"\\ud800" in raw
    response = api(city.operator).post("/api/v1/tickets", data=raw, content_type="application/json")
    assert_error(response, 400, "invalid_input", "description")
    assert ticket_count() == 0


def test_a_form_post_is_415(api, city):
    response = api(city.operator).post("/api/v1/tickets", data={"caller_phone": "13800138000"})
    assert_error(response, 415, "unsupported_media_type")


def test_json_with_a_charset_is_accepted(api, city):
    response = api(city.operator).post(
        "/api/v1/tickets", data=json.dumps(CALL), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_an_oversized_body_is_413(api, city):
    response = api(city.operator).post("/api/v1/tickets", json=call(description="坑" * 200_000))
    assert_error(response, 413, "payload_too_large")
    assert ticket_count() == 0
