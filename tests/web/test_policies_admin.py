"""The SLA policies page: list with the defaults for reference, create, edit, delete."""

import re

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import SlaPolicy
from hotline.services.clocks import policies, sla
from tests import factories
from tests.web.conftest import text_of

FORM = {
    "category": "infrastructure",
    "urgency": "normal",
    "accept_amount": "2",
    "accept_unit": "working_hours",
    "resolve_amount": "3",
    "resolve_unit": "working_days",
    "return_window_days": "1",
    "max_extension_days": "5",
}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SlaPolicy))


def _policy(city, **overrides) -> SlaPolicy:
    values = {**{k: (int(v) if v.isdigit() else v) for k, v in FORM.items()}, **overrides}
    return policies.create_policy(city.admin, values)


def test_only_administrators_manage_policies(login, city):
    policy = _policy(city)
    for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
        client = login(user)
        for url in ("/admin/sla-policies/", "/admin/sla-policies/new", f"/admin/sla-policies/{policy.id}/edit"):
            assert client.get(url).status_code == 403, (user.role, url)
        assert client.post("/admin/sla-policies/new", data={**FORM, "urgency": "urgent"}).status_code == 403
        assert client.post(f"/admin/sla-policies/{policy.id}/delete").status_code == 403
    assert _count() == 1


def test_list_shows_the_defaults_for_reference(login, city):
    html = text_of(login(city.admin).get("/admin/sla-policies/"))
    defaults = html[html.index('id="defaults"') :]
    assert "4 working hours" in defaults and "5 working days" in defaults
    assert "30 minutes" in defaults and "24 hours" in defaults
    assert "No policies yet" in html


def test_create_a_policy_and_it_applies_to_new_dispatches(login, city):
    client = login(city.admin)
    response = client.post("/admin/sla-policies/new", data=FORM)
    assert response.status_code == 302
    policy = db.session.scalars(select(SlaPolicy)).one()
    assert policy.category == city.infrastructure
    assert (policy.accept_amount, policy.accept_unit, policy.resolve_amount, policy.resolve_unit) == (
        2,
        "working_hours",
        3,
        "working_days",
    )
    assert (policy.return_window_days, policy.max_extension_days) == (1, 5)
    html = text_of(client.get("/admin/sla-policies/"))
    assert "SLA policy saved." in html
    row = re.search(rf'<tr id="policy-{policy.id}">.*?</tr>', html, re.S).group(0)
    for shown in ("城乡建设", "Normal", "2 working hours", "3 working days", "1 working day", "5 working days"):
        assert shown in row, shown
    # A pothole (below 城乡建设) dispatched now takes the policy.
    ticket = factories.make_routed_ticket(city.operator)
    assert ticket.sla_terms["source"] == "infrastructure"
    assert sla.terms_for(city.potholes, "normal").resolve_amount == 3


def test_hotline_wide_policy(login, city):
    response = login(city.admin).post("/admin/sla-policies/new", data={**FORM, "category": "", "urgency": "urgent"})
    assert response.status_code == 302
    policy = db.session.scalars(select(SlaPolicy)).one()
    assert policy.category is None and policy.urgency == "urgent"
    assert "The whole hotline" in text_of(login(city.admin).get("/admin/sla-policies/"))


def test_validation_errors_show_on_the_form_and_save_nothing(login, city):
    client = login(city.admin)
    cases = {
        "not a number": ({"accept_amount": "two"}, "Enter a whole number."),
        "negative": ({"resolve_amount": "-3"}, "Enter a whole number."),
        "empty": ({"return_window_days": ""}, "Enter a whole number."),
        "too long": ({"resolve_amount": "9" * 500}, "Enter a whole number."),
        "out of range": ({"resolve_amount": "900"}, "must be a whole number from 1 to 250"),
        "zero": ({"accept_amount": "0"}, "must be a whole number from 1 to 200"),
        "unknown unit": ({"accept_unit": "fortnights"}, "must be one of: working_hours, calendar_minutes"),
        "unknown category": ({"category": "nowhere"}, "Unknown category “nowhere”."),
    }
    for case, (change, message) in cases.items():
        response = client.post("/admin/sla-policies/new", data={**FORM, **change})
        html = text_of(response)
        assert response.status_code == 400, case
        assert message in html, case
        assert "is-invalid" in html, case
    assert _count() == 0


def test_a_second_policy_for_the_same_category_and_urgency_is_refused(login, city):
    first = _policy(city)
    response = login(city.admin).post("/admin/sla-policies/new", data={**FORM, "resolve_amount": "9"})
    assert response.status_code == 400
    assert f"already has a policy for normal tickets (policy {first.id})" in text_of(response)
    assert _count() == 1


def test_edit_a_policy(login, city):
    policy = _policy(city)
    client = login(city.admin)
    html = text_of(client.get(f"/admin/sla-policies/{policy.id}/edit"))
    assert 'value="3"' in html and '<option selected value="infrastructure">' in html
    response = client.post(
        f"/admin/sla-policies/{policy.id}/edit",
        data={**FORM, "resolve_amount": "240", "resolve_unit": "calendar_hours"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    policy = db.session.get(SlaPolicy, policy.id)
    assert (policy.resolve_amount, policy.resolve_unit) == (240, "calendar_hours")
    response = client.post(f"/admin/sla-policies/{policy.id}/edit", data={**FORM, "accept_amount": "x"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(SlaPolicy, policy.id).accept_amount == 2


def test_delete_asks_first(login, city):
    policy = _policy(city)
    client = login(city.admin)
    html = text_of(client.get(f"/admin/sla-policies/{policy.id}/delete"))
    assert "Delete this policy?" in html
    assert _count() == 1
    response = client.post(f"/admin/sla-policies/{policy.id}/delete", follow_redirects=True)
    assert "SLA policy deleted." in text_of(response)
    assert _count() == 0


def test_unknown_policy_is_404(login, city):
    client = login(city.admin)
    for url in ("/admin/sla-policies/77/edit", "/admin/sla-policies/99999999999999999999/delete"):
        assert client.get(url).status_code == 404, url
