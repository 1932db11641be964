"""Returns (退单) over the API: with a reason from the list; after the window a request (202)
that a supervisor approves or refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import ReturnRequest, Status
from hotline.services.ticketing import returns, tickets
from tests.api.helpers import assert_error, snapshot


def url(ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


def requests() -> list[tuple[str, str, str]]:
    """(status, reason code, decision note) of every return request, as the database has them."""
    db.session.expire_all()
    return [(r.status, r.reason_code, r.decision_note) for r in db.session.scalars(select(ReturnRequest))]


@pytest.fixture
def late(city, routed):
    """A ticket dispatched to roads ten days ago: past the 2-working-day return window."""
    routed.dispatched_at -= timedelta(days=10)
    db.session.commit()
    return routed


@pytest.fixture
def requested(api, city, late):
    response = api(city.roads_staff).post(
        url(late, "return"), json={"reason": "属于燃气公司", "reason_code": "not_our_remit"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return late


class TestWithinTheWindow:
    def test_a_reason_from_the_list(self, api, city, routed):
        body = {"reason": "属于西城区", "reason_code": "wrong_district", "version": routed.version}
        response = api(city.roads_staff).post(url(routed, "return"), json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        ticket = response.get_json()
        assert (ticket["status"], ticket["department"], ticket["routed_by"], ticket["return_request"]) == (
            "pending_dispatch",
            None,
            None,
            None,
        )
        assert ticket["events"][-1]["data"] == {
            "reason": "属于西城区",
            "reason_code": "wrong_district",
            "department": "roads",
        }
        assert requests() == []

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"reason": "x", "reason_code": "bogus"}, "reason_code"),
            ({"reason": "x", "reason_code": 3}, "reason_code"),
            ({"reason": "x", "reason_code": ["other"]}, "reason_code"),
            ({"reason": "   ", "reason_code": "other"}, "reason"),
            ({"reason_code": "other"}, "reason"),
            ({"reason": "x", "code": "other"}, "code"),
        ],
    )
    def test_bad_returns_are_400s_and_change_nothing(self, api, city, routed, body, field):
        before = snapshot(routed.number)
        assert_error(api(city.roads_staff).post(url(routed, "return"), json=body), 400, "invalid_input", field)
        assert snapshot(routed.number) == before

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "admin"])
    def test_only_the_department_returns(self, api, city, routed, who):
        before = snapshot(routed.number)
        assert_error(api(getattr(city, who)).post(url(routed, "return"), json={"reason": "x"}), 403, "forbidden")
        assert snapshot(routed.number) == before


class TestAfterTheWindow:
    def test_a_late_return_is_a_request_202(self, api, city, late):
        before = snapshot(late.number)
        response = api(city.roads_staff).post(
            url(late, "return"),
            json={"reason": "属于燃气公司", "reason_code": "not_our_remit", "version": late.version},
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        body = response.get_json()
        # Still with roads, same status and version: only the request and its event are new.
        assert (body["status"], body["department"], body["version"]) == ("dispatched", "roads", before[1])
        request = body["return_request"]
        assert request == {
            "reason_code": "not_our_remit",
            "reason": "属于燃气公司",
            "requested_by": "roads_staff",
            "created_at": request["created_at"],
        }
        assert request["created_at"].endswith("+00:00")
        assert body["events"][-1]["kind"] == "return_requested"
        assert snapshot(late.number) == (*before[:3], [*before[3], "return_requested"])
        assert requests() == [("pending", "not_our_remit", "")]

    def test_everyone_who_sees_the_ticket_sees_the_request(self, api, city, requested):
        for who in ("roads_staff", "dispatcher", "supervisor"):
            body = api(getattr(city, who)).get(f"/api/v1/tickets/{requested.number}").get_json()
            assert body["return_request"]["reason_code"] == "not_our_remit"
        listed = api(city.supervisor).get("/api/v1/tickets").get_json()["tickets"]
        assert listed[0]["return_request"]["requested_by"] == "roads_staff"

    def test_one_request_at_a_time(self, api, city, requested):
        before = snapshot(requested.number)
        response = api(city.roads_staff).post(url(requested, "return"), json={"reason": "再次退单"})
        assert_error(response, 409, "conflict")
        assert snapshot(requested.number) == before
        assert len(requests()) == 1

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_approved_the_ticket_goes_back_to_the_desk(self, api, city, requested, who):
        body = {"note": "同意退回", "version": requested.version}
        response = api(getattr(city, who)).post(url(requested, "approve-return"), json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        ticket = response.get_json()
        assert (ticket["status"], ticket["department"], ticket["return_request"]) == ("pending_dispatch", None, None)
        event = ticket["events"][-1]
        assert (event["kind"], event["actor"], event["data"]["approved_by"]) == ("returned", who, who)
        assert event["data"]["reason_code"] == "not_our_remit"
        assert requests() == [("approved", "not_our_remit", "同意退回")]
        assert_error(api(city.roads_staff).get(f"/api/v1/tickets/{requested.number}"), 404, "not_found")

    def test_approve_needs_no_body(self, api, city, requested):
        response = api(city.supervisor).post(url(requested, "approve-return"))
        assert response.status_code == 200
        assert snapshot(requested.number)[0] == "pending_dispatch"

    def test_refused_the_ticket_stays_and_may_be_returned_again(self, api, city, requested):
        before = snapshot(requested.number)
        response = api(city.supervisor).post(url(requested, "refuse-return"), json={"reason": "属于你单位职责"})
        assert response.status_code == 200, response.get_data(as_text=True)
        ticket = response.get_json()
        assert (ticket["status"], ticket["department"], ticket["return_request"]) == ("dispatched", "roads", None)
        assert ticket["events"][-1]["kind"] == "return_refused"
        assert ticket["events"][-1]["data"] == {"reason": "属于你单位职责"}
        assert snapshot(requested.number)[:3] == before[:3]
        assert requests() == [("refused", "not_our_remit", "属于你单位职责")]
        again = api(city.roads_staff).post(url(requested, "return"), json={"reason": "补充了证据"})
        assert again.status_code == 202
        assert again.get_json()["return_request"]["reason_code"] == "other"

    @pytest.mark.parametrize("action", ["approve-return", "refuse-return"])
    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_only_supervisors_and_admins_decide(self, api, city, requested, action, who):
        before = snapshot(requested.number)
        response = api(getattr(city, who)).post(
            url(requested, action), json={"reason": "x"} if "refuse" in action else {}
        )
        assert_error(response, 403, "forbidden")
        assert snapshot(requested.number) == before
        assert requests() == [("pending", "not_our_remit", "")]

    @pytest.mark.parametrize("action", ["approve-return", "refuse-return"])
    def test_nothing_to_decide_is_409(self, api, city, routed, action):
        before = snapshot(routed.number)
        response = api(city.supervisor).post(url(routed, action), json={"reason": "x"} if "refuse" in action else {})
        assert_error(response, 409, "conflict")
        assert snapshot(routed.number) == before

    @pytest.mark.parametrize("action", ["approve-return", "refuse-return"])
    def test_a_stale_version_is_409(self, api, city, requested, action):
        tickets.accept(city.roads_staff, requested)
        before = snapshot(requested.number)
        body = {"version": before[1] - 1} | ({"reason": "x"} if "refuse" in action else {})
        assert_error(api(city.supervisor).post(url(requested, action), json=body), 409, "conflict")
        assert snapshot(requested.number) == before
        assert requests() == [("pending", "not_our_remit", "")]

    @pytest.mark.parametrize(
        ("action", "body", "field"),
        [
            ("refuse-return", {}, "reason"),
            ("refuse-return", {"reason": "  "}, "reason"),
            ("refuse-return", {"reason": 5}, "reason"),
            ("refuse-return", {"reason": "x", "note": "y"}, "note"),
            ("approve-return", {"note": ["同意"]}, "note"),
            ("approve-return", {"reason": "同意"}, "reason"),
            ("approve-return", {"version": "1"}, "version"),
        ],
    )
    def test_bad_decisions_are_400s_and_change_nothing(self, api, city, requested, action, body, field):
        before = snapshot(requested.number)
        assert_error(api(city.supervisor).post(url(requested, action), json=body), 400, "invalid_input", field)
        assert snapshot(requested.number) == before
        assert requests() == [("pending", "not_our_remit", "")]

    @pytest.mark.parametrize("action", ["approve-return", "refuse-return"])
    def test_an_unknown_ticket_is_404(self, api, city, action):
        response = api(city.supervisor).post(
            f"/api/v1/tickets/20990101-000001/{action}", json={"reason": "x"} if "refuse" in action else {}
        )
        assert_error(response, 404, "not_found")

    def test_no_token_is_401(self, client, city, requested):
        assert_error(client.post(url(requested, "approve-return")), 401, "unauthorized")
        assert_error(client.post(url(requested, "refuse-return"), json={"reason": "x"}), 401, "unauthorized")
        assert returns.pending_request(requested) is not None


def test_a_request_on_a_resolved_ticket_is_no_longer_shown(api, city, requested):
    """The department went on and resolved it meanwhile: nothing is pending any more for a client to decide."""
    tickets.accept(city.roads_staff, requested)
    tickets.resolve(city.roads_staff, requested, "已处理")
    body = api(city.supervisor).get(f"/api/v1/tickets/{requested.number}").get_json()
    assert body["status"] == Status.RESOLVED and body["return_request"] is None
    assert_error(api(city.supervisor).post(url(requested, "approve-return")), 409, "conflict")
