"""Hotspot detection (热点): what it finds in real messages, and how long a month takes.

    .venv/bin/python benchmarks/hotspots.py [--tickets 50000] [--previous 1.0] [--database sqlite|URL]
        [--skip-teddycup] [--skip-month]

(a) Teddy Cup messages (../shared/data/teddycup2020c/messages.csv, 495 real citizen
    messages with the first-level category the city routed each to): the groups the
    detection's clustering (`services.hotspot_detection.hotspot_clustering`, the code `detect` runs) finds,
    largest first, with their labels and dominant category, and the mean share of the
    dominant category beside the same groups over shuffled categories (chance).

(b) A generated month: `--tickets` tickets over the last 30 days in the demo city's 12
    districts (default 50,000; `--tickets 1000000` for a large hotline's month) and
    `--previous` times as many in the 30 days before (the growth is measured against
    them), bulk-inserted into a temporary SQLite file (or the database URL given, which is
    EMPTIED first). Texts: 30 planted hotspots (one problem at one estate or road, from 40
    to 4% of the month each, in paraphrases) over a background of real-sounding
    complaints mixed from the demo's clauses (hotline/demo/data/descriptions.csv) at random
    places. Then, in a fresh process (so that its peak memory is its own):
      1. `hotspots.detect("month")`, as the hourly job runs it;
      2. baseline: reading the month's texts from the database (`hotspots.read_tickets`);
    and prints both times (wall and CPU), their ratio, the load average, the detection's
    peak memory, and how many planted hotspots are among the stored ones.
See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEDDYCUP = ROOT.parent / "shared" / "data" / "teddycup2020c" / "messages.csv"
PLANTED = 30
SEED = 7

# Planted problems: paraphrases with {place}; each hotspot is one of them at one place.
PROBLEMS = [
    [
        "{place}旁边工地夜间施工噪音扰民，凌晨还在打桩",
        "{place}附近工地晚上施工噪音很大，睡不着觉",
        "{place}工地深夜施工，噪音扰民，老人孩子无法休息",
    ],
    ["{place}停水两天了，家里没有自来水", "{place}突然停水，没有提前通知", "{place}又停水了，什么时候恢复供水"],
    ["{place}路灯不亮，晚上走路很黑", "{place}的路灯坏了，夜里看不清路", "{place}一段路灯全部不亮，很危险"],
    [
        "{place}垃圾堆积很多天没人清运，臭味很大",
        "{place}垃圾桶满了没人收，苍蝇蚊子多",
        "{place}生活垃圾长期无人清理，气味难闻",
    ],
    ["{place}路面塌陷出现大坑，车辆经过很危险", "{place}道路有个大坑，电动车摔倒了", "{place}马路坑洼不平，下雨积水"],
    [
        "{place}小区物业不作为，电梯经常故障",
        "{place}电梯坏了一个月物业不修",
        "{place}物业收费不维修电梯，老人上下楼困难",
    ],
    ["{place}门口占道经营，流动摊贩堵塞交通", "{place}路边摆摊的很多，人行道走不了", "{place}摊贩占道，早晚高峰拥堵"],
    ["{place}下水道堵塞，污水漫到路面", "{place}污水井冒水，臭气熏天", "{place}排水管道堵了，污水横流"],
    ["{place}车辆乱停乱放，消防通道被堵", "{place}小区门口违章停车，出入困难", "{place}消防通道停满了车，存在安全隐患"],
    ["{place}的商户油烟直排，影响楼上居民", "{place}烧烤店油烟太大，窗户都不敢开", "{place}餐馆油烟扰民，熏得受不了"],
]
PLACE_HEADS = list("锦绣幸福和平阳光金星书院湘江枫林芙蓉望月东湖青山翠竹长城红星天心星沙")
PLACE_TAILS = ["花园", "小区", "家园", "新村", "路", "大道", "苑", "广场", "公寓", "街"]
FILLERS = ["", "已经好几天了。", "打过电话没有结果。", "希望尽快处理。", "多次反映未解决。", "请相关部门管一管。"]


def places(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        head = "".join(rng.sample(PLACE_HEADS, 2))
        names.add(head + rng.choice(PLACE_TAILS))
    return sorted(names)


def background_clauses() -> list[str]:
    """Clauses of the demo's caller texts: mixed at random, they make texts that read like
    complaints without repeating whole messages."""
    from hotline.demo import demo

    clauses: list[str] = []
    for description in demo.load_descriptions():
        for part in description.text.replace("。", "，").replace("！", "，").split("，"):
            part = part.replace("{district}", "").strip()
            if 6 <= len(part) <= 40:
                clauses.append(part)
    return sorted(set(clauses))


# --- (a) Teddy Cup -----------------------------------------------------------------------


def teddycup(top: int = 10, pairs_shown: int = 8) -> None:
    from hotline.services.hotspot_detection import hotspot_clustering

    if not TEDDYCUP.exists():
        print(f"(a) Teddy Cup: skipped, {TEDDYCUP} is absent")
        return
    with TEDDYCUP.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [f"{r['留言主题']}\n{r['留言详情']}" for r in rows]
    labels = [r["一级分类"] for r in rows]
    # Long written messages resemble each other less than short calls (tests/services use the same).
    params = hotspot_clustering.Params(similarity=0.3, merge=0.3, assign=0.27, min_size=3)
    started = time.perf_counter()
    found = hotspot_clustering.find_groups(texts, [None] * len(texts), params)
    took = time.perf_counter() - started
    summary = hotspot_clustering.group_summary(found.groups, labels)
    grouped = sum(g.size for g in found.groups)
    print(
        f"(a) Teddy Cup: {len(rows)} messages, {len(found.groups)} groups of 3 or more ({grouped} messages) in {took:.1f} s"
    )
    print(f"    {'size':>4}  {'dominant category':<14} {'share':>5}  label")
    for group, category, share in summary[:top]:
        print(f"    {group.size:>4}  {category:<14} {share:>5.0%}  {group.label}")
    if summary:
        purity = sum(share for _, _, share in summary) / len(summary)
        rng = random.Random(SEED)
        chance = []
        for _ in range(200):
            shuffled = labels[:]
            rng.shuffle(shuffled)
            chance.append(sum(s for _, _, s in hotspot_clustering.group_summary(found.groups, shuffled)) / len(summary))
        baseline = sum(chance) / len(chance)
        print(
            f"    mean share of the dominant category: {purity:.2f}; same groups, shuffled categories: "
            f"{baseline:.2f} (ratio {purity / baseline:.2f}x)"
        )
    # The data set was collected for classification: a problem repeated at one place shows up
    # as a pair at most. The pairs the same thresholds find (a third call would make a hotspot),
    # and what lower thresholds would add (groups of one topic across places, not hotspots).
    pairs = hotspot_clustering.find_groups(texts, [None] * len(texts), replace(params, min_size=2)).groups
    pairs = [g for g in pairs if g.size == 2]
    print(f"    pairs at the same thresholds (min_size 2): {len(pairs)}, e.g.")
    for group in pairs[:pairs_shown]:
        print(f"      {group.label}: " + " / ".join(rows[i]["留言主题"][:30] for i in group.members))
    for similarity in (0.25, 0.2):
        lower = replace(params, similarity=similarity, merge=similarity, assign=similarity - 0.03)
        groups = hotspot_clustering.find_groups(texts, [None] * len(texts), lower).groups
        summary = hotspot_clustering.group_summary(groups, labels)
        share = sum(s for _, _, s in summary) / len(summary) if summary else 0.0
        print(
            f"    similarity {similarity}: {len(groups)} groups of 3 or more ({sum(g.size for g in groups)} messages), "
            f"mean dominant share {share:.2f}; largest: {groups[0].label if groups else '-'}"
        )


# --- (b) a generated month ---------------------------------------------------------------


def generate(tickets: int, previous: float) -> dict:
    """Insert the month (and the month before); returns the planted hotspots' ticket ids."""
    from sqlalchemy import func, insert, select

    from hotline.demo import demo
    from hotline.extensions import db
    from hotline.models import Category, District, Status, Ticket
    from hotline.models.types import utcnow

    rng = random.Random(SEED)
    districts = db.session.execute(select(District.id, District.name).order_by(District.id)).all()
    weights = demo.DISTRICT_WEIGHTS[: len(districts)]
    leaves = list(db.session.scalars(select(Category.id).order_by(Category.id)))
    place_names = {d.id: places(rng, 200) for d in districts}
    clauses = background_clauses()
    now = utcnow()
    # Planted: sizes from 4% down to 0.4% of the month, each one problem at one place.
    planted = []
    for k in range(PLANTED):
        district = rng.choices(districts, weights)[0]
        share = 0.04 * (0.1 ** (k / (PLANTED - 1)))
        planted.append(
            {
                "district": district.id,
                "place": rng.choice(place_names[district.id]),
                "problem": rng.randrange(len(PROBLEMS)),
                "category": rng.choice(leaves),
                "size": max(3, int(tickets * share)),
                "ids": [],
            }
        )
    first_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    plan = [
        ("month", tickets, now - timedelta(days=30)),
        ("previous", int(tickets * previous), now - timedelta(days=60)),
    ]
    next_id = first_id
    table = Ticket.__table__
    for period, count, start in plan:
        sizes = [p["size"] if period == "month" else int(p["size"] * rng.uniform(0.3, 0.9)) for p in planted]
        labels = [i for i, n in enumerate(sizes) for _ in range(n)][:count]
        labels += [-1] * (count - len(labels))
        rng.shuffle(labels)
        rows = []
        for index, which in enumerate(labels):
            if which >= 0:
                hot = planted[which]
                district_id, place = hot["district"], hot["place"]
                text = rng.choice(PROBLEMS[hot["problem"]]).format(place=place) + "，" + rng.choice(FILLERS)
                category = hot["category"]
                if period == "month":
                    hot["ids"].append(next_id)
            else:
                district_id = rng.choices(districts, weights)[0].id
                place = rng.choice(place_names[district_id])
                text = f"{place}{'，'.join(rng.sample(clauses, rng.randint(2, 3)))}。{rng.choice(FILLERS)}"
                category = rng.choice(leaves)
            rows.append(
                {
                    "id": next_id,
                    "number": f"H{period[0]}{index:08d}",
                    "status": Status.NEW,
                    "type": "complaint",
                    "category_id": category,
                    "district_id": district_id,
                    "address": f"{place}{rng.randint(1, 120)}号",
                    "description": text,
                    "urgency": "normal",
                    "channel": "phone",
                    "confidential": False,
                    "caller_phone": f"+86138{rng.randrange(10**8):08d}",
                    "caller_name": "",
                    "created_at": start + timedelta(seconds=rng.uniform(60, 30 * 86400 - 60)),
                    "sla_level": "",
                    "extended_days": 0,
                    "urge_count": 0,
                    "version": 1,
                }
            )
            next_id += 1
            if len(rows) == 10_000:
                db.session.execute(insert(table), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(insert(table), rows)
            db.session.commit()
    return {"planted": [{"size": p["size"], "ids": p["ids"]} for p in planted]}


def measure(database_url: str, planted_file: str) -> None:
    """In its own process: the detection, then the baseline read; prints the figures."""
    from config import DevelopmentConfig
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import Hotspot, HotspotTicket, Ticket
    from hotline.services.hotspot_detection import hotspots

    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def load() -> str:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())

    os.environ.update(DATABASE_URL=database_url, REDIS_URL="")
    app = create_app(DevelopmentConfig())
    with app.app_context():
        from sqlalchemy import func, select

        start, end = hotspots.window_bounds("month")
        # The same pages in the OS cache for both (the baseline ran second would find them warm).
        db.session.scalar(
            select(func.sum(func.length(Ticket.description))).where(
                Ticket.created_at >= start - (end - start), Ticket.created_at < end
            )
        )
        load_before = load()
        # The detection first: the peak memory printed is then its own, not the baseline's.
        cpu = time.process_time()
        result = hotspots.detect("month", end)
        detect_cpu = time.process_time() - cpu
        detect_peak = peak_mib()
        load_after = load()
        cpu, started = time.process_time(), time.perf_counter()
        rows = hotspots.read_tickets(start, end)
        read_seconds, read_cpu = time.perf_counter() - started, time.process_time() - cpu
        count = len(rows.ids)
        del rows
        print(f"    load average (1, 5, 15 min) before the detection: {load_before}; after: {load_after}")
        print(
            f"    baseline, reading the month's {count:,} texts (after the detection): {read_seconds:.1f} s "
            f"({read_cpu:.1f} s CPU)"
        )
        print(
            f"    detect('month'): {result.seconds:.1f} s ({detect_cpu:.1f} s CPU) = "
            f"{result.seconds / read_seconds:.1f}x the read; "
            f"{result.tickets:,} tickets, {result.previous_tickets:,} in the month before, "
            f"{result.groups:,} groups, {result.hotspots} kept"
        )
        print(f"    peak memory of the detection: {detect_peak:.0f} MiB (the whole process, app included)")
        planted = json.loads(Path(planted_file).read_text())["planted"]
        stored = {
            h.id: set(db.session.scalars(select(HotspotTicket.ticket_id).where(HotspotTicket.hotspot_id == h.id)))
            for h in db.session.scalars(select(Hotspot).where(Hotspot.window_kind == "month"))
        }
        hits, overlaps = 0, []
        for plant in planted:
            ids = set(plant["ids"])
            best = max((len(ids & members) / len(ids | members) for members in stored.values()), default=0.0)
            overlaps.append(best)
            hits += best >= 0.5
        print(
            f"    planted hotspots found (Jaccard >= 0.5 with a stored one): {hits}/{len(planted)}; "
            f"mean best Jaccard {sum(overlaps) / len(overlaps):.2f}"
        )
        top = db.session.scalars(
            select(Hotspot).where(Hotspot.window_kind == "month").order_by(Hotspot.ticket_count.desc()).limit(5)
        )
        for hotspot in top:
            growth = "new" if hotspot.growth is None else f"{hotspot.growth:+.0%}"
            print(f"    {hotspot.ticket_count:>7,}  {growth:>6}  {hotspot.label}")


