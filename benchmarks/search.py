"""Full-text search of tickets: reindex speed, and search times beside a trivial query.

    .venv/bin/python benchmarks/search.py [--tickets 200000] [--db sqlite|postgresql|URL]
        [--repeat 3] [--real-share 10]

Uses a temporary SQLite file (`--db postgresql` starts a throwaway PostgreSQL cluster as
`scripts/test.sh` does; a URL names a database that is used as it is: loaded only when it
holds no loaded tickets, so a large database can be measured again). It migrates the
database, loads N realistic tickets with `seed-load` (bulk, around the ORM, so none is
indexed yet), writes a real citizen message (hotline/demo/data/descriptions.csv) into one
ticket in `--real-share`, then:

  1. times `flask search reindex` (ticket_search.reindex, the full rebuild on an empty
     index): seconds and tickets/s; then ANALYZE (VACUUM ANALYZE of the ticket and
     its documents first on PostgreSQL, as autovacuum would after a load);
  2. times searches through the service the page and the API call (`ticket_search.search`:
     match, rank, load the page of tickets, snippets) for Chinese words of 2, 3 and 4
     characters and English words, without and with filters (status, district, the last
     30 days), as a supervisor and as department staff, `--repeat` times each;
  3. times `SELECT 1` through the same session, the floor of any query.

It prints the median and 95th percentile per group of queries and overall, each with its
ratio to SELECT 1. See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.routing_backlog import postgres_cluster  # noqa: E402

# Words of the loaded tickets (category names, roads, the templates, real messages) and
# words that match little or nothing, so both the common and the rare paths are timed.
QUERIES = {
    "zh-2": ["噪音", "停水", "路灯", "小区", "物业", "违建", "市民", "拖欠"],
    "zh-3": ["人民路", "停车场", "公积金", "自来水", "幼儿园", "出租车"],
    "zh-4": ["安全隐患", "园林绿化", "环境卫生", "燃气供应", "违章建筑", "噪音扰民"],
    "en": ["ktv", "icu", "noise", "streetlight"],
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- the database ----------------------------------------------------------------------------


# A bigger cache than the routing benchmark's cluster: the index of millions of documents.
PG_SETTINGS = "-c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=512MB"


@contextmanager
def database(choice: str) -> Iterator[str]:
    if choice == "sqlite":
        workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-search-"))
        try:
            yield f"sqlite:///{workdir / 'bench.db'}"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    elif choice == "postgresql":
        with postgres_cluster(settings=PG_SETTINGS) as url:
            yield url
    else:
        yield choice


def load(tickets: int, real_share: int) -> None:
    """seed-load's tickets, one in `real_share` with a real citizen message instead."""
    from sqlalchemy import func, select, text

    from hotline.demo import load_seed
    from hotline.extensions import db
    from hotline.models import Ticket

    if db.session.scalar(select(Ticket.id).where(Ticket.number.like(f"{load_seed.NUMBER_PREFIX}%")).limit(1)):
        count = db.session.scalar(select(func.count(Ticket.id)))
        print(f"database already loaded: {count:,} tickets (not loaded again)")
        return
    started = time.perf_counter()
    result = load_seed.load(tickets)
    print(f"loaded {result.tickets:,} tickets in {result.seconds:.1f} s (seed-load)")
    with open(ROOT / "hotline" / "demo" / "data" / "descriptions.csv", encoding="utf-8") as source:
        messages = [row["text"] for row in csv.DictReader(source)]
    rng = random.Random(7)
    low, high = db.session.execute(select(func.min(Ticket.id), func.max(Ticket.id))).one()
    batch: list[dict] = []
    written = 0
    for ticket_id in range(low, high + 1, max(1, real_share)):
        batch.append({"id": ticket_id, "text": rng.choice(messages).replace("{district}", "")})
        if len(batch) == 10_000:
            db.session.execute(text("UPDATE ticket SET description = :text WHERE id = :id"), batch)
            db.session.commit()
            written += len(batch)
            batch = []
    if batch:
        db.session.execute(text("UPDATE ticket SET description = :text WHERE id = :id"), batch)
        written += len(batch)
    db.session.commit()
    print(f"real citizen messages in {written:,} tickets; loading took {time.perf_counter() - started:.1f} s")


