"""Response times per department: what supervisors review every morning.

Times: to accept = dispatched → accepted (minutes); to resolve = dispatched →
resolved (hours). Percentiles interpolate linearly between the closest ranks
(as numpy's default does). The tickets counted are those created within the
inclusive local dates asked for and held by (last dispatched to) a department.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, Status, Ticket
from hotline.models.types import utcnow

# 满意率 as 12345 hotlines report it: "satisfied" and "basically satisfied" both count.
SATISFIED = ("satisfied", "basically_satisfied")


@dataclass
class DepartmentTimes:
    department: str
    department_name: str
    tickets: int
    resolved: int
    accept_p50_minutes: float | None
    accept_p90_minutes: float | None
    resolve_p50_hours: float | None
    resolve_p90_hours: float | None
    resolved_on_time_rate: float | None
    overdue_open: int
    rated: int = 0  # tickets whose citizen answered the satisfaction survey
    satisfaction_rate: float | None = None  # satisfied or basically satisfied, among those rated

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 2)


def local_day_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """UTC instants from the start of `start` to the end of `end`, local dates inclusive."""
    zone = ZoneInfo(tz)
    low = datetime.combine(start, time.min, tzinfo=zone)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return low, high


def response_times(start: date, end: date, tz: str, now: datetime | None = None) -> list[DepartmentTimes]:
    now = now or utcnow()
    low, high = local_day_bounds(start, end, tz)
    rows = db.session.execute(
        select(
            Department.code,
            Department.name,
            Ticket.status,
            Ticket.dispatched_at,
            Ticket.accepted_at,
            Ticket.resolved_at,
            Ticket.resolve_due_at,
            Ticket.satisfaction,
        )
        .join(Department, Ticket.department_id == Department.id)
        # A merged duplicate is answered by its parent: each request counts once.
        .where(Ticket.created_at >= low, Ticket.created_at < high, Ticket.status != Status.MERGED)
    ).all()
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for row in rows:
        groups.setdefault(row.code, []).append(row)
        names[row.code] = row.name
    return [_summarise(code, names[code], groups[code], now) for code in sorted(groups)]


def _summarise(code: str, name: str, rows: list, now: datetime) -> DepartmentTimes:
    accept_minutes = [
        (r.accepted_at - r.dispatched_at).total_seconds() / 60 for r in rows if r.accepted_at and r.dispatched_at
    ]
    resolved = [r for r in rows if r.resolved_at is not None]
    resolve_hours = [(r.resolved_at - r.dispatched_at).total_seconds() / 3600 for r in resolved if r.dispatched_at]
    with_due = [r for r in resolved if r.resolve_due_at is not None]
    on_time = sum(1 for r in with_due if r.resolved_at <= r.resolve_due_at)
    overdue = sum(1 for r in rows if r.status in Status.OPEN and r.resolve_due_at and r.resolve_due_at < now)
    ratings = [r.satisfaction for r in rows if r.satisfaction]
    content = sum(1 for rating in ratings if rating in SATISFIED)
    return DepartmentTimes(
        department=code,
        department_name=name,
        tickets=len(rows),
        resolved=len(resolved),
        accept_p50_minutes=percentile(accept_minutes, 0.5),
        accept_p90_minutes=percentile(accept_minutes, 0.9),
        resolve_p50_hours=percentile(resolve_hours, 0.5),
        resolve_p90_hours=percentile(resolve_hours, 0.9),
        resolved_on_time_rate=round(on_time / len(with_due), 4) if with_due else None,
        overdue_open=overdue,
        rated=len(ratings),
        satisfaction_rate=round(content / len(ratings), 4) if ratings else None,
    )


@dataclass
class Misrouting:
    key: str  # rule id, routing kind, or category code
    label: str
    routed: int
    returned: int
    reassigned: int

    @property
    def rate(self) -> float | None:
        return round((self.returned + self.reassigned) / self.routed, 4) if self.routed else None

    def as_dict(self) -> dict:
        return {**asdict(self), "misrouting_rate": self.rate}


def misrouting(start: date, end: date, tz: str) -> dict[str, list[Misrouting]]:
    """Returns and reassignments counted against the routing that caused them, per rule (or
    routing kind: category default, suggestion, dispatcher) and per category, for tickets
    created in the range. A routing either still holds (it is on the ticket) or ended in an
    outcome, so routed = tickets it currently holds + its outcomes."""
    from hotline.models import Category, RoutingOutcome, RoutingRule

    low, high = local_day_bounds(start, end, tz)
    in_range = (Ticket.created_at >= low, Ticket.created_at < high)
    held = db.session.execute(
        select(Ticket.routed_by, Ticket.routing_rule_id, Ticket.category_id).where(
            *in_range, Ticket.routed_by.is_not(None)
        )
    ).all()
    ended = db.session.execute(
        select(RoutingOutcome.routed_by, RoutingOutcome.rule_id, RoutingOutcome.category_id, RoutingOutcome.kind)
        .join(Ticket, Ticket.id == RoutingOutcome.ticket_id)
        .where(*in_range)
    ).all()
    rules = {r.id: r.name for r in db.session.scalars(select(RoutingRule))}
    categories = {c.id: (c.code, c.name) for c in db.session.scalars(select(Category))}

    def rule_key(routed_by: str, rule_id: int | None) -> tuple[str, str]:
        if routed_by == "rule" and rule_id is not None:
            return f"rule:{rule_id}", rules.get(rule_id) or f"#{rule_id}"
        return routed_by, routed_by

    by_rule: dict[str, Misrouting] = {}
    by_category: dict[str, Misrouting] = {}
    for row in held:
        key, label = rule_key(row.routed_by, row.routing_rule_id)
        by_rule.setdefault(key, Misrouting(key, label, 0, 0, 0)).routed += 1
        code, name = categories[row.category_id]
        by_category.setdefault(code, Misrouting(code, name, 0, 0, 0)).routed += 1
    for row in ended:
        key, label = rule_key(row.routed_by, row.rule_id)
        code, name = categories[row.category_id]
        for table, k, lab in ((by_rule, key, label), (by_category, code, name)):
            entry = table.setdefault(k, Misrouting(k, lab, 0, 0, 0))
            entry.routed += 1
            if row.kind == "returned":
                entry.returned += 1
            else:
                entry.reassigned += 1

    def ranked(table: dict[str, Misrouting]) -> list[Misrouting]:
        return sorted(table.values(), key=lambda m: (-(m.returned + m.reassigned), m.key))

    return {"rules": ranked(by_rule), "categories": ranked(by_category)}
