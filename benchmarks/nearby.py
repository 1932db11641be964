"""Tickets near a point (issue 18): `geo.nearby`, the query behind GET /api/v1/tickets/nearby and
the intake page's nearby duplicates, beside a trivial query in the same run.

    .venv/bin/python benchmarks/nearby.py [--tickets 1000000] [--db sqlite|postgresql|URL]
        [--queries 300] [--radius 100] [--existing URL]

Uses a temporary SQLite file (`--db postgresql`: a throwaway PostgreSQL cluster, as
benchmarks/search.py). It migrates the database and writes N tickets with points straight
into the table (many rows per INSERT), one in ten open, spread around a few busy centres of
a square city whose side is scaled so that a ticket has as many neighbours as it would among
10 M tickets over a 40 km square (`--side-km` to choose): the cost of a query depends on the
tickets around the point, not on the table's size, which the index (geo_cell, status) makes
irrelevant. Then it times, through the service and its session:

  1. `geo.nearby` at 100 m (default) for a supervisor (every ticket visible) and for a
     department's staff (their tickets only), at points where tickets are, same category first;
  2. `SELECT 1` through the same session, the floor of any query.

It prints the median and 95th percentile in milliseconds, with the ratio to SELECT 1. See
README.md ("Tickets near a point") for figures.

`--existing URL` times a database an earlier run loaded (`--db URL` keeps it: a PostgreSQL
database or a SQLite file of yours): no migration, no load, the points drawn from its tickets,
so that a re-run takes seconds, and two versions of the code can be timed on the same rows.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.search import database, percentile  # noqa: E402

CENTRE = (39.9042, 116.4074)
FULL_CITY_TICKETS = 10_000_000
FULL_CITY_SIDE_KM = 40.0
BATCH = 5_000


def side_km(tickets: int) -> float:
    """The side of a square city where N tickets are as dense as 10 M over 40 km."""
    return FULL_CITY_SIDE_KM * math.sqrt(tickets / FULL_CITY_TICKETS)


def points(count: int, side: float, rng: random.Random) -> list[tuple[float, float]]:
    """Points around a few busy centres (markets, old quarters) and spread thinly elsewhere."""
    d_lat = side / 111.32
    d_long = side / (111.32 * math.cos(math.radians(CENTRE[0])))
    south, west = CENTRE[0] - d_lat / 2, CENTRE[1] - d_long / 2
    centres = [(south + rng.random() * d_lat, west + rng.random() * d_long) for _ in range(20)]
    out = []
    for _ in range(count):
        if rng.random() < 0.6:
            lat0, long0 = rng.choice(centres)
            lat = min(max(rng.gauss(lat0, d_lat / 20), south), south + d_lat)
            long = min(max(rng.gauss(long0, d_long / 20), west), west + d_long)
        else:
            lat, long = south + rng.random() * d_lat, west + rng.random() * d_long
        out.append((round(lat, 6), round(long, 6)))
    return out


def load(tickets: int, side: float, rng: random.Random) -> list[tuple[float, float]]:
    from sqlalchemy import insert

    from hotline.extensions import db
    from hotline.models import Category, Department, District, Role, Status, Ticket
    from hotline.services.accounts.users import create_user
    from hotline.services.city import geo

    departments = [Department(code=f"unit{i}", name=f"单位{i}") for i in range(20)]
    categories = [Category(code=f"cat{i}", name=f"类别{i}") for i in range(30)]
    district = District(code="city", name="城区")
    db.session.add_all([*departments, *categories, district])
    db.session.flush()
    create_user("bench-supervisor", Role.SUPERVISOR, "Bench-password-42", None)
    create_user("bench-staff", Role.DEPARTMENT, "Bench-password-42", "unit0")
    db.session.commit()
    closed = (Status.CLOSED, Status.RESOLVED, Status.MERGED)
    opened = (Status.DISPATCHED, Status.IN_PROGRESS, Status.PENDING_DISPATCH)
    spots = points(tickets, side, rng)
    connection = db.session.connection()
    started = time.perf_counter()
    for first in range(0, tickets, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, tickets)):
            lat, long = spots[i]
            rows.append(
                {
                    "number": f"20260101-{i:08d}",
                    "status": rng.choice(opened) if rng.random() < 0.1 else rng.choice(closed),
                    "type": "complaint",
                    "category_id": rng.choice(categories).id,
                    "department_id": rng.choice(departments).id,
                    "district_id": district.id,
                    "description": "路面有坑",
                    "caller_phone": "+8613800138000",
                    **geo.point_values(lat, long),
                }
            )
        connection.execute(insert(Ticket), rows)
        if (first // BATCH) % 40 == 39:
            db.session.commit()
            connection = db.session.connection()
    db.session.commit()
    seconds = time.perf_counter() - started
    print(
        f"loaded {tickets:,} tickets in {seconds:.0f} s ({tickets / max(seconds, 1e-9):,.0f}/s); city {side:.1f} km square"
    )
    return spots


def timed(call, runs: list[tuple[float, float]]) -> list[float]:
    times = []
    for lat, long in runs:
        started = time.perf_counter()
        call(lat, long)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to write (default 1,000,000)")
    parser.add_argument(
        "--db", default="sqlite", help="sqlite (a temp file), postgresql (a throwaway cluster), or a URL"
    )
    parser.add_argument("--queries", type=int, default=300, help="points to query (default 300)")
    parser.add_argument("--radius", type=int, default=100, help="metres (default 100)")
    parser.add_argument("--side-km", type=float, default=None, help="the city's side (default: 10 M tickets' density)")
    parser.add_argument(
        "--existing", metavar="URL", default=None, help="time a database an earlier run loaded (no migration, no load)"
    )
    args = parser.parse_args(argv)
    if args.existing:
        run(args, args.existing)
        return
    with database(args.db) as url:
        run(args, url)


def stored_points(count: int, rng: random.Random) -> list[tuple[float, float]]:
    """`count` points of tickets already in the database, drawn at random (the same for a seed)."""
    from sqlalchemy import func, select

    from hotline.extensions import db
    from hotline.models import Ticket

    low, high = db.session.execute(select(func.min(Ticket.id), func.max(Ticket.id))).one()
    if low is None:
        raise SystemExit("the database has no tickets: load it first (--db URL)")
    wanted = [rng.randint(low, high) for _ in range(count * 2)]
    found = {
        ticket_id: (lat, long)
        for ticket_id, lat, long in db.session.execute(
            select(Ticket.id, Ticket.lat, Ticket.long).where(Ticket.id.in_(wanted), Ticket.lat.is_not(None))
        )
    }
    return [found[ticket_id] for ticket_id in wanted if ticket_id in found][:count]


def run(args: argparse.Namespace, url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from config import DevelopmentConfig, normalise_database_url
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import Category, Ticket, User
    from hotline.services.city import geo

    os.environ["DATABASE_URL"] = normalise_database_url(url)
    os.environ.pop("REDIS_URL", None)
    app = create_app(DevelopmentConfig())
    rng = random.Random(18)
    with app.app_context():
        dialect = db.engine.dialect.name
        if not args.existing:
            print(f"database: {dialect}; tickets: {args.tickets:,}; radius {args.radius} m")
        else:
            print(f"database: {dialect}; radius {args.radius} m; code: {ROOT}")
        if args.existing:
            spots = stored_points(args.queries, rng)
            print(f"existing database: {db.session.scalar(select(func.count(Ticket.id))):,} tickets (not loaded)")
        else:
            upgrade()
            spots = load(args.tickets, args.side_km or side_km(args.tickets), rng)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE ticket" if dialect == "postgresql" else "ANALYZE"))
        supervisor = db.session.scalar(select(User).where(User.username == "bench-supervisor"))
        staff = db.session.scalar(select(User).where(User.username == "bench-staff"))
        category_ids = list(db.session.scalars(select(Category.id)))
        # A request loads its user once (the login), not again per query: kept out of the session,
        # the rollback after each query does not expire them (that would time a reload too).
        db.session.expunge(supervisor)
        db.session.expunge(staff)
        at = [rng.choice(spots) for _ in range(args.queries)]
        found: list[int] = []

        def near(user):
            def call(lat: float, long: float) -> None:
                found.append(
                    len(geo.nearby(user, lat, long, radius_m=args.radius, category_id=rng.choice(category_ids)))
                )
                db.session.rollback()  # a request's session ends: nothing cached between queries

            return call

        def trivial(lat: float, long: float) -> None:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()

        timed(near(supervisor), at[:20])  # warm the caches as a running server has them
        results = {
            "SELECT 1": timed(trivial, at),
            "nearby, supervisor": timed(near(supervisor), at),
            "nearby, department staff": timed(near(staff), at),
        }
        floor = statistics.median(results["SELECT 1"])
        print(
            f"open tickets found per query (supervisor and staff): median {statistics.median(found):.0f}, max {max(found)}"
        )
        print(f"{'query':<28}{'median ms':>10}{'p95 ms':>10}{'x SELECT 1':>12}")
        for name, times in results.items():
            median = statistics.median(times)
            print(f"{name:<28}{median:>10.2f}{percentile(times, 0.95):>10.2f}{median / floor:>12.1f}")


if __name__ == "__main__":
    main()
