"""The dashboard's units in a tree (issue 17 item 6), as its categories: per department, the first
level of the tree by default, a district's row counting the tickets of its streets; `level=2` or
`level=all` shows the streets' own rows too; the links between levels keep the other arguments."""

from __future__ import annotations

from hotline.extensions import db
from hotline.services.reporting import report_figures
from hotline.web.report_params import hotline_today
from tests import factories
from tests.web.conftest import text_of
from tests.web.test_reports import rows


def test_a_district_row_counts_its_streets_tickets_and_the_streets_show_when_asked(login, city):
    street = factories.make_department("roads-east", "东城街道办事处")
    street.parent = city.roads
    db.session.commit()
    factories.make_category("street-lights", street, name="路灯")
    ticket = factories.make_routed_ticket(city.operator, category="street-lights")  # the city sends it to the street
    assert ticket.department == street
    report_figures.refresh_dirty()
    today = hotline_today().isoformat()
    span = f"from={today}&to={today}&group_by=department"
    client = login(city.supervisor)

    top = text_of(client.get(f"/reports/response-times?{span}"))
    table = top.split('id="ranking"')[0]
    assert rows(table, "data-department", "roads")["received"] == "1"  # the street's ticket, rolled up
    assert 'data-department="roads-east"' not in table
    assert "level=all" in top and "level=2" in top

    every = text_of(client.get(f"/reports/response-times?{span}&level=all"))
    assert rows(every, "data-department", "roads-east")["received"] == "1"
    assert rows(every, "data-department", "roads")["received"] == "1"
    assert "every unit above it" in every or "上级单位" in every
