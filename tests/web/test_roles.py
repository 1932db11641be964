"""Every page checks the role: anonymous visitors go to the login page, a wrong role gets 403."""

import pytest

from hotline.models import Role
from tests.web.conftest import text_of

ALL = set(Role.ALL)
PAGES = {
    "/tickets/new": {Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN},
    "/tickets/caller-history?phone=13800138000": {Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN},
    "/tickets": ALL,
    "/dispatch": {Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN},
    "/reports/response-times": {Role.SUPERVISOR, Role.ADMIN},
    "/reports/misrouting": {Role.SUPERVISOR, Role.ADMIN},
    "/supervision/overdue": {Role.SUPERVISOR, Role.ADMIN},
    "/admin/routing-rules/": {Role.ADMIN},
    "/admin/routing-rules/new": {Role.ADMIN},
    "/admin/sla-policies/": {Role.ADMIN},
    "/admin/sla-policies/new": {Role.ADMIN},
    "/admin/calendar/": {Role.ADMIN},
}


@pytest.mark.parametrize("url", [*PAGES, "/"])
def test_anonymous_goes_to_login(client, city, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_each_role_gets_its_pages_and_403_elsewhere(login, city):
    users = {
        Role.OPERATOR: city.operator,
        Role.DISPATCHER: city.dispatcher,
        Role.DEPARTMENT: city.roads_staff,
        Role.SUPERVISOR: city.supervisor,
        Role.ADMIN: city.admin,
    }
    for role, user in users.items():
        client = login(user)
        for url, allowed in PAGES.items():
            response = client.get(url)
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, (role, url)
            if expected == 403:
                assert "Your role may not use this page." in text_of(response)


def test_the_menu_shows_only_the_desks_of_the_role(login, city):
    html = login(city.roads_staff).get("/tickets").get_data(as_text=True)
    assert 'href="/tickets/new"' not in html
    assert 'href="/dispatch"' not in html
    assert 'href="/reports/response-times"' not in html
    html = login(city.supervisor).get("/tickets").get_data(as_text=True)
    for link in ('href="/tickets/new"', 'href="/dispatch"', 'href="/reports/response-times"'):
        assert link in html


def test_unknown_page_is_a_404_page_but_api_paths_keep_their_own_answer(login, city):
    client = login(city.operator)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "<nav" in response.get_data(as_text=True)
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert "<nav" not in response.get_data(as_text=True)


def test_dispatch_action_needs_a_dispatch_role(login, city):
    from tests import factories

    ticket = factories.make_routed_ticket(city.operator, category="other")
    response = login(city.operator).post(
        f"/tickets/{ticket.number}/dispatch", data={"department": "roads", "version": ticket.version}
    )
    assert response.status_code == 403
    assert ticket.status == "pending_dispatch"


def test_the_menu_has_the_new_desks_per_role(login, city):
    admin_links = ('href="/admin/routing-rules/"', 'href="/admin/sla-policies/"', 'href="/admin/calendar/"')
    html = login(city.supervisor).get("/tickets").get_data(as_text=True)
    assert 'href="/supervision/overdue"' in html and 'href="/reports/misrouting"' in html
    assert not any(link in html for link in admin_links)
    html = login(city.admin).get("/tickets").get_data(as_text=True)
    assert 'href="/supervision/overdue"' in html
    assert all(link in html for link in admin_links)
    for user in (city.operator, city.dispatcher, city.roads_staff):
        html = login(user).get("/tickets").get_data(as_text=True)
        assert 'href="/supervision/overdue"' not in html and 'href="/admin/' not in html
        assert 'href="/reports/misrouting"' not in html
