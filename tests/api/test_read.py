"""GET /api/v1/tickets/<number> and the paged list: visibility, masking, events, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error

T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_a_ticket_with_its_events(api, city, routed):
    tickets.add_note(city.dispatcher, routed, "市民称已第二次来电")
    response = api(city.supervisor).get(f"/api/v1/tickets/{routed.number}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == routed.number
    assert (body["status"], body["department"], body["version"]) == ("dispatched", "roads", routed.version)
    assert body["caller_phone"] == "+8613800138000"  # unmasked for a supervisor
    created, routed_event, note = body["events"]
    assert (created["kind"], created["actor"], created["from_status"], created["to_status"]) == (
        "created",
        "operator",
        None,
        "new",
    )
    assert (routed_event["kind"], routed_event["actor"]) == ("routed", None)  # the system did it
    assert (routed_event["from_status"], routed_event["to_status"]) == ("new", "dispatched")
    assert routed_event["data"]["department"] == "roads"
    assert (note["kind"], note["actor"], note["from_status"], note["to_status"]) == ("note", "dispatcher", None, None)
    assert note["data"] == {"text": "市民称已第二次来电"}
    expected_keys = {
        "number", "status", "type", "category", "district", "address", "description", "urgency", "channel",
        "caller_phone", "caller_name", "department", "created_at", "dispatched_at", "accepted_at", "resolved_at",
        "resolve_due_at", "version", "confidential", "resolution", "closed_at", "events", "accept_due_at",
        "sla_level",
    }  # fmt: skip
    assert expected_keys <= set(body)


def test_times_are_iso_8601_utc_with_offset(api, city, routed):
    routed.created_at = T0
    routed.dispatched_at = T0 + timedelta(minutes=5, microseconds=123)
    routed.resolve_due_at = datetime(2026, 12, 2, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    db.session.commit()
    body = api(city.operator).get(f"/api/v1/tickets/{routed.number}").get_json()
    assert body["created_at"] == "2026-11-25T06:00:00+00:00"
    assert body["dispatched_at"] == "2026-11-25T06:05:00+00:00"
    assert body["resolve_due_at"] == "2026-12-02T09:00:00+00:00"
    assert body["accepted_at"] is None and body["resolved_at"] is None and body["closed_at"] is None


def test_department_staff_see_their_tickets_with_the_caller_masked(api, city, routed):
    body = api(city.roads_staff).get(f"/api/v1/tickets/{routed.number}").get_json()
    assert body["caller_phone"] == "138****8000"
    listed = api(city.roads_staff).get("/api/v1/tickets").get_json()["tickets"]
    assert [t["caller_phone"] for t in listed] == ["138****8000"]


def test_another_departments_ticket_is_404_for_department_staff(api, city, routed):
    assert_error(api(city.water_staff).get(f"/api/v1/tickets/{routed.number}"), 404, "not_found")
    assert api(city.water_staff).get("/api/v1/tickets").get_json()["total"] == 0


def test_an_unknown_number_is_404(api, city):
    assert_error(api(city.operator).get("/api/v1/tickets/20990101-000001"), 404, "not_found")


def make_tickets(city, n: int):
    """n routed tickets, created a minute apart: the last one is the newest."""
    made = []
    for i in range(n):
        ticket = factories.make_routed_ticket(
            city.operator, category="potholes" if i % 2 == 0 else "water-supply", description=f"第 {i} 号"
        )
        ticket.created_at = T0 + timedelta(minutes=i)
        made.append(ticket)
    db.session.commit()
    return [t.number for t in made]


def test_the_list_is_paged_newest_first(api, city):
    numbers = make_tickets(city, 5)
    client = api(city.supervisor)
    first = client.get("/api/v1/tickets?per_page=2").get_json()
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 5, 3)
    assert [t["number"] for t in first["tickets"]] == numbers[::-1][:2]
    assert "events" not in first["tickets"][0]
    pages = [client.get(f"/api/v1/tickets?per_page=2&page={n}").get_json()["tickets"] for n in (1, 2, 3)]
    assert [t["number"] for page in pages for t in page] == numbers[::-1]
    beyond = client.get("/api/v1/tickets?per_page=2&page=4").get_json()
    assert (beyond["tickets"], beyond["total"], beyond["page"]) == ([], 5, 4)


def test_page_size_defaults_from_config_and_is_capped(app, api, city, monkeypatch):
    make_tickets(city, 3)
    monkeypatch.setitem(app.config, "HOTLINE_API_PAGE_SIZE", 2)
    default = api(city.operator).get("/api/v1/tickets").get_json()
    assert (default["per_page"], len(default["tickets"]), default["pages"]) == (2, 2, 2)
    capped = api(city.operator).get("/api/v1/tickets?per_page=1000").get_json()
    assert (capped["per_page"], len(capped["tickets"])) == (100, 3)


def test_an_empty_list(api, city):
    body = api(city.operator).get("/api/v1/tickets").get_json()
    assert body == {"tickets": [], "page": 1, "per_page": 50, "total": 0, "pages": 0}


def test_filters_by_status_and_department(api, city):
    numbers = make_tickets(city, 4)  # 0, 2 roads; 1, 3 water
    pending = factories.make_routed_ticket(city.operator, category="other")
    client = api(city.dispatcher)

    def listed(query):
        return [t["number"] for t in client.get(f"/api/v1/tickets?{query}").get_json()["tickets"]]

    assert listed("department=roads") == [numbers[2], numbers[0]]
    assert listed("status=pending_dispatch") == [pending.number]
    assert set(listed("status=pending_dispatch,dispatched")) == {pending.number, *numbers}
    assert set(listed("status=pending_dispatch&status=dispatched")) == {pending.number, *numbers}
    assert listed("status=in_progress") == []
    assert listed("status=dispatched&department=water&per_page=1") == [numbers[3]]


def test_department_staff_list_only_their_department_whatever_they_ask(api, city):
    numbers = make_tickets(city, 4)
    client = api(city.water_staff)
    assert {t["number"] for t in client.get("/api/v1/tickets").get_json()["tickets"]} == {numbers[1], numbers[3]}
    assert client.get("/api/v1/tickets?department=roads").get_json()["total"] == 0


def test_filter_by_caller_for_a_screen_pop(api, city):
    mine = factories.make_ticket(city.operator, caller_phone="+86 139 0000 0001")
    factories.make_ticket(city.operator)
    body = api(city.operator).get("/api/v1/tickets?caller_phone=13900000001").get_json()
    assert [t["number"] for t in body["tickets"]] == [mine.number]
    assert_error(api(city.operator).get("/api/v1/tickets?caller_phone=12ab"), 400, "invalid_input", "caller_phone")
    assert_error(api(city.roads_staff).get("/api/v1/tickets?caller_phone=13900000001"), 403, "forbidden")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=open", "status"),
        ("status=new,bogus", "status"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=%D9%A3", "page"),  # an Arabic-Indic three: a digit to str.isdigit, not to us
        ("page=99999999999999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=x", "per_page"),
        ("department=nowhere", "department"),
    ],
)
def test_bad_query_parameters_are_400s(api, city, query, field):
    assert_error(api(city.operator).get(f"/api/v1/tickets?{query}"), 400, "invalid_input", field)


def test_every_status_is_a_valid_filter(api, city):
    for status in Status.ALL:
        assert api(city.operator).get(f"/api/v1/tickets?status={status}").status_code == 200
