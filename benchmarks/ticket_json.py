"""The ticket's JSON, byte for byte and CPU per ticket: the contract check and the timing of
issue 15 item 6 (the ticket described once in marshmallow, `hotline/api/ticket_schemas.py`).

    .venv/bin/python benchmarks/ticket_json.py seed DB.sqlite [--tickets 1200]
    .venv/bin/python benchmarks/ticket_json.py dump DB.sqlite OUT.json
    .venv/bin/python benchmarks/ticket_json.py time DB.sqlite [--tickets 1000] [--old REV]

`seed`: the demo city (hotline/demo) with `--tickets` tickets into a new SQLite file.
`dump` (run it from each checkout to compare, on a COPY of the seeded file each time: reading
writes audit rows): with the clock frozen, a few photos attached, the JSON of every ticket
(GET, as several roles in turn), every page of the list (and filtered), search, intake (POST),
lifecycle actions and reveal-phone, and the OpenAPI document. `compare OLD.json NEW.json`: the
answers byte for byte, the OpenAPI document but for descriptions gained and `required`'s order.
`time`: in one process, CPU per ticket dumped by the hand-written `serializers.ticket_json` of
`--old` (default c6c1613, read with `git show`) and by today's code, over the same tickets, as
list items (events=False), whole (GET) and as POST /tickets answers (the open ones, with their
events and texts); it also checks the two agree on every ticket.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FROZEN = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
VIEWERS = ("operator", "dispatcher", "supervisor", "admin", "dept-water", "dept-housing", "dept-dongcheng-gov")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001449444154789c633cc1c5c5800d"
    "3061151db41200b1ee00ec082d3dbb0000000049454e44ae426082"
)


def make_app(database: Path, attachments: Path):
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("TEST_REDIS_URL", "")
    from config import TestingConfig
    from hotline import create_app

    config = TestingConfig()
    config.HOTLINE_ATTACHMENTS_DIR = str(attachments)
    return create_app(config)


def freeze_clock() -> None:
    """Every `utcnow()` (column defaults included) answers FROZEN, so that two runs agree."""
    import hotline.models.types as types

    types.__dict__["_FROZEN_AT"] = FROZEN

    def frozen() -> datetime:
        return _FROZEN_AT  # type: ignore[name-defined]  # noqa: F821 - the module's global, set above

    types.utcnow.__code__ = frozen.__code__


def seed(args: argparse.Namespace) -> None:
    from flask_migrate import upgrade

    from hotline.demo.demo import seed_demo

    app = make_app(Path(args.db).resolve(), Path(args.db).resolve().parent / "attachments")
    with app.app_context():
        upgrade()
        print(seed_demo(args.tickets))


def dump(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.models import Ticket, User
    from hotline.services.accounts.users import issue_token

    out: dict[str, object] = {}
    app = make_app(Path(args.db).resolve(), Path(args.out).resolve().parent / "attachments-dump")
    with app.app_context():
        freeze_clock()
        users = {user.username: user for user in db.session.scalars(select(User))}
        tokens = {name: issue_token(users[name]) for name in VIEWERS}
        numbers = list(db.session.scalars(select(Ticket.number).order_by(Ticket.id)))
        client = app.test_client()

        def call(method: str, who: str, path: str, **kwargs):
            headers = {"Authorization": f"Bearer {tokens[who]}", "Accept-Language": "en"}
            response = client.open(path, method=method, headers=headers, **kwargs)
            return {"status": response.status_code, "body": response.get_data(as_text=True)}

        for i, number in enumerate(numbers[:12]):  # photos, so that `attachments` is not always []
            data = {"file": (io.BytesIO(PNG), "p.png"), "kind": "photo", "public": "true" if i % 2 else "false"}
            out[f"attach {number}"] = call("POST", "dispatcher", f"/api/v1/tickets/{number}/attachments", data=data)
        for i, number in enumerate(numbers):
            who = VIEWERS[i % len(VIEWERS)]
            out[f"GET {number} {who}"] = call("GET", who, f"/api/v1/tickets/{number}")
        for who in VIEWERS:
            for page in range(1, 15):
                out[f"list {who} {page}"] = call("GET", who, f"/api/v1/tickets?per_page=100&page={page}")
            for query in ("status=resolved", "status=new,pending_dispatch&per_page=7", "department=water"):
                out[f"list {who} {query}"] = call("GET", who, f"/api/v1/tickets?{query}")
            out[f"search {who}"] = call("GET", who, "/api/v1/search/tickets?q=%E5%81%9C%E6%B0%B4&per_page=50")
        bodies = [
            {"caller_phone": "13800138000", "type": "complaint", "category": "potholes", "description": "坑"},
            {
                "caller_phone": "13900139000",
                "caller_name": "张三",
                "type": "help",
                "category": "water",
                "district": "baisha",
                "address": "人民路 12 号",
                "description": "停水",
                "urgency": "urgent",
                "channel": "phone",
                "confidential": True,
                "lat": 30.600515,
                "long": 114.309658,
            },
        ]
        categories = [c.code for c in db.session.scalars(select(__import__("hotline.models").models.Category))]
        for i in range(10):
            body = dict(bodies[i % 2], category=categories[i * 7 % len(categories)])
            out[f"POST {i}"] = call("POST", "operator", "/api/v1/tickets", json=body)
        out["POST bad"] = call("POST", "operator", "/api/v1/tickets", json={"caller_phone": 5})
        # Actions answer with the ticket: accept what department staff hold, and more.
        held = db.session.scalars(
            select(Ticket.number).where(Ticket.status == "dispatched").order_by(Ticket.id).limit(30)
        ).all()
        for number in held:
            ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
            who = f"dept-{ticket.department.code}"
            if who not in tokens and who in users:
                tokens[who] = issue_token(users[who])
            if who in tokens:
                out[f"accept {number}"] = call("POST", who, f"/api/v1/tickets/{number}/accept", json={})
                out[f"reveal {number}"] = call(
                    "POST", who, f"/api/v1/tickets/{number}/reveal-phone", json={"reason": "回访"}
                )
                out[f"note {number}"] = call(
                    "POST", "dispatcher", f"/api/v1/tickets/{number}/notes", json={"text": "x"}
                )
        out["openapi"] = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=False))
    print(f"{len(out)} answers, {len(numbers)} tickets")


def _same(old: object, new: object, path: str, found: list[str]) -> None:
    """`found` gets where `new` differs from `old`, but for a description gained and the order
    of a `required` list (apispec sorts it)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() | new.keys():
            if key not in old and key == "description":
                continue
            pair = old.get(key), new.get(key)
            if key == "required" and all(isinstance(v, list) for v in pair) and sorted(pair[0]) == sorted(pair[1]):
                continue
            _same(old.get(key), new.get(key), f"{path}/{key}", found)
        if path.endswith("/properties") and list(old) != list(new):
            found.append(f"{path}: order {list(old)} != {list(new)}")
    elif old != new:
        found.append(
            f"{path}: {json.dumps(old, ensure_ascii=False)[:200]} != {json.dumps(new, ensure_ascii=False)[:200]}"
        )


