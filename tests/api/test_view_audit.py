"""The API records every view of a ticket's personal data, lists who viewed a ticket for
supervisors, and answers 404 for confidential tickets to those who do not need them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, ViewRecord
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error


def records(ticket=None) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    query = select(ViewRecord).order_by(ViewRecord.id)
    if ticket is not None:
        query = query.where(ViewRecord.ticket_id == ticket.id)
    return [(r.user.username, r.what, r.via) for r in db.session.scalars(query)]


def test_get_ticket_records_the_view(api, city, routed):
    assert api(city.operator).get(f"/api/v1/tickets/{routed.number}").status_code == 200
    assert api(city.roads_staff).get(f"/api/v1/tickets/{routed.number}").status_code == 200
    assert records(routed) == [("operator", "caller", "api"), ("roads_staff", "caller", "api")]


def test_a_confidential_ticket_is_recorded_as_such(api, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True)
    body = api(city.roads_staff).get(f"/api/v1/tickets/{secret.number}").get_json()
    assert body["caller_name"] is None  # and the department still never sees the name
    assert records(secret) == [("roads_staff", "confidential", "api")]


def test_the_list_records_a_row_per_ticket_whose_caller_it_showed(api, city):
    named = factories.make_routed_ticket(city.operator)
    anonymous = factories.make_routed_ticket(city.operator, caller_name="")
    assert api(city.roads_staff).get("/api/v1/tickets").status_code == 200
    # Roads sees a masked number: only the named caller is personal data.
    assert records() == [("roads_staff", "caller", "api")]
    assert records(named) == records() and records(anonymous) == []
    assert api(city.supervisor).get("/api/v1/tickets").status_code == 200
    assert sorted(records(anonymous)) == [("supervisor", "caller", "api")]


def test_an_action_answer_is_a_view_too(api, city, routed):
    response = api(city.roads_staff).post(f"/api/v1/tickets/{routed.number}/accept", json={"version": routed.version})
    assert response.status_code == 200
    assert records(routed) == [("roads_staff", "caller", "api")]


def test_a_refused_read_records_nothing(api, city, routed):
    assert_error(api(city.water_staff).get(f"/api/v1/tickets/{routed.number}"), 404, "not_found")
    assert records() == []


class TestViews:
    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_list_who_viewed(self, api, city, routed, who):
        api(city.roads_staff).get(f"/api/v1/tickets/{routed.number}")
        api(city.operator).get(f"/api/v1/tickets/{routed.number}")
        response = api(getattr(city, who)).get(f"/api/v1/tickets/{routed.number}/views")
        assert response.status_code == 200
        body = response.get_json()
        assert body["ticket"] == routed.number and body["total"] == 2 and body["pages"] == 1
        assert [(v["user"], v["what"], v["via"]) for v in body["views"]] == [
            ("operator", "caller", "api"),
            ("roads_staff", "caller", "api"),
        ]
        first = body["views"][1]
        assert first["department"] == "roads" and first["role"] == "department"
        assert first["remote_addr"] == "127.0.0.1" and first["at"].endswith("+00:00")

    def test_pages(self, api, city, routed):
        for _ in range(3):
            api(city.operator).get(f"/api/v1/tickets/{routed.number}")
        body = api(city.supervisor).get(f"/api/v1/tickets/{routed.number}/views?per_page=2&page=2").get_json()
        assert (body["total"], body["pages"], len(body["views"])) == (3, 2, 1)

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_others_get_403(self, api, city, routed, who):
        assert_error(api(getattr(city, who)).get(f"/api/v1/tickets/{routed.number}/views"), 403, "forbidden")

    def test_unknown_ticket_and_bad_page(self, api, city, routed):
        assert_error(api(city.supervisor).get("/api/v1/tickets/nope/views"), 404, "not_found")
        assert_error(api(city.supervisor).get(f"/api/v1/tickets/{routed.number}/views?page=x"), 400, "invalid_input")


class TestConfidential:
    @pytest.fixture
    def secret(self, city):
        return factories.make_routed_ticket(city.operator, confidential=True)  # with roads

    def test_not_found_for_others(self, api, city, secret):
        other_operator = factories.make_user(Role.OPERATOR, username="operator2")
        for user in (other_operator, city.dispatcher, city.water_staff):
            assert_error(api(user).get(f"/api/v1/tickets/{secret.number}"), 404, "not_found")
            listed = api(user).get("/api/v1/tickets").get_json()["tickets"]
            assert secret.number not in [t["number"] for t in listed]

    @pytest.mark.parametrize("who", ["operator", "roads_staff", "supervisor", "admin"])
    def test_shown_to_those_who_need_it(self, api, city, secret, who):
        assert api(getattr(city, who)).get(f"/api/v1/tickets/{secret.number}").status_code == 200

    def test_the_dispatcher_while_it_awaits_dispatch(self, api, city):
        pending = tickets.route(factories.make_ticket(city.operator, confidential=True, category="other").id)
        client = api(city.dispatcher)
        body = client.get(f"/api/v1/tickets/{pending.number}").get_json()
        assert (body["caller_name"], body["caller_phone"]) == ("张三", "+8613800138000")
        response = client.post(
            f"/api/v1/tickets/{pending.number}/dispatch", json={"department": "roads", "version": pending.version}
        )
        assert response.status_code == 200
        assert_error(client.get(f"/api/v1/tickets/{pending.number}"), 404, "not_found")
