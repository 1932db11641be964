"""Millions of realistic past tickets, fast: the data behind the reports benchmark.

`flask --app hotline seed-load --tickets N` calls `load`. Tickets are generated with
numpy, one local day at a time, and written in batches with the driver's own bulk
path (executemany on SQLite, COPY on PostgreSQL), so memory stays bounded whatever N.
They bypass the ORM: no events, no dirty-day marks, no ticket numbers from the
counter (numbers are `LYYYYMMDD-NNNNNNN`, a pattern intake never hands out). The
caller rebuilds the report figures afterwards.

Distributions, all seeded:
- daily volume: growth over the years, a weekly rhythm (rest days about half), a
  summer peak, day-to-day noise; hours follow the demo's office-hours curve;
- categories Zipf-like over the leaves of the tree; the lead department is the
  category's routing department (a dispatcher's choice when it has none);
- districts weighted, channels mostly phone, types with 40 % consultations, most of
  them direct answers (closed at intake, never dispatched);
- log-normal clocks: dispatch minutes, accept minutes (some past the 4-hour limit),
  resolve hours with a heavy tail (about 10 % past the 5-day limit); deadlines are
  those limits in calendar time, an approximation of the working-time SLA;
- statuses follow from the clocks against now: old tickets resolved or closed,
  recent ones open, a few stuck and overdue (most of them recent); ratings on about 60 % of resolved
  tickets, mostly satisfied; a few returned (a RoutingOutcome row) or reopened.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import Connection, func, select

from hotline.demo import demo
from hotline.extensions import db
from hotline.models import Category, Channel, Department, District, Role, RoutingOutcome, Status, Ticket, User
from hotline.models.types import utcnow
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import Conflict, InvalidInput

DEFAULT_DAYS = 730
DEFAULT_SEED = 20231
BATCH = 20_000
NUMBER_PREFIX = "L"

TYPES = ["consultation", "help", "complaint", "report", "suggestion", "praise"]
TYPE_WEIGHTS = [40, 23, 21, 8, 6, 2]
# Of the one list of channels (models.Channel): those people log calls on.
CHANNELS = [c.value for c in (Channel.PHONE, Channel.WEB, Channel.SMS, Channel.VOICEMAIL, Channel.API, Channel.OPEN311)]
CHANNEL_WEIGHTS = [72, 12, 5, 4, 4, 3]
DIRECT_SHARE = 0.72  # of consultations, answered at intake
HOUR_WEIGHTS = [0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 7, 6, 3, 4, 6, 6, 5, 4, 2.5, 2.5, 2, 1.5, 1, 0.5]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢"
ROADS = ["人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "长江路", "黄河路", "文化路", "胜利街"]
TEMPLATES = [
    "市民来电反映{district}{road}附近{category}问题，希望相关部门尽快处理。",
    "市民咨询{category}相关政策及办理流程。",
    "{district}{road}一带{category}问题反复出现，市民要求彻查。",
    "市民询问{category}方面的规定，以及应向哪个部门办理。",
    "关于{category}：{district}居民希望加强管理，并给予答复。",
    "市民来电投诉{district}{category}问题影响正常生活。",
]
QUESTION_TEMPLATES = [1, 3]
PROBLEM_TEMPLATES = [0, 2, 4, 5]
DIRECT_ANSWER = "已按知识库向市民解答，市民表示清楚。"
RESOLUTION = "已联系市民并处理完毕，市民表示认可。"
SATISFACTION = ["satisfied", "basically_satisfied", "unsatisfied"]
SATISFACTION_WEIGHTS = [0.76, 0.15, 0.09]

# The SLA in calendar time: accept within 4 hours (urgent 30 minutes), resolve within
# 7 days, about 5 working days (urgent 24 hours); amber at 75 % of the time.
ACCEPT_LIMIT = {False: 240.0, True: 30.0}  # minutes
RESOLVE_LIMIT = {False: 7 * 24.0, True: 24.0}  # hours
AMBER_AT = 0.75


@dataclass
class LoadResult:
    tickets: int = 0
    returned: int = 0
    days: int = 0
    seconds: float = 0.0
    city_created: bool = False
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _City:
    category_ids: np.ndarray  # leaves, most frequent first
    category_weights: np.ndarray
    category_names: list[str]
    routing_department: np.ndarray  # per leaf: department id, or 0 when none
    department_ids: np.ndarray
    district_ids: np.ndarray
    district_weights: np.ndarray
    district_names: list[str]
    operator_ids: list[int]


def load(
    tickets: int,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    end: date | None = None,
    batch: int = BATCH,
    now: datetime | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> LoadResult:
    """Insert `tickets` tickets created over the `days` local days up to `end` (default
    today, up to now). Refuses a database that already holds loaded tickets."""
    import time as clock

    if tickets < 1 or days < 1 or batch < 1:
        raise InvalidInput("tickets, days and batch must be at least 1")
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    now = now or utcnow()
    today = now.astimezone(zone).date()
    end = end or today
    if end > today:
        raise InvalidInput(f"--end {end} is in the future (today is {today})", field="end")
    if db.session.scalar(select(Ticket.id).where(Ticket.number.like(f"{NUMBER_PREFIX}%")).limit(1)):
        raise Conflict("This database already holds loaded tickets; load into a fresh database.")
    result = LoadResult()
    if db.session.scalar(select(func.count(Department.id))) == 0:
        demo.seed_demo(ticket_count=0)
        result.city_created = True
    city = _load_city(np.random.default_rng(seed))
    if len(city.category_ids) == 0 or len(city.department_ids) == 0:
        raise Conflict("The city needs departments and categories before tickets can be loaded.")

    started = clock.perf_counter()
    rng = np.random.default_rng(seed)
    day_list = [end - timedelta(days=n) for n in range(days - 1, -1, -1)]
    counts = _daily_counts(rng, day_list, tickets)
    writer = _Writer(db.session.connection())
    next_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    pending: list[dict[str, np.ndarray | list]] = []
    pending_rows = 0
    for day, count in zip(day_list, counts, strict=True):
        if count == 0:
            continue
        columns = _day_tickets(rng, city, day, int(count), next_id, zone, now)
        next_id += int(count)
        pending.append(columns)
        pending_rows += int(count)
        result.days += 1
        if pending_rows >= batch:
            _flush(writer, city, pending, result)
            pending, pending_rows = [], 0
            db.session.commit()
            writer = _Writer(db.session.connection())
            if progress:
                progress(result.tickets, clock.perf_counter() - started)
    if pending:
        _flush(writer, city, pending, result)
    writer.finish(next_id - 1)
    db.session.commit()
    result.seconds = clock.perf_counter() - started
    if progress:
        progress(result.tickets, result.seconds)
    return result


# --- the city ------------------------------------------------------------------------------


def _load_city(rng: np.random.Generator) -> _City:
    rows = db.session.execute(
        select(Category.id, Category.name, Category.parent_id, Category.default_department_id).order_by(Category.id)
    ).all()
    parents = {r.parent_id for r in rows if r.parent_id is not None}
    by_id = {r.id: r for r in rows}

    def routing(category_id: int | None) -> int:
        seen = set()
        while category_id is not None and category_id not in seen:
            seen.add(category_id)
            row = by_id[category_id]
            if row.default_department_id is not None:
                return row.default_department_id
            category_id = row.parent_id
        return 0

    leaves = [r for r in rows if r.id not in parents]
    order = rng.permutation(len(leaves))  # which leaves are the common ones
    leaves = [leaves[i] for i in order]
    weights = 1.0 / np.arange(1, len(leaves) + 1) ** 1.07  # Zipf-like: a few categories take most calls
    districts = db.session.execute(select(District.id, District.name).order_by(District.id)).all()
    district_weights = np.array([max(1.0, 9.0 - 0.6 * i) for i in range(len(districts))])
    operators = list(db.session.scalars(select(User.id).where(User.role == Role.OPERATOR)))
    return _City(
        category_ids=np.array([r.id for r in leaves], dtype=np.int64),
        category_weights=weights / weights.sum(),
        category_names=[r.name for r in leaves],
        routing_department=np.array([routing(r.id) for r in leaves], dtype=np.int64),
        department_ids=np.array(list(db.session.scalars(select(Department.id).order_by(Department.id)))),
        district_ids=np.array([d.id for d in districts], dtype=np.int64),
        district_weights=district_weights / district_weights.sum() if districts else district_weights,
        district_names=[d.name for d in districts],
        operator_ids=operators,
    )


def _daily_counts(rng: np.random.Generator, days: list[date], total: int) -> np.ndarray:
    """Tickets per day: yearly growth, a weekly rhythm (rest days by the holiday calendar),
    a summer peak and noise; exactly `total` in all."""
    calendar = work_calendar()
    first = days[0]
    weights = np.empty(len(days))
    for i, day in enumerate(days):
        years = (day - first).days / 365.0
        growth = 1.12**years
        week = 1.0 if calendar.is_working_day(day) else 0.55
        summer = 1.0 + 0.18 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.0)
        weights[i] = growth * week * summer
    weights *= rng.lognormal(0.0, 0.08, len(days))
    return rng.multinomial(total, weights / weights.sum())


# --- one day's tickets -----------------------------------------------------------------------


def _minutes(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(math.log(median), sigma, n)


def _day_tickets(
    rng: np.random.Generator, city: _City, day: date, n: int, first_id: int, zone: ZoneInfo, now: datetime
) -> dict[str, Any]:
    """The columns of one local day's tickets, times as float seconds since the epoch (UTC)."""
    midnight = datetime.combine(day, time.min, tzinfo=zone).timestamp()
    now_s = now.timestamp()
    span = min(86_400.0, max(now_s - 60 - midnight, 1.0))  # today: only until a minute ago
    hours = rng.choice(24, n, p=np.array(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS))
    offsets = hours * 3600.0 + rng.uniform(0, 3600, n)
    if span < 86_400.0:
        offsets = offsets * (span / 86_400.0)
    created = midnight + np.sort(offsets)

    leaf = rng.choice(len(city.category_ids), n, p=city.category_weights)
    kind = rng.choice(len(TYPES), n, p=np.array(TYPE_WEIGHTS) / sum(TYPE_WEIGHTS))
    channel = rng.choice(len(CHANNELS), n, p=np.array(CHANNEL_WEIGHTS) / sum(CHANNEL_WEIGHTS))
    urgent = rng.random(n) < 0.04
    has_district = rng.random(n) < 0.95
    district = rng.choice(len(city.district_ids), n, p=city.district_weights) if len(city.district_ids) else None
    direct = (kind == 0) & (rng.random(n) < DIRECT_SHARE)
    worked = ~direct

    # Routing: the category's department, or a dispatcher's choice (no default, or a rule missed).
    routed = city.routing_department[leaf]
    by_dispatcher = (routed == 0) | (rng.random(n) < 0.06)
    department = np.where(routed == 0, rng.choice(city.department_ids, n), routed)
    dispatch_delay = np.where(by_dispatcher, _minutes(rng, 40, 1.0, n), _minutes(rng, 1.5, 0.9, n))
    # 退单: the first department hands it back, the dispatcher sends it on.
    returned = worked & (rng.random(n) < 0.035)
    first_dispatch = created + dispatch_delay * 60
    return_at = first_dispatch + _minutes(rng, 240, 1.0, n) * 60
    wrong_department = rng.choice(city.department_ids, n)
    dispatched = np.where(returned, return_at + _minutes(rng, 30, 1.0, n) * 60, first_dispatch)
    by_dispatcher |= returned

    accept_limit = np.where(urgent, ACCEPT_LIMIT[True], ACCEPT_LIMIT[False]) * 60
    resolve_limit = np.where(urgent, RESOLVE_LIMIT[True], RESOLVE_LIMIT[False]) * 3600
    accepted = dispatched + np.where(urgent, _minutes(rng, 8, 0.8, n), _minutes(rng, 35, 1.1, n)) * 60
    resolve = np.where(urgent, _minutes(rng, 6 * 60, 1.0, n), _minutes(rng, 30 * 60, 1.3, n)) * 60
    resolved = np.maximum(accepted + 300, dispatched + resolve)
    # Stuck tickets (never signed for, never resolved): supervision clears most of them within
    # weeks, so they are mostly recent; a very few stay open for good.
    age_days = (now_s - created) / 86_400
    stuck = 0.0002 + 0.006 * np.exp(-age_days / 45)
    never_accepted = rng.random(n) < stuck * 0.4
    never_resolved = rng.random(n) < stuck * 0.6

    # Where each ticket stands now.
    is_dispatched = worked & (dispatched <= now_s)
    is_accepted = is_dispatched & (accepted <= now_s) & ~never_accepted
    is_resolved = is_accepted & (resolved <= now_s) & ~never_resolved
    returned &= return_at <= now_s
    rated_at = resolved + _minutes(rng, 18 * 60, 0.8, n) * 60
    rated = is_resolved & (rng.random(n) < 0.6) & (rated_at <= now_s)
    satisfaction = rng.choice(len(SATISFACTION), n, p=SATISFACTION_WEIGHTS)
    reopened = rated & (satisfaction == 2) & (rng.random(n) < 0.35)
    closed_at = np.where(rated, rated_at, resolved + 3 * 86_400)
    is_closed = is_resolved & (closed_at <= now_s)
    waiting = is_accepted & ~is_resolved & (rng.random(n) < 0.05)

    status = np.full(n, Status.NEW, dtype=object)
    status[worked & ~is_dispatched & by_dispatcher] = Status.PENDING_DISPATCH
    status[is_dispatched] = Status.DISPATCHED
    status[is_accepted] = Status.IN_PROGRESS
    status[waiting] = Status.WAITING
    status[is_resolved] = Status.RESOLVED
    status[is_closed] = Status.CLOSED
    status[direct] = Status.CLOSED

    accept_due = dispatched + accept_limit
    resolve_due = dispatched + resolve_limit
    open_with_department = is_dispatched & ~is_resolved
    late = open_with_department & ((resolve_due < now_s) | (~is_accepted & (accept_due < now_s)))
    amber = open_with_department & ~late & (dispatched + resolve_limit * AMBER_AT < now_s)
    sla_level = np.where(late, "red", np.where(amber, "amber", "")).astype(object)
    direct_at = created + rng.uniform(30, 300, n)

    return {
        "id": np.arange(first_id, first_id + n),
        "day": day,
        "status": status,
        "type": np.array(TYPES, dtype=object)[kind],
        "channel": np.array(CHANNELS, dtype=object)[channel],
        "urgent": urgent,
        "leaf": leaf,
        "district": np.where(has_district, district, -1) if district is not None else np.full(n, -1),
        "department": np.where(is_dispatched, department, 0),
        "routed_by": np.where(is_dispatched, np.where(by_dispatcher, "dispatcher", "category_default"), None).astype(
            object
        ),
        "created": created,
        "dispatched": np.where(is_dispatched, dispatched, np.nan),
        "accepted": np.where(is_accepted, accepted, np.nan),
        "resolved": np.where(is_resolved, resolved, np.where(direct, direct_at, np.nan)),
        "closed": np.where(is_closed, closed_at, np.where(direct, direct_at, np.nan)),
        "accept_due": np.where(is_dispatched, accept_due, np.nan),
        "accept_amber": np.where(is_dispatched, dispatched + accept_limit * AMBER_AT, np.nan),
        "resolve_due": np.where(is_dispatched, resolve_due, np.nan),
        "resolve_amber": np.where(is_dispatched, dispatched + resolve_limit * AMBER_AT, np.nan),
        "paused": np.where(waiting, np.maximum(accepted, now_s - _minutes(rng, 600, 1.0, n) * 60), np.nan),
        "rated": np.where(rated, rated_at, np.nan),
        "satisfaction": np.where(rated, np.array(SATISFACTION, dtype=object)[satisfaction], None),
        "reopened": reopened,
        "sla_level": sla_level,
        "urges": (late & (rng.random(n) < 0.5)).astype(np.int64),
        "direct": direct,
        "returned": returned,
        "return_at": return_at,
        "wrong_department": wrong_department,
        "first_routed_by": np.where(routed == 0, "dispatcher", "category_default").astype(object),
        "confidential": rng.random(n) < 0.01,
        # Consultations read as questions, the rest as complaints and reports.
        "template": np.where(kind == 0, rng.choice(QUESTION_TEMPLATES, n), rng.choice(PROBLEM_TEMPLATES, n)),
        "road": rng.integers(0, len(ROADS), n),
        "house": rng.integers(1, 300, n),
        "phone": rng.integers(0, 10**8, n),
        "prefix": rng.choice([130, 131, 135, 136, 137, 138, 139, 150, 151, 158, 159, 177, 186, 188, 199], n),
        "named": rng.random(n) < 0.9,
        "surname": rng.integers(0, len(SURNAMES), n),
        "female": rng.random(n) < 0.5,
        "operator": rng.integers(0, max(len(city.operator_ids), 1), n),
    }


