"""The routing rules page (派单目录): list, create, edit, delete, and the "which department?" tester."""

import re

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import RoutingRule
from hotline.services.dispatch import routing
from tests import factories
from tests.web.conftest import text_of

FORM = {
    "priority": "10",
    "name": "路灯归城管",
    "category": "infrastructure",
    "district": "east",
    "type": "complaint",
    "urgency": "",
    "keywords": "路灯，不亮\n灯杆",
    "department": "water",
    "assisting": ["roads"],
    "active": "y",
}


def _rule_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RoutingRule))


def _saved_rule(**overrides) -> RoutingRule:
    fields = {
        "priority": 10,
        "name": "路灯归城管",
        "category": "infrastructure",
        "district": "east",
        "keywords": ["路灯"],
        "department": "water",
        "assisting": ["roads"],
    }
    fields.update(overrides)
    return routing.save_rule(fields)


def test_only_administrators_manage_rules(login, city):
    rule = _saved_rule()
    for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
        client = login(user)
        for url in ("/admin/routing-rules/", "/admin/routing-rules/new", f"/admin/routing-rules/{rule.id}/edit"):
            assert client.get(url).status_code == 403, (user.role, url)
        assert client.post("/admin/routing-rules/new", data=FORM).status_code == 403
        assert client.post(f"/admin/routing-rules/{rule.id}/delete").status_code == 403
    assert _rule_count() == 1


def test_create_a_rule_and_see_it_listed_readably(login, city):
    client = login(city.admin)
    response = client.post("/admin/routing-rules/new", data=FORM)
    assert response.status_code == 302
    assert response.location == "/admin/routing-rules/"
    rule = db.session.scalars(select(RoutingRule)).one()
    assert (rule.priority, rule.name, rule.type, rule.urgency) == (10, "路灯归城管", "complaint", None)
    assert rule.category == city.infrastructure and rule.district == city.east
    assert rule.keywords == ["路灯", "不亮", "灯杆"]  # commas (Chinese ones too) and new lines separate them
    assert rule.department == city.water and rule.assisting == [city.roads]
    assert rule.active is True
    html = text_of(client.get("/admin/routing-rules/"))
    assert "Routing rule “路灯归城管” saved." in html
    row = re.search(rf'<tr id="rule-{rule.id}".*?</tr>', html, re.S).group(0)
    for shown in ("城乡建设", "东城区", "Complaint", "路灯", "灯杆", "水务局", "道路管理局", "Active"):
        assert shown in row, shown


def test_validation_errors_show_on_the_form_and_save_nothing(login, city):
    client = login(city.admin)
    cases = {
        "lead also assisting": ({"assisting": ["water"]}, "The lead department cannot also assist."),
        "no lead": ({"department": ""}, "Choose the lead department."),
        "priority not a number": ({"priority": "first"}, "Priority must be a whole number."),
        "priority too big": ({"priority": "99999999999999999999"}, "Priority must be from 0 to 1000000."),
        "unknown category": ({"category": "nowhere"}, "Unknown category “nowhere”."),
        "unknown type": ({"type": "rumour"}, "Unknown ticket type “rumour”."),
    }
    for case, (change, message) in cases.items():
        response = client.post("/admin/routing-rules/new", data={**FORM, **change})
        html = text_of(response)
        assert response.status_code == 400, case
        assert message in html, case
        assert "is-invalid" in html, case
        assert 'value="路灯归城管"' in html, case  # what was typed stays in the form
    assert _rule_count() == 0


def test_edit_a_rule(login, city):
    rule = _saved_rule()
    client = login(city.admin)
    html = text_of(client.get(f"/admin/routing-rules/{rule.id}/edit"))
    assert 'value="路灯归城管"' in html
    assert '<option selected value="water">' in html
    assert "路灯</textarea>" in html
    response = client.post(
        f"/admin/routing-rules/{rule.id}/edit",
        data={**FORM, "priority": "5", "district": "", "assisting": [], "active": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    rule = db.session.get(RoutingRule, rule.id)
    assert rule.priority == 5 and rule.district is None and rule.assisting == [] and rule.active is False
    # A wrong edit leaves the rule as it was.
    response = client.post(f"/admin/routing-rules/{rule.id}/edit", data={**FORM, "assisting": ["water"]})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(RoutingRule, rule.id).priority == 5


def test_delete_asks_first(login, city):
    rule = _saved_rule()
    client = login(city.admin)
    html = text_of(client.get(f"/admin/routing-rules/{rule.id}/delete"))
    assert "Delete this rule?" in html and "路灯归城管" in html
    assert _rule_count() == 1
    response = client.post(f"/admin/routing-rules/{rule.id}/delete")
    assert response.status_code == 302
    assert _rule_count() == 0
    assert "Routing rule “路灯归城管” deleted." in text_of(client.get(response.location))


def test_unknown_rule_is_404(login, city):
    client = login(city.admin)
    for url in ("/admin/routing-rules/999/edit", "/admin/routing-rules/99999999999999999999/delete"):
        assert client.get(url).status_code == 404, url


def test_tester_shows_the_decision_and_the_trace(login, city):
    _saved_rule(priority=1, name="只管西城", district="west")
    _saved_rule(priority=2, name="路灯归水务", district=None)
    client = login(city.admin)
    sample = "category=potholes&district=east&type=complaint&urgency=normal&description=小区路灯不亮"
    html = text_of(client.get(f"/admin/routing-rules/?{sample}"))
    decision = html[html.index('class="decision') :]
    assert "Lead department: <strong>水务局</strong>" in decision
    assert "Assisting: <strong>道路管理局</strong>" in decision
    assert "路灯归水务" in decision
    trace = re.findall(r"<tr class=\"[^\"]*\">\s*<td>(.*?)</td>\s*<td>(.*?)</td>", html[html.index("trace") :], re.S)
    assert len(trace) == 2
    assert "只管西城" in trace[0][0] and "Not matched: District" in trace[0][1] and "西城区" in trace[0][1]
    assert "路灯归水务" in trace[1][0] and "Matched" in trace[1][1]
    # No keyword in the text: the rule fails on keywords; the category default (roads) takes it.
    html = text_of(client.get("/admin/routing-rules/?category=potholes&district=east&description=路面有坑"))
    assert "Lead department: <strong>道路管理局</strong>" in html
    assert "Not matched: Keywords" in html
    assert "Why: the category's default department" in html


def test_tester_needs_a_known_category(login, city):
    client = login(city.admin)
    assert "Choose a category." in text_of(client.get("/admin/routing-rules/?category=&description=x"))
    html = text_of(client.get("/admin/routing-rules/?category=bogus&district=nowhere"))
    assert "Unknown category “bogus”." in html
    assert "Lead department:" not in html


def test_rule_routes_the_ticket_it_was_tested_for(login, city):
    """What the tester says is what routing does."""
    _saved_rule(priority=2, name="路灯归水务", district=None)
    ticket = factories.make_routed_ticket(city.operator, description="小区路灯不亮")
    assert ticket.department == city.water
