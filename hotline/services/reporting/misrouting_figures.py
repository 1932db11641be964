"""The misrouting report's counts (`reports.misrouting`): per routing (rule or kind) and
category, how many tickets it routed, how many came back (returned, reassigned) and the
dispatches back to a department that had returned the ticket (ping-pong).

Counted from the tickets, a month is 411,000 tickets at 10,000,000 (0.3 to 0.5 s, issue 16
item 8). So the report refresh keeps them as day rows (`MisroutingFact`, by the local day the
tickets were created, refreshed with that day's figures in `report_figures.refresh_day`), and a
range sums its days' rows; the days marked changed and not refreshed yet are counted from the
tickets, so the report is exact as of now, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select

from hotline.extensions import db
from hotline.models import RoutingOutcome, Ticket
from hotline.models.report import MisroutingFact, ReportDirtyDay
from hotline.services.dispatch import ping_pong


@dataclass(frozen=True)
class Count:
    """Counts of one routing (`routed_by`, `rule_id`) and category; the report adds them up."""

    routed_by: str
    rule_id: int | None
    category_id: int
    routed: int = 0
    returned: int = 0
    reassigned: int = 0
    ping_pong: int = 0


def counted(low: datetime, high: datetime) -> list[Count]:
    """The counts of the tickets created in [low, high), from the tickets. A routing either still
    holds (it is on the ticket) or ended in an outcome: routed = held + outcomes."""
    in_range = (Ticket.created_at >= low, Ticket.created_at < high)
    held_columns = (Ticket.routed_by, Ticket.routing_rule_id, Ticket.category_id)
    held = db.session.execute(
        select(*held_columns, func.count().label("n"))
        .where(*in_range, Ticket.routed_by.is_not(None))
        .group_by(*held_columns)
    ).all()
    ended_columns = (RoutingOutcome.routed_by, RoutingOutcome.rule_id, RoutingOutcome.category_id, RoutingOutcome.kind)
    ended = db.session.execute(
        select(*ended_columns, func.count().label("n"))
        .join(Ticket, Ticket.id == RoutingOutcome.ticket_id)
        .where(*in_range)
        .group_by(*ended_columns)
    ).all()
    counts = [Count(row.routed_by, row.routing_rule_id, row.category_id, routed=row.n) for row in held]
    for row in ended:
        returned = row.n if row.kind == "returned" else 0
        counts.append(Count(row.routed_by, row.rule_id, row.category_id, row.n, returned, row.n - returned))
    # Only a dispatcher sends a ticket back to a department that returned it: counted on their row.
    for category_id, number in ping_pong.count_by_category(low, high).items():
        counts.append(Count("dispatcher", None, category_id, ping_pong=number))
    return counts


def refresh_day(day: date, low: datetime, high: datetime) -> None:
    """Replace the day rows of local day `day` ([low, high) in UTC); the caller commits."""
    db.session.execute(delete(MisroutingFact).where(MisroutingFact.day == day))
    rows = [{"day": day, **vars(count)} for count in _merged(counted(low, high))]
    if rows:
        db.session.execute(insert(MisroutingFact), rows)


def delete_outside(start: date, end: date) -> None:
    """A rebuild's first step: no rows left for days without tickets."""
    db.session.execute(delete(MisroutingFact).where((MisroutingFact.day < start) | (MisroutingFact.day > end)))


def changed_days(start: date, end: date) -> list[date]:
    """The days from `start` to `end` marked changed since their rows were made."""
    query = select(ReportDirtyDay.day).where(ReportDirtyDay.day >= start, ReportDirtyDay.day <= end)
    return sorted(db.session.scalars(query))


def summed(start: date, end: date, leaving: list[date]) -> list[Count]:
    """The day rows from `start` to `end` added up, but for the days `leaving`."""
    totals = (func.sum(MisroutingFact.routed), func.sum(MisroutingFact.returned))
    totals += (func.sum(MisroutingFact.reassigned), func.sum(MisroutingFact.ping_pong))
    keys = (MisroutingFact.routed_by, MisroutingFact.rule_id, MisroutingFact.category_id)
    rows = db.session.execute(
        select(*keys, *totals)
        .where(MisroutingFact.day >= start, MisroutingFact.day <= end, MisroutingFact.day.not_in(leaving))
        .group_by(*keys)
    ).all()
    return [
        Count(routed_by, rule_id, category_id, *map(int, values)) for routed_by, rule_id, category_id, *values in rows
    ]


def _merged(counts: list[Count]) -> list[Count]:
    """One count per routing and category."""
    totals: dict[tuple[str, int | None, int], list[int]] = {}
    for count in counts:
        total = totals.setdefault((count.routed_by, count.rule_id, count.category_id), [0, 0, 0, 0])
        for i, value in enumerate((count.routed, count.returned, count.reassigned, count.ping_pong)):
            total[i] += value
    return [Count(*key, *values) for key, values in totals.items()]