# --- writing -----------------------------------------------------------------------------------


def _timestamps(seconds: np.ndarray) -> list[str | None]:
    """Naive-UTC timestamps as SQLAlchemy stores them on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff'),
    which PostgreSQL also reads; NaN gives NULL."""
    missing = np.isnan(seconds)
    micros = np.where(missing, 0, np.round(seconds * 1e6)).astype("datetime64[us]")
    text = np.char.replace(np.datetime_as_string(micros, unit="us"), "T", " ").astype(object)
    text[missing] = None
    return text.tolist()


TICKET_COLUMNS = [
    "id",
    "number",
    "status",
    "type",
    "category_id",
    "district_id",
    "address",
    "description",
    "urgency",
    "channel",
    "confidential",
    "caller_phone",
    "caller_name",
    "department_id",
    "routed_by",
    "created_by_id",
    "resolution",
    "created_at",
    "dispatched_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "accept_due_at",
    "accept_amber_at",
    "resolve_due_at",
    "resolve_amber_at",
    "sla_level",
    "paused_at",
    "extended_days",
    "urge_count",
    "satisfaction",
    "rated_at",
    "reopen_count",
    "source",
    "version",
]


def _ticket_rows(columns: dict[str, Any], city: _City) -> Iterator[tuple]:
    ids = columns["id"].tolist()
    day = columns["day"].strftime("%Y%m%d")
    times = {
        name: _timestamps(columns[key])
        for name, key in (
            ("created_at", "created"),
            ("dispatched_at", "dispatched"),
            ("accepted_at", "accepted"),
            ("resolved_at", "resolved"),
            ("closed_at", "closed"),
            ("accept_due_at", "accept_due"),
            ("accept_amber_at", "accept_amber"),
            ("resolve_due_at", "resolve_due"),
            ("resolve_amber_at", "resolve_amber"),
            ("paused_at", "paused"),
            ("rated_at", "rated"),
        )
    }
    leaf = columns["leaf"].tolist()
    district = columns["district"].tolist()
    department = columns["department"].tolist()
    status = columns["status"].tolist()
    kinds = columns["type"].tolist()
    channel = columns["channel"].tolist()
    urgent = columns["urgent"].tolist()
    direct = columns["direct"].tolist()
    lists = {
        k: columns[k].tolist()
        for k in (
            "routed_by",
            "satisfaction",
            "reopened",
            "sla_level",
            "urges",
            "confidential",
            "template",
            "road",
            "house",
            "phone",
            "prefix",
            "named",
            "surname",
            "female",
            "operator",
        )
    }
    operators = city.operator_ids
    category_ids = city.category_ids.tolist()
    district_ids = city.district_ids.tolist()
    for i in range(len(ids)):
        d = district[i]
        district_name = city.district_names[d] if d >= 0 else ""
        road = ROADS[lists["road"][i]]
        text = TEMPLATES[lists["template"][i]].format(
            district=district_name, road=road, category=city.category_names[leaf[i]]
        )
        address = f"{district_name}{road}{lists['house'][i]}号" if d >= 0 and kinds[i] != "consultation" else ""
        name = ""
        if lists["named"][i]:
            name = SURNAMES[lists["surname"][i]] + ("女士" if lists["female"][i] else "先生")
        state = status[i]
        resolution = DIRECT_ANSWER if direct[i] else (RESOLUTION if state in (Status.RESOLVED, Status.CLOSED) else None)
        yield (
            ids[i],
            f"{NUMBER_PREFIX}{day}-{i + 1:07d}",
            state,
            kinds[i],
            category_ids[leaf[i]],
            district_ids[d] if d >= 0 else None,
            address,
            text,
            "urgent" if urgent[i] else "normal",
            channel[i],
            lists["confidential"][i],
            f"+86{lists['prefix'][i]}{lists['phone'][i]:08d}",
            name,
            department[i] or None,
            lists["routed_by"][i],
            operators[lists["operator"][i]] if operators and channel[i] in (Channel.PHONE, Channel.VOICEMAIL) else None,
            resolution,
            times["created_at"][i],
            times["dispatched_at"][i],
            times["accepted_at"][i],
            times["resolved_at"][i],
            times["closed_at"][i],
            times["accept_due_at"][i],
            times["accept_amber_at"][i],
            times["resolve_due_at"][i],
            times["resolve_amber_at"][i],
            lists["sla_level"][i],
            times["paused_at"][i],
            0,
            lists["urges"][i],
            lists["satisfaction"][i],
            times["rated_at"][i],
            int(lists["reopened"][i]),
            "",
            1,
        )


