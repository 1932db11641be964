"""One way in (issue 15, item 2): every channel of the one list (`models.Channel`) opens a
ticket through `intake.open_ticket` (or its batch form, `open_history`), every channel that
opens tickets does so through it, an unknown channel is refused, and no other code creates a
ticket."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

import hotline
from hotline import labels
from hotline.demo import demo
from hotline.extensions import db
from hotline.models import (
    CHANNELS,
    Channel,
    Hotspot,
    OutboundMessage,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketSearch,
)
from hotline.services.accounts.users import issue_token
from hotline.services.citizens import calls
from hotline.services.errors import InvalidInput
from hotline.services.history_import import importing
from hotline.services.history_import.import_mapping import build_mapping
from hotline.services.hotspot_detection import hotspots
from hotline.services.ticketing import intake
from tests import factories, fake_twilio
from tests.workers import run_burst_worker

PACKAGE = Path(hotline.__file__).parent
ONE_MODULE = PACKAGE / "services" / "ticketing" / "intake.py"


# Calls about one place, alike enough to make a hotspot.
NOISE = [
    "幸福小区旁边工地夜间施工噪音扰民，凌晨还在打桩，居民无法休息。",
    "幸福小区附近工地晚上施工噪音很大，打桩声音扰民睡不着。",
    "投诉幸福小区边上的工地夜间施工，噪音扰民严重，希望制止。",
    "幸福小区工地夜里施工打桩，噪音扰民，老人孩子无法入睡。",
    "幸福小区旁工地深夜施工噪音扰民，请管一管夜间打桩。",
]


def fields(city, **changes) -> dict:
    return {
        "type": "complaint",
        "category_id": city.potholes.id,
        "district_id": city.east.id,
        "address": "东城区人民路 12 号",
        "description": "人民路路面有一个大坑，晚上很危险。",
        "caller_phone": "+8613800138000",
        "caller_name": "张三",
    } | changes


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_of_the_list_opens_a_ticket_through_the_one_function(city, channel) -> None:
    opened = intake.open_ticket(city.operator, channel, fields(city))

    db.session.expire_all()
    ticket = db.session.get(Ticket, opened.written.id)
    assert (ticket.channel, ticket.status, ticket.created_by) == (channel.value, Status.NEW, city.operator)
    assert [(e.kind, e.from_status, e.to_status, e.data) for e in ticket.events] == [
        ("created", None, Status.NEW, {"channel": channel.value})
    ]
    assert db.session.get(TicketSearch, ticket.id) is not None  # searchable at once
    (text,) = db.session.scalars(select(OutboundMessage)).all()  # the caller learns the number
    assert text.kind == "created" and ticket.number in text.body
    assert channel in labels.CHANNEL_LABELS  # reports and pages name it


def test_the_channels_people_name_are_of_the_list() -> None:
    assert set(CHANNELS) < {channel.value for channel in Channel}
    assert Channel.PROACTIVE not in CHANNELS  # the system's own: not for the form or the API


def test_the_api_describes_every_channel_a_ticket_may_have_and_takes_those_people_name(client) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for shown in ("Ticket", "TicketSummary"):  # a hotspot's case and imported history read back too
        assert schemas[shown]["properties"]["channel"]["enum"] == [channel.value for channel in Channel]
    taken = schemas["TicketInput"]["properties"]["channel"]["enum"]
    assert [channel for channel in taken if channel is not None] == list(CHANNELS)  # None: left out


@pytest.mark.parametrize("channel", ["fax", "", None, "PHONE"])
def test_an_unknown_channel_is_refused_with_a_clear_error_and_nothing_written(city, channel) -> None:
    with pytest.raises(InvalidInput) as refused:
        intake.open_ticket(city.operator, channel, fields(city))
    assert refused.value.field == "channel"
    assert refused.value.message == f"未知的来源渠道“{channel}”。"  # the hotline speaks Chinese first
    db.session.rollback()
    assert (count(Ticket), count(TicketEvent), count(TicketCounter)) == (0, 0, 0)


def test_what_opening_sets_is_not_the_openers_to_give(city) -> None:
    for owned in ("status", "number", "created_at", "channel"):
        with pytest.raises(ValueError, match=owned):
            intake.open_ticket(city.operator, Channel.PHONE, fields(city, **{owned: "x"}))
    assert count(Ticket) == 0


@pytest.fixture
def openings(monkeypatch) -> list[tuple[str, str]]:
    """Every call of the one function and of its batch form, (function, channel), each then
    running for real."""
    calls_seen: list[tuple[str, str]] = []
    open_ticket, open_history = intake.open_ticket, intake.open_history

    def spied_open(actor, channel, *args, **kwargs):
        calls_seen.append(("open_ticket", str(channel)))
        return open_ticket(actor, channel, *args, **kwargs)

    def spied_history(drafts):
        calls_seen.extend(("open_history", ticket.channel) for ticket, _events in drafts)
        return open_history(drafts)

    monkeypatch.setattr(intake, "open_ticket", spied_open)
    monkeypatch.setattr(intake, "open_history", spied_history)
    return calls_seen


def test_every_way_in_opens_its_tickets_through_the_one_function(city, login, api, client, openings, tmp_path) -> None:
    form = {
        "caller_phone": "138 0013 8000",
        "type": "complaint",
        "category": "potholes",
        "description": "路面塌陷，车辆无法通行。",
        "channel": "sms",
    }
    assert login(city.operator).post("/tickets/new", data=form).status_code == 302
    body = {"caller_phone": "13800138000", "type": "help", "category": "potholes", "description": "井盖缺失。"}
    assert api(city.operator).post("/api/v1/tickets", json=body).status_code == 201
    open311 = {"api_key": issue_token(city.operator), "service_code": "potholes", "phone": "139 0013 9000"}
    open311 |= {"description": "人民路中段路面塌陷，车辆难以通过。", "address_string": "东城区人民路 88 号"}
    assert client.post("/open311/v2/requests.json", data=open311).status_code == 200  # as GeoReport v2 says
    assert calls.record_voicemail("CA1", "https://api.twilio.com/rec/RE1", 20, "+8613700137000").created
    for text in NOISE:
        factories.make_ticket(city.operator, description=text)
    hotspots.detect("week")
    hotspots.assign(city.supervisor, db.session.scalars(select(Hotspot)).first(), "roads")
    old = tmp_path / "old.csv"
    with old.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [["Ref", "Opened", "Office", "Topic", "Channel"], ["7", "2024-03-01", "P", "R", "App"]]
        )
    columns = ["id=Ref,created=Opened,department=Office,category=Topic,channel=Channel"]
    mapping = build_mapping(None, columns, None, "Asia/Shanghai", "oldcrm", old, default_tz="Asia/Shanghai")
    assert importing.import_csv(old, mapping).imported == 1

    logged = len(NOISE)  # the hotspot's tickets, logged by the operator (phone)
    assert openings == [
        ("open_ticket", "sms"),
        ("open_ticket", "api"),
        ("open_ticket", "open311"),
        ("open_ticket", "voicemail"),
        *[("open_ticket", "phone")] * logged,
        ("open_ticket", "proactive"),
        ("open_history", "mobile"),
    ]
    assert count(Ticket) == len(openings)  # and nothing opened any other way


def test_the_demo_city_opens_its_tickets_through_the_batch_form(openings) -> None:
    demo.seed_demo(ticket_count=40)
    assert [function for function, _channel in openings] == ["open_history"] * 40
    assert count(Ticket) == 40
    # Every ticket searchable, as one opened live.
    assert count(TicketSearch) == 40


@pytest.mark.redis
@pytest.mark.worker
def test_a_voicemails_text_is_handed_to_the_workers_with_its_ticket(app, city, queue, monkeypatch) -> None:
    """A voicemail opens its ticket as any channel does: the text with the number is written in
    the ticket's transaction and the ticket handed over; a worker sends the text and leaves the
    ticket on the dispatcher's desk (someone must listen to it first)."""
    with fake_twilio.running(app, monkeypatch) as twilio:
        made = calls.record_voicemail("CA1", "https://api.twilio.com/rec/RE1", 20, "+8613700137000")
        # The drain job, and the job that fetches the recording once the ticket is committed (attachments).
        assert made.created and queue.count == 2

        output = run_burst_worker(**fake_twilio.worker_env(twilio))

        assert queue.failed_job_registry.count == 0, output
        [sent] = twilio.messages()
        assert sent["To"] == "+8613700137000" and made.ticket.number in sent["Body"]
    ticket = db.session.get(Ticket, made.ticket.id)
    assert (ticket.status, ticket.department) == (Status.PENDING_DISPATCH, None)
    assert [event.kind for event in ticket.events] == ["created"]


def _creates_tickets(node: ast.AST) -> bool:
    """`Ticket(...)`, `insert(Ticket...)` and `insert_row(s)(..., Ticket, ...)`."""
    if not isinstance(node, ast.Call):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    if name == "Ticket":
        return True
    if name in ("insert", "insert_row", "insert_rows"):  # the model or its table
        return any(ast.unparse(arg).split(".")[0] == "Ticket" for arg in node.args)
    return False


def test_no_other_module_creates_a_ticket() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if any(_creates_tickets(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {ONE_MODULE.relative_to(PACKAGE).as_posix()}