def month(tickets: int, previous: float, database: str, workdir: Path) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from config import DevelopmentConfig, normalise_database_url
    from hotline import create_app
    from hotline.demo import demo
    from hotline.extensions import db

    url = normalise_database_url(f"sqlite:///{workdir / 'bench.db'}" if database == "sqlite" else database)
    os.environ.update(DATABASE_URL=url, REDIS_URL="", HOTLINE_CONFIG="development")
    app = create_app(DevelopmentConfig())
    with app.app_context():
        db.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        demo.seed_demo(ticket_count=0)
        started = time.perf_counter()
        planted = generate(tickets, previous)
        total = tickets + int(tickets * previous)
        print(
            f"(b) generated month: {tickets:,} tickets (+{total - tickets:,} in the month before), "
            f"inserted in {time.perf_counter() - started:.1f} s into {db.engine.dialect.name}"
        )
        db.session.remove()
        db.engine.dispose()
    planted_file = workdir / "planted.json"
    planted_file.write_text(json.dumps(planted))
    subprocess.run(
        [sys.executable, __file__, "--measure", url, str(planted_file)], check=True, cwd=ROOT, env=dict(os.environ)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=50_000, help="tickets in the month (default 50000)")
    parser.add_argument("--previous", type=float, default=1.0, help="the month before, times --tickets (default 1)")
    parser.add_argument("--database", default="sqlite", help="sqlite (a temp file) or a URL (EMPTIED first)")
    parser.add_argument("--skip-teddycup", action="store_true")
    parser.add_argument("--skip-month", action="store_true")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "PLANTED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(*args.measure)
        return
    if not args.skip_teddycup:
        teddycup()
    if not args.skip_month:
        workdir = Path(tempfile.mkdtemp(prefix="hotline-hotspots-"))
        try:
            month(args.tickets, args.previous, args.database, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