OUTCOME_COLUMNS = ["ticket_id", "kind", "routed_by", "category_id", "department_id", "at", "data"]


def _outcome_rows(columns: dict[str, Any], city: _City) -> list[tuple]:
    returned = columns["returned"]
    if not returned.any():
        return []
    ids = columns["id"][returned].tolist()
    leaf = columns["leaf"][returned].tolist()
    wrong = columns["wrong_department"][returned].tolist()
    routed_by = columns["first_routed_by"][returned].tolist()
    at = _timestamps(columns["return_at"][returned])
    category_ids = city.category_ids
    return [
        (ids[i], "returned", routed_by[i], int(category_ids[leaf[i]]), wrong[i], at[i], "{}") for i in range(len(ids))
    ]


class _Writer:
    """Bulk rows into a table on the session's connection: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.extra = _extra_columns()
        if not self.postgresql:
            # This connection only: a bigger page cache keeps the index inserts off the disk.
            connection.exec_driver_sql("PRAGMA cache_size = -262144")

    def write(self, table: str, names: list[str], rows: Iterator[tuple] | list[tuple]) -> None:
        if table == "ticket" and self.extra:
            names = names + list(self.extra)
            values = tuple(self.extra.values())
            rows = (row + values for row in rows)
        if self.postgresql:
            raw = self.connection.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in names)
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
            self.connection.exec_driver_sql(sql, list(rows))

    def finish(self, last_id: int) -> None:
        """PostgreSQL: move the id sequence past the ids given explicitly, and gather the
        planner's statistics now rather than whenever autovacuum gets to the new rows."""
        if self.postgresql:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('ticket', 'id'), GREATEST({int(last_id)}, 1))"
            )
            self.connection.exec_driver_sql("ANALYZE ticket")
            self.connection.exec_driver_sql("ANALYZE routing_outcome")


def _extra_columns() -> dict[str, Any]:
    """Columns added to the ticket since this loader was written: their scalar default, where
    they are NOT NULL and have one (the rest are left to the database)."""
    extra = {}
    for column in Ticket.__table__.columns:
        if column.name in TICKET_COLUMNS or column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            extra[column.name] = default.arg
    return extra


def _flush(writer: _Writer, city: _City, pending: list[dict[str, Any]], result: LoadResult) -> None:
    for columns in pending:
        writer.write("ticket", TICKET_COLUMNS, _ticket_rows(columns, city))
        outcomes = _outcome_rows(columns, city)
        if outcomes:
            writer.write(RoutingOutcome.__tablename__, OUTCOME_COLUMNS, outcomes)
        result.tickets += len(columns["id"])
        result.returned += len(outcomes)
        for state, count in zip(*np.unique(columns["status"].astype(str), return_counts=True), strict=True):
            result.by_status[str(state)] = result.by_status.get(str(state), 0) + int(count)