# --- measuring -----------------------------------------------------------------------------------


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(repeat: int) -> None:
    from sqlalchemy import select, text

    from hotline.extensions import db
    from hotline.models import District, Role, Status, User
    from hotline.models.types import utcnow
    from hotline.services.search import ticket_search

    supervisor = db.session.scalar(select(User).where(User.role == Role.SUPERVISOR).limit(1))
    # A department holding many tickets (city management): a hard case for department staff.
    staff = db.session.scalar(
        select(User).where(User.role == Role.DEPARTMENT, User.username == "dept-city-management")
    ) or db.session.scalar(select(User).where(User.role == Role.DEPARTMENT).limit(1))
    district = db.session.scalar(select(District).order_by(District.id).limit(1))
    now = utcnow()
    filter_sets = {
        "no filter": ticket_search.Filters(),
        "filtered": ticket_search.Filters(
            statuses=[Status.RESOLVED, Status.CLOSED], district_id=district.id, created_from=now - timedelta(days=30)
        ),
    }
    db.session.execute(text("SELECT 1"))  # warm the connection
    baseline = timed(lambda: db.session.execute(text("SELECT 1")).scalar(), 200)
    floor = statistics.median(baseline)
    print(f"\nSELECT 1: median {floor:.3f} ms, p95 {percentile(baseline, 0.95):.3f} ms (200 runs)")
    print(f"\n{'group':<34} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'x SELECT 1':>11}")
    everything: list[float] = []
    slowest: list[tuple[float, str]] = []
    for who, user in (("supervisor", supervisor), ("department staff", staff)):
        for filter_name, filters in filter_sets.items():
            for group, words in QUERIES.items():
                times: list[float] = []
                for word in words:
                    ticket_search.search(user, word, filters)  # warm: the first run reads from disk
                    runs = timed(lambda u=user, w=word, f=filters: ticket_search.search(u, w, f), repeat)
                    times.extend(runs)
                    slowest.append((max(runs), f"{who}, {filter_name}, {word}"))
                db.session.rollback()
                everything.extend(times)
                median = statistics.median(times)
                print(
                    f"{who + ', ' + filter_name + ', ' + group:<34} {len(times):>7} {median:>10.1f} "
                    f"{percentile(times, 0.95):>8.1f} {max(times):>8.1f} {median / floor:>11.0f}"
                )
    median = statistics.median(everything)
    print(
        f"{'all searches':<34} {len(everything):>7} {median:>10.1f} {percentile(everything, 0.95):>8.1f} "
        f"{max(everything):>8.1f} {median / floor:>11.0f}"
    )
    print("slowest: " + "; ".join(f"{label} {ms:.0f} ms" for ms, label in sorted(slowest, reverse=True)[:3]))
    sample = ticket_search.search(supervisor, "人民路 安全隐患")
    print(f"e.g. 人民路 安全隐患 as a supervisor: {sample.total}{'+' if sample.capped else ''} matches ranked")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000, help="tickets to load (default 200,000)")
    parser.add_argument(
        "--db", default="sqlite", help="sqlite (a temp file), postgresql (a throwaway cluster), or a URL"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query (default 3)")
    parser.add_argument("--real-share", type=int, default=10, help="one ticket in N gets a real message (default 10)")
    parser.add_argument("--no-reindex", action="store_true", help="a URL's database already indexed: search only")
    args = parser.parse_args(argv)
    with database(args.db) as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from config import DevelopmentConfig, normalise_database_url
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import TicketSearch
    from hotline.services.search import ticket_search

    os.environ["DATABASE_URL"] = normalise_database_url(url)
    os.environ.pop("REDIS_URL", None)
    app = create_app(DevelopmentConfig())
    with app.app_context():
        dialect = db.engine.dialect.name
        print(f"database: {dialect}; tickets asked: {args.tickets:,}")
        upgrade()
        load(args.tickets, args.real_share)
        started = time.perf_counter()
        read, written = ticket_search.reindex() if not args.no_reindex else (0, 0)
        seconds = time.perf_counter() - started
        print(
            f"reindex: {read:,} tickets read, {written:,} documents written in {seconds:.1f} s "
            f"({read / max(seconds, 1e-9):,.0f} tickets/s)"
        )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            started = time.perf_counter()
            if dialect == "postgresql":
                # What autovacuum does to freshly loaded tables sooner or later: the visibility
                # map that lets the date bounds read the (created_at, id) index alone.
                connection.execute(text("VACUUM ANALYZE ticket, ticket_search"))
            connection.execute(text("ANALYZE"))
            print(
                f"{'VACUUM ANALYZE' if dialect == 'postgresql' else 'ANALYZE'}: {time.perf_counter() - started:.1f} s"
            )
        documents = db.session.scalar(select(func.count()).select_from(TicketSearch))
        print(f"documents in the index: {documents:,}")
        measure(args.repeat)


if __name__ == "__main__":
    main()
