"""A small hand-made data set for the report pages' tests: tickets whose clocks are set directly,
then the day rows refreshed, as the sweep would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.services.reporting import report_figures
from hotline.services.ticketing import derived, tickets
from tests import factories

# A custom week in the past, and the week before it (the previous period of the same length).
START, END = date(2026, 11, 2), date(2026, 11, 8)
PREVIOUS = date(2026, 10, 28)
RANGE = f"from={START}&to={END}"
M, H = timedelta(minutes=1), timedelta(hours=1)


def at_local_ten(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def make(
    actor,
    day: date,
    *,
    accepted: timedelta | None = None,
    resolved: timedelta | None = None,
    accept_due: timedelta | None = 30 * M,
    resolve_due: timedelta | None = 5 * H,
    satisfaction: str | None = None,
    dispatched: bool = True,
    **intake,
) -> Ticket:
    """A ticket held by its category's department, its clocks set directly (dispatched at logging)."""
    ticket = factories.make_ticket(actor, **intake)
    created = at_local_ten(day)
    ticket.created_at = created
    if dispatched:
        ticket.department_id = ticket.category.routing_department.id
        ticket.dispatched_at = created
        ticket.accept_due_at = created + accept_due if accept_due is not None else None
        ticket.resolve_due_at = created + resolve_due if resolve_due is not None else None
    ticket.accepted_at = created + accepted if accepted is not None else None
    ticket.resolved_at = created + resolved if resolved is not None else None
    if resolved is not None:
        ticket.status = Status.RESOLVED
    elif accepted is not None:
        ticket.status = Status.IN_PROGRESS
    elif dispatched:
        ticket.status = Status.DISPATCHED
    ticket.satisfaction = satisfaction
    derived.tickets_changed([ticket])  # as every writer of tickets does: its report day is marked
    db.session.commit()
    return ticket


@dataclass
class Data:
    on_time: Ticket
    late: Ticket
    overdue: Ticket
    water: Ticket
    direct: Ticket
    returned: Ticket
    before: Ticket


def make_data(city) -> Data:
    day = date(2026, 11, 3)
    d = Data(
        # roads: on time throughout, and rated satisfied
        on_time=make(city.operator, day, accepted=10 * M, resolved=2 * H, satisfaction="satisfied"),
        # roads: accepted late, resolved late, rated not satisfied; from the west, by web
        late=make(
            city.operator,
            day,
            accepted=50 * M,
            resolved=6 * H,
            satisfaction="unsatisfied",
            district="west",
            channel="web",
        ),
        # roads: never accepted, both deadlines long past: late to accept and overdue now
        overdue=make(city.operator, day + timedelta(days=1)),
        # water: accepted and resolved on time; a request for help
        water=make(city.operator, day, accepted=20 * M, resolved=3 * H, category="water-supply", type="help"),
        # a consultation answered at intake
        direct=factories.make_ticket(city.operator, type="consultation", category="other", direct_answer="已答复"),
        # sent to water by mistake and returned: awaits the dispatcher again
        returned=factories.make_routed_ticket(city.operator, category="water-supply"),
        # the previous week: roads, late
        before=make(city.operator, PREVIOUS, accepted=40 * M, resolved=8 * H),
    )
    tickets.return_to_dispatch(city.water_staff, d.returned, "不归我们")
    for ticket in (d.direct, d.returned):
        ticket.created_at = at_local_ten(day + timedelta(days=2))
    derived.tickets_changed([d.direct, d.returned])
    db.session.commit()
    report_figures.refresh_dirty()
    db.session.commit()
    return d
