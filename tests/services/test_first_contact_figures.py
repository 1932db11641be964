"""The response-time report's first-contact figures (issue 17 item 6): first_contact_p50_hours,
first_contact_p90_hours, contacted_on_time_rate, from the day rows (the pre-aggregated path)
and live (`exact`), against a computation of their own from the tickets here."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Ticket
from hotline.models.types import utcnow
from hotline.services.reporting import report_figures, reports
from hotline.services.ticketing import tickets
from tests import factories

# Minutes from dispatch to the first contact; None: never contacted.
DELAYS = [5, 17, 45, 90, 119, 121, 240, 600, None, None, 30, 1500]


@pytest.fixture
def contacted(city) -> list[Ticket]:
    made = []
    for minutes in DELAYS:
        ticket = factories.make_routed_ticket(city.operator)
        ticket.dispatched_at = ticket.dispatched_at - timedelta(days=3)  # every deadline known by now
        ticket.contact_due_at = ticket.dispatched_at + timedelta(minutes=120)
        if minutes is not None:
            ticket.first_contacted_at = ticket.dispatched_at + timedelta(minutes=minutes)
        made.append(ticket)
    # One whose deadline is still ahead and not contacted: not decided, not counted.
    fresh = factories.make_routed_ticket(city.operator)
    fresh.contact_due_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    report_figures.rebuild()
    return made


def expected() -> dict[str, float | None]:
    rows = db.session.execute(select(Ticket.dispatched_at, Ticket.first_contacted_at, Ticket.contact_due_at)).all()
    hours = [(r.first_contacted_at - r.dispatched_at).total_seconds() / 3600 for r in rows if r.first_contacted_at]
    now = utcnow()
    decided = [r for r in rows if r.first_contacted_at is not None or r.contact_due_at < now]
    on_time = [r for r in decided if r.first_contacted_at is not None and r.first_contacted_at <= r.contact_due_at]
    return {
        "first_contact_p50_hours": round(float(np.percentile(hours, 50)), 2),
        "first_contact_p90_hours": round(float(np.percentile(hours, 90)), 2),
        "contacted_on_time_rate": round(len(on_time) / len(decided), 4),
    }


@pytest.mark.parametrize("exact", [True, False])
def test_the_first_contact_figures_agree_with_the_tickets(contacted, exact):
    today = utcnow().date()
    [row] = reports.report(today - timedelta(days=2), today + timedelta(days=1), group_by="all", exact=exact)
    figures = {name: getattr(row, name) for name in expected()}
    want = expected()
    assert figures["contacted_on_time_rate"] == want["contacted_on_time_rate"] == round(6 / 12, 4)
    if exact:
        assert figures == want
    else:  # read from histograms: within a minute, or 1 %
        for name in ("first_contact_p50_hours", "first_contact_p90_hours"):
            assert abs(figures[name] - want[name]) <= max(1 / 60, want[name] * 0.01) + 0.01


def test_the_api_report_carries_them(contacted, api, city):
    today = utcnow().date()
    start, end = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=1)).isoformat()
    answer = api(city.supervisor).get(f"/api/v1/reports/response-times?from={start}&to={end}&group_by=all&exact=true")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [row] = answer.get_json()
    assert {name: row[name] for name in expected()} == expected()


def test_a_contact_recorded_today_moves_the_figures(city):
    ticket = tickets.accept(city.roads_staff, factories.make_routed_ticket(city.operator))
    from hotline.services.citizens import citizen_contact

    citizen_contact.record_contact(city.roads_staff, ticket, "reached", "已联系")
    report_figures.refresh_dirty()
    today = utcnow().date()
    [row] = reports.report(today - timedelta(days=1), today + timedelta(days=1), group_by="all")
    assert row.contacted_on_time_rate == 1.0 and row.first_contact_p50_hours is not None
