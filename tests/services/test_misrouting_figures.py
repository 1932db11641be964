"""The misrouting report read from the day rows that the report refresh keeps
(`misrouting_figures`, issue 16 item 8: a month at 10 M tickets took 0.3 to 0.5 s counted as
asked): the same figures as counted from the tickets, the kept rows read for the days that did
not change since, the changed days counted from the tickets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import MisroutingFact
from hotline.services.reporting import misrouting_figures, report_figures, reports
from hotline.services.ticketing import tickets
from tests import factories


def world(city):
    """Tickets on three local days: held by the category default, returned and dispatched
    elsewhere, reassigned, a ping-pong."""
    made = []
    for days_ago in (2, 1, 0):
        kept = factories.make_routed_ticket(city.operator)
        returned = factories.make_routed_ticket(city.operator)
        tickets.return_to_dispatch(city.roads_staff, returned, "不归我们管")
        tickets.dispatch(city.dispatcher, returned, "water")
        reassigned = factories.make_routed_ticket(city.operator, category="water-supply")
        tickets.dispatch(city.dispatcher, reassigned, "roads")
        bounced = factories.make_routed_ticket(city.operator)
        tickets.return_to_dispatch(city.roads_staff, bounced, "不归我们管")
        tickets.dispatch(city.dispatcher, bounced, "roads", reason="属道路局")  # a ping-pong
        for ticket in (kept, returned, reassigned, bounced):
            ticket.created_at -= timedelta(days=days_ago)
        made += [kept, returned, reassigned, bounced]
    db.session.commit()
    return made


def figures(found) -> dict:
    return {table: [row.as_dict() for row in rows] for table, rows in found.items()}


def test_the_day_rows_give_the_figures_counted_from_the_tickets(city):
    made = world(city)
    zone = report_figures.timezone()
    last = report_figures.local_day(made[-1].created_at, zone)
    first = last - timedelta(days=2)
    assert report_figures.needs_rebuild()  # no day rows yet: counted from the tickets
    counted = figures(reports.misrouting(first, last, zone.key))
    assert counted["rules"] and counted["categories"]
    assert sum(row["ping_pong"] for row in counted["categories"]) == 3

    report_figures.rebuild()
    db.session.commit()
    assert db.session.scalar(select(MisroutingFact.id).limit(1)) is not None
    assert figures(reports.misrouting(first, last, zone.key)) == counted
    for day in (first, last):  # and each day alone
        alone = figures(reports.misrouting(day, day, zone.key))
        # Per day: 4 tickets, 3 of them routed twice (the first routing ended, the second holds).
        assert sum(row["routed"] for row in alone["categories"]) == 7


def test_unchanged_days_are_read_from_their_rows_and_changed_days_from_the_tickets(city):
    made = world(city)
    zone = report_figures.timezone()
    last = report_figures.local_day(made[-1].created_at, zone)
    first = last - timedelta(days=2)
    report_figures.rebuild()
    db.session.commit()
    truth = figures(reports.misrouting(first, last, zone.key))
    # A kept row changed behind the report's back shows: the rows are what is read.
    row = db.session.scalars(select(MisroutingFact).where(MisroutingFact.day == first)).first()
    row.routed += 100
    db.session.commit()
    assert figures(reports.misrouting(first, last, zone.key)) != truth
    # Marked changed (as any change to its tickets marks it), that day is counted from the
    # tickets again, until the refresh makes its rows anew.
    report_figures.mark_days([first])
    db.session.commit()
    assert figures(reports.misrouting(first, last, zone.key)) == truth
    report_figures.refresh_dirty()
    db.session.commit()
    assert not misrouting_figures.changed_days(first, last)
    assert figures(reports.misrouting(first, last, zone.key)) == truth


def test_a_return_after_the_rebuild_counts_at_once(city):
    made = world(city)
    zone = report_figures.timezone()
    last = report_figures.local_day(made[-1].created_at, zone)
    report_figures.rebuild()
    db.session.commit()
    before = {row.key: row for row in reports.misrouting(last, last, zone.key)["categories"]}
    late = factories.make_routed_ticket(city.operator)
    tickets.return_to_dispatch(city.roads_staff, late, "不归我们管")
    after = {row.key: row for row in reports.misrouting(last, last, zone.key)["categories"]}
    assert after["potholes"].routed == before["potholes"].routed + 1
    assert after["potholes"].returned == before["potholes"].returned + 1
