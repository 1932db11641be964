"""Figures by level (issue 17, item 6): the department report rolls up the unit tree as the
category report does; a district's row counts its streets' tickets; drill-down agrees."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Ticket
from hotline.models.types import utcnow
from hotline.services.reporting import report_figures, reports
from hotline.services.reporting.report_figures import local_day, timezone
from hotline.services.reporting.reports import department_subtree, departments_to_level
from hotline.services.ticketing import tickets, tree
from tests import factories


def unit(code, parent=None):
    made = factories.make_department(code, f"单位 {code}")
    made.parent = parent
    db.session.commit()
    return made


def test_the_district_row_counts_its_streets_tickets_exactly(city):
    district = unit("east-district")
    streets = [unit("east-s1", district), unit("east-s2", district)]
    community = unit("east-s1-c1", streets[0])
    for code, n in (("east-district", 1), ("east-s1", 2), ("east-s2", 1), ("east-s1-c1", 1), ("water", 2)):
        for _ in range(n):
            ticket = factories.make_routed_ticket(city.operator, category="other")
            tickets.dispatch(city.dispatcher, ticket, code)
    report_figures.refresh_dirty()  # the day rows, as the minute's job makes them
    today = local_day(utcnow(), timezone())
    independent = {
        code: db.session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.department_id.in_(department_subtree(code)))
        )
        for code in ("east-district", "east-s1", "east-s2", "east-s1-c1", "water", "roads")
    }
    assert independent["east-district"] == 5 and independent["east-s1"] == 3  # the test's own count
    for exact in (True, False):
        rows = {row.key: row.received for row in reports.report(today, today, "department", exact=exact)}
        for code, n in independent.items():
            assert rows.get(code, 0) == n, (exact, code)
    assert departments_to_level(1) == {"roads", "water", "east-district"}
    assert departments_to_level(2) == {"roads", "water", "east-district", "east-s1", "east-s2"}
    assert community.code in departments_to_level(3)
    level_one = reports.report(today, today, "department", keys=departments_to_level(1))
    assert {row.key: row.received for row in level_one} == {"east-district": 5, "water": 2}
    drilled = db.session.scalars(reports.drill_down(today, today, "department", "east-s1", "received"))
    assert len(list(drilled)) == 3


def test_the_api_takes_level_for_departments(city, api):
    district = unit("west-district")
    unit("west-s1", district)
    ticket = factories.make_routed_ticket(city.operator, category="other")
    tickets.dispatch(city.dispatcher, ticket, "west-s1")
    report_figures.refresh_dirty()
    today = local_day(utcnow(), timezone()).isoformat()
    body = (
        api(city.supervisor)
        .get(f"/api/v1/reports/response-times?from={today}&to={today}&group_by=department&level=1")
        .get_json()
    )
    assert {row["key"]: row["received"] for row in body} == {"west-district": 1}
    body = (
        api(city.supervisor)
        .get(f"/api/v1/reports/response-times?from={today}&to={today}&group_by=department&level=2")
        .get_json()
    )
    assert {row["key"]: row["received"] for row in body} == {"west-district": 1, "west-s1": 1}
    assert utcnow() - ticket.created_at < timedelta(hours=1)


def test_returns_up_and_refusals_per_unit_and_per_handler(city, api):
    street = unit("roads-s1", city.roads)
    staff = factories.make_user("department", street, username="s1_staff")
    other = factories.make_user("department", street, username="s1_other")
    for returner in (staff, other, staff):
        ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
        tree.subdispatch(city.roads_staff, ticket, "roads-s1")
        tree.return_up(returner, ticket, "不属于本街道")
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
    tree.subdispatch(city.roads_staff, ticket, "roads-s1")
    tickets.accept(staff, ticket)
    tickets.resolve(staff, ticket, "已处理。")
    tree.review(city.roads_staff, ticket, False, "未说明整改时限")
    today = local_day(utcnow(), timezone()).isoformat()
    path = f"/api/v1/reports/units?from={today}&to={today}"
    (row,) = api(city.supervisor).get(path).get_json()
    assert row == {
        "department": "roads-s1",
        "sent_down": 4,
        "returned_up": 3,
        "replies_sent_up": 1,
        "replies_refused": 1,
    }
    assert api(city.roads_staff).get(path).status_code == 403  # not the lead
    lead = factories.make_user("department", street, username="s1_lead")
    lead.is_unit_lead = True
    db.session.commit()
    (row,) = api(lead).get(path).get_json()
    assert {h["handler"]: h["returned_up"] for h in row["handlers"]} == {"s1_staff": 2, "s1_other": 1}
    assert api(lead).get(path + "&unit=roads").status_code == 403
