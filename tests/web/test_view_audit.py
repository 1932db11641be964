"""Every view of a ticket's personal data on the pages is recorded, and supervisors can list
who viewed a ticket; confidential tickets are "not found" for those who do not need them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, ViewRecord
from hotline.services.ticketing import tickets
from tests import factories
from tests.web.conftest import text_of


def records(ticket=None) -> list[tuple[str, str, str]]:
    """(username, what, via) of the recorded views, oldest first."""
    db.session.expire_all()
    query = select(ViewRecord).order_by(ViewRecord.id)
    if ticket is not None:
        query = query.where(ViewRecord.ticket_id == ticket.id)
    return [(r.user.username, r.what, r.via) for r in db.session.scalars(query)]


def test_the_ticket_page_records_who_saw_the_caller(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    assert login(city.operator).get(f"/tickets/{ticket.number}").status_code == 200
    assert login(city.roads_staff).get(f"/tickets/{ticket.number}").status_code == 200
    # The operator saw the number; the department the caller's name beside a masked number.
    assert records(ticket) == [("operator", "caller", "page"), ("roads_staff", "caller", "page")]
    row = db.session.scalar(select(ViewRecord))
    assert row.remote_addr == "127.0.0.1" and row.at is not None


def test_a_page_without_personal_data_is_recorded_as_a_ticket_view(login, city):
    ticket = factories.make_routed_ticket(city.operator, caller_name="")
    login(city.roads_staff).get(f"/tickets/{ticket.number}")
    assert records(ticket) == [("roads_staff", "ticket", "page")]


def test_a_confidential_ticket_is_recorded_as_such(login, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True)
    login(city.roads_staff).get(f"/tickets/{secret.number}")
    login(city.supervisor).get(f"/tickets/{secret.number}")
    assert records(secret) == [("roads_staff", "confidential", "page"), ("supervisor", "confidential", "page")]


def test_a_refused_view_records_nothing(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    assert login(city.water_staff).get(f"/tickets/{ticket.number}").status_code == 404
    assert records() == []


def test_the_ticket_list_records_one_row_per_caller_shown(login, city):
    shown = [factories.make_routed_ticket(city.operator, caller_phone=f"1380013800{i}") for i in range(3)]
    assert login(city.dispatcher).get("/tickets").status_code == 200
    assert sorted(records()) == sorted(("dispatcher", "caller", "list") for _ in shown)
    assert {r.ticket_id for r in db.session.scalars(select(ViewRecord))} == {t.id for t in shown}


def test_the_workbench_masks_numbers_so_records_only_confidential_lines(login, city):
    factories.make_routed_ticket(city.operator)
    secret = factories.make_routed_ticket(city.operator, confidential=True)
    assert login(city.roads_staff).get("/tickets").status_code == 200
    assert records() == [("roads_staff", "confidential", "list")]
    assert records(secret) == records()


class TestViewsPage:
    @pytest.fixture
    def viewed(self, login, city):
        ticket = factories.make_routed_ticket(city.operator)
        login(city.roads_staff).get(f"/tickets/{ticket.number}")
        login(city.operator).get(f"/tickets/{ticket.number}")
        return ticket

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_admins_list_who_viewed(self, login, city, viewed, who):
        client = login(getattr(city, who))
        page = text_of(client.get(f"/tickets/{viewed.number}"))
        assert f'href="/tickets/{viewed.number}/views"' in page
        response = client.get(f"/tickets/{viewed.number}/views")
        assert response.status_code == 200
        html = text_of(response)
        # Newest first: the supervisor's own look at the ticket page, then the operator's, then roads'.
        users = [u for u in ("roads_staff", "operator", who) if f'data-user="{u}"' in html]
        assert users == ["roads_staff", "operator", who]
        assert (
            html.index(f'data-user="{who}"')
            < html.index('data-user="operator"')
            < html.index('data-user="roads_staff"')
        )
        assert "Ticket page" in html and "127.0.0.1" in html

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_others_may_not(self, login, city, viewed, who):
        client = login(getattr(city, who))
        assert "/views" not in text_of(client.get(f"/tickets/{viewed.number}"))
        assert client.get(f"/tickets/{viewed.number}/views").status_code == 403

    def test_an_unknown_ticket_is_404(self, login, city):
        assert login(city.supervisor).get("/tickets/nope/views").status_code == 404

    def test_a_ticket_nobody_viewed(self, login, city):
        ticket = factories.make_routed_ticket(city.operator)
        assert "No one has viewed this ticket yet." in text_of(
            login(city.supervisor).get(f"/tickets/{ticket.number}/views")
        )


class TestConfidentialPages:
    @pytest.fixture
    def secret(self, city):
        return factories.make_routed_ticket(city.operator, confidential=True)  # with roads

    def test_not_found_for_those_who_need_it_not(self, login, city, secret):
        other_operator = factories.make_user(Role.OPERATOR, username="operator2")
        other_operator.locale = "en"
        db.session.commit()
        for user in (other_operator, city.dispatcher, city.water_staff):
            client = login(user)
            assert client.get(f"/tickets/{secret.number}").status_code == 404
            assert secret.number not in text_of(client.get("/tickets"))
        assert records() == []

    def test_shown_to_those_who_need_it(self, login, city, secret):
        for user in (city.operator, city.roads_staff, city.supervisor, city.admin):
            assert login(user).get(f"/tickets/{secret.number}").status_code == 200

    def test_the_dispatcher_places_it_then_goes_back_to_the_desk(self, login, city):
        pending = tickets.route(factories.make_ticket(city.operator, confidential=True, category="other").id)
        client = login(city.dispatcher)
        page = text_of(client.get(f"/tickets/{pending.number}"))
        assert page.count("/dispatch") >= 1
        version = pending.version
        response = client.post(f"/tickets/{pending.number}/dispatch", data={"department": "roads", "version": version})
        assert response.status_code == 302
        assert response.location == "/dispatch"  # no longer theirs to see: not a 404 page
        assert client.get(f"/tickets/{pending.number}").status_code == 404

    def test_earlier_tickets_of_the_caller_leave_out_what_the_viewer_may_not_see(self, login, city, secret):
        other_operator = factories.make_user(Role.OPERATOR, username="operator2")
        plain = factories.make_routed_ticket(other_operator)  # the same caller's number
        assert secret.number not in text_of(login(other_operator).get(f"/tickets/{plain.number}"))
        assert secret.number in text_of(login(city.supervisor).get(f"/tickets/{plain.number}"))

    def test_the_intake_history_leaves_them_out_too(self, login, city, secret):
        other_operator = factories.make_user(Role.OPERATOR, username="operator2")
        history = text_of(login(other_operator).get("/tickets/caller-history?phone=13800138000"))
        assert secret.number not in history
        assert secret.number in text_of(login(city.operator).get("/tickets/caller-history?phone=13800138000"))


def test_the_dispatch_desk_offers_no_confidential_duplicate_the_dispatcher_may_not_see(login, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True)  # with roads: not the dispatcher's
    waiting = tickets.route(factories.make_ticket(city.operator, category="other").id)  # same caller and text
    desk = text_of(login(city.dispatcher).get("/dispatch"))
    assert waiting.number in desk and secret.number not in desk
    assert f'data-number="{secret.number}"' in text_of(login(city.supervisor).get("/dispatch"))


def test_search_results_record_the_confidential_snippets_they_show(login, api, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True, description="举报路灯工程贪污问题")
    factories.make_routed_ticket(city.operator, description="路灯工程不亮")
    html = text_of(login(city.supervisor).get("/search?q=路灯工程"))
    assert secret.number in html
    assert records() == [("supervisor", "confidential", "list")]  # the plain ticket shows no caller: not recorded
    body = api(city.roads_staff).get("/api/v1/search/tickets?q=路灯工程").get_json()
    assert secret.number in [t["number"] for t in body["tickets"]]
    assert records(secret)[-1] == ("roads_staff", "confidential", "api")