def compare(args: argparse.Namespace) -> None:
    old, new = json.loads(Path(args.old).read_text()), json.loads(Path(args.new).read_text())
    answers = [key for key in old if key != "openapi"]
    differ = [key for key in answers if old[key] != new.get(key)]
    print(f"answers: {len(answers) - len(differ)} of {len(answers)} identical; differ: {differ[:10]}")
    found: list[str] = []
    _same(old["openapi"], new["openapi"], "openapi", found)
    print(f"OpenAPI: {len(found)} differences beyond descriptions gained and the order of `required`")
    for line in found:
        print("  ", line)
    if differ or found:
        sys.exit(1)


def old_serializers(rev: str):
    """`hotline/api/serializers.py` as it was at `rev`, as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:hotline/api/serializers.py"], check=True, capture_output=True
    ).stdout
    spec = importlib.util.spec_from_loader("old_serializers", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{rev}:serializers.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def timing(args: argparse.Namespace) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from hotline.api import ticket_schemas
    from hotline.api.queries import assists_by_ticket
    from hotline.extensions import db
    from hotline.models import Ticket, User
    from hotline.services.citizens import outbox

    old = old_serializers(args.old)
    app = make_app(Path(args.db).resolve(), Path(args.db).resolve().parent / "attachments")
    with app.app_context(), app.test_request_context("/api/v1/tickets"):
        freeze_clock()
        viewer = db.session.scalar(select(User).where(User.username == "dispatcher"))
        tickets = db.session.scalars(
            select(Ticket).order_by(Ticket.id).limit(args.tickets).options(selectinload(Ticket.events))
        ).all()
        assisting = assists_by_ticket(tickets)
        for ticket in tickets:  # load everything once: the timing is of the shaping
            assert ticket_schemas.ticket_json(ticket, viewer) == old.ticket_json(ticket, viewer), ticket.number
        pages = [tickets[i : i + 100] for i in range(0, len(tickets), 100)]

        def old_list() -> None:
            for page in pages:
                [old.ticket_json(t, viewer, events=False, assisting=assisting[t.id]) for t in page]

        def new_list() -> None:
            for page in pages:
                ticket_schemas.summaries(page, viewer, assisting)

        def old_full() -> None:
            for ticket in tickets:
                old.ticket_json(ticket, viewer)

        def new_full() -> None:
            for ticket in tickets:
                ticket_schemas.ticket_json(ticket, viewer)

        def old_new_ticket(ticket: Ticket) -> dict:  # c6c1613's POST /tickets answer
            data = old.ticket_json(ticket, viewer, events=False, assisting=[])
            data["children"] = []
            data["events"] = [old.event_json(event) for event in ticket.events]
            data["notifications"] = [old.notification_json(message, False) for message in messages[ticket.id]]
            data["contacts"] = []
            data["attachments"] = []
            data["routing_queued"] = True
            return data

        def new_new_ticket(ticket: Ticket) -> dict:
            return ticket_schemas.new_ticket_json(ticket, viewer, ticket.events, messages[ticket.id], True)

        fresh = [t for t in tickets if t.status in ("new", "pending_dispatch", "dispatched")] or tickets
        messages = {t.id: outbox.for_ticket(t) for t in fresh}
        for ticket in fresh:
            assert old_new_ticket(ticket) == new_new_ticket(ticket), ticket.number

        def old_intake() -> None:
            for ticket in fresh:
                old_new_ticket(ticket)

        def new_intake() -> None:
            for ticket in fresh:
                new_new_ticket(ticket)

        assert [old.ticket_json(t, viewer, events=False, assisting=assisting[t.id]) for t in tickets] == [
            item for page in pages for item in ticket_schemas.summaries(page, viewer, assisting)
        ]
        print(f"{len(tickets)} tickets, viewer dispatcher; CPU µs per ticket dumped (best of {args.repeat})")
        runs = (
            ("list item", old_list, new_list, len(tickets)),
            ("whole (GET)", old_full, new_full, len(tickets)),
            ("POST answer", old_intake, new_intake, len(fresh)),
        )
        for name, old_call, new_call, count in runs:
            best = {"old": float("inf"), "new": float("inf")}
            for _ in range(args.repeat):  # alternated, so that a busy patch of the machine hits both
                for label, call in (("old", old_call), ("new", new_call)):
                    start = time.process_time()
                    call()
                    best[label] = min(best[label], (time.process_time() - start) * 1e6 / count)
            print(
                f"{name:<12} old {best['old']:8.1f}  new {best['new']:8.1f}  "
                f"({(best['new'] / best['old'] - 1) * 100:+.1f} %, {best['new'] - best['old']:+.1f} µs; {count} tickets)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("seed")
    one.add_argument("db")
    one.add_argument("--tickets", type=int, default=1200)
    two = sub.add_parser("dump")
    two.add_argument("db")
    two.add_argument("out")
    three = sub.add_parser("time")
    three.add_argument("db")
    three.add_argument("--tickets", type=int, default=1000)
    three.add_argument("--old", default="c6c1613")
    three.add_argument("--repeat", type=int, default=5)
    four = sub.add_parser("compare")
    four.add_argument("old")
    four.add_argument("new")
    args = parser.parse_args()
    {"seed": seed, "dump": dump, "time": timing, "compare": compare}[args.command](args)


if __name__ == "__main__":
    main()
