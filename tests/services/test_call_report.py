"""The phone line's figures (接通率): a call log with known figures, built through the calls
service as the voice webhooks build it, and a random log; both compared exactly with an
independent computation in plain Python over the rows, through the service and the API.

Dates are local days in Shanghai (UTC+8): 2026-11-25 02:00 UTC is 10:00 there."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Call, Role
from hotline.services.citizens import calls
from hotline.services.reporting.call_report import call_report
from tests import factories
from tests.call_log import RANGE, build_known_log, s

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def no_jobs(app, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


@pytest.fixture
def known_log(city, no_jobs):
    return build_known_log(city)


class TestKnownFigures:
    def test_the_whole_range(self, known_log, api, city):
        [row] = api(city.supervisor).get(f"/api/v1/reports/calls?{RANGE}").get_json()
        assert row == {
            "group_by": "all",
            "key": "",
            "name": "",
            "offered": 7,  # A B C D E F H: G never reached the queue, I rang the day before
            "answered": 4,  # A B F H
            "answered_within_15s": 3,  # A (exactly 15 s), F, H; not B (16 s)
            "abandoned": 2,  # C after 3 s, E after 30 s
            "voicemail": 1,  # D
            "out_of_hours": 1,  # G
            "answer_rate": 0.5714,
            "answer_within_15s_rate": 0.4286,
            "wait_p50_seconds": 12.5,  # waits 5, 10, 15, 16
            "wait_p90_seconds": 15.7,
            "talk_mean_seconds": 60.0,  # 120, 60, 30, 30
            "missed": 3,  # C, E, G
            "missed_called_back": 1,  # E, two hours after it ended
            "callback_p50_seconds": 7200.0,
        }

    def test_per_day_hour_and_operator(self, known_log, city):
        by_day = {row.key: row for row in call_report(date(2026, 11, 25), date(2026, 11, 26), "day")}
        assert {k: (r.offered, r.answered, r.out_of_hours) for k, r in by_day.items()} == {
            "2026-11-25": (6, 3, 1),
            "2026-11-26": (1, 1, 0),  # 01:00 in Shanghai, 17:00 UTC the day before
        }
        by_hour = call_report(date(2026, 11, 25), date(2026, 11, 26), "hour")
        assert [(r.key, r.offered, r.abandoned, r.voicemail) for r in by_hour] == [
            ("2026-11-25T10:00", 5, 2, 1),
            ("2026-11-25T11:00", 1, 0, 0),
            ("2026-11-26T01:00", 1, 0, 0),
        ]
        by_operator = call_report(date(2026, 11, 25), date(2026, 11, 26), "operator")
        assert [(r.key, r.answered, r.wait_p50_seconds) for r in by_operator] == [
            ("operator", 2, 12.5),
            ("operator2", 1, 16.0),
            ("", 1, 5.0),  # F, bridged by Twilio; and C D E G, which nobody answered
        ]
        assert by_operator[-1].offered == 4 and by_operator[-1].out_of_hours == 1

    def test_a_call_back_after_the_window_does_not_count(self, known_log, city):
        g = db.session.scalar(select(Call).where(Call.call_sid == "CA-G"))
        calls.mark_called_back(city.operator, g, now=g.ended_at + timedelta(hours=24, seconds=1))
        [row] = call_report(date(2026, 11, 25), date(2026, 11, 26), "all")
        assert (row.missed, row.missed_called_back) == (3, 1)


# -- an independent computation ---------------------------------------------------------------


def expected(rows: list[Call], start: date, end: date, group_by: str, usernames: dict[int, str]) -> list[dict]:
    """The figures from the rows, written apart from the service: plain Python, rule by rule."""
    groups: dict[str, list[Call]] = defaultdict(list)
    for call in rows:
        local = call.started_at.astimezone(SHANGHAI)
        if not start <= local.date() <= end:
            continue
        if group_by == "all":
            key = ""
        elif group_by == "day":
            key = local.date().isoformat()
        elif group_by == "hour":
            key = f"{local:%Y-%m-%dT%H}:00"
        else:
            key = usernames[call.answered_by_id] if call.answered_by_id else ""
        groups[key].append(call)
    if group_by == "all":
        groups.setdefault("", [])
    result = []
    for key, members in groups.items():
        offered = [c for c in members if c.queued_at or c.answered_at]
        answered = [c for c in offered if c.answered_at]
        waits = sorted((c.answered_at - (c.queued_at or c.started_at)).total_seconds() for c in answered)
        talks = [(c.ended_at - c.answered_at).total_seconds() for c in answered if c.ended_at]
        missed = [c for c in members if c.missed and c.from_number]
        backs = sorted(
            (c.called_back_at - c.ended_at).total_seconds()
            for c in missed
            if c.called_back_at and c.called_back_at - c.ended_at <= timedelta(hours=24)
        )
        within = sum(1 for w in waits if w <= 15)
        result.append(
            {
                "group_by": group_by,
                "key": key,
                "offered": len(offered),
                "answered": len(answered),
                "answered_within_15s": within,
                "abandoned": sum(1 for c in offered if not c.answered_at and not c.voicemail_at and c.ended_at),
                "voicemail": sum(1 for c in offered if not c.answered_at and c.voicemail_at),
                "out_of_hours": sum(1 for c in members if c not in offered and c.voicemail_at),
                "answer_rate": round(len(answered) / len(offered), 4) if offered else None,
                "answer_within_15s_rate": round(within / len(offered), 4) if offered else None,
                "wait_p50_seconds": quantile(waits, 0.5),
                "wait_p90_seconds": quantile(waits, 0.9),
                "talk_mean_seconds": round(sum(talks) / len(talks), 3) if talks else None,
                "missed": len(missed),
                "missed_called_back": len(backs),
                "callback_p50_seconds": quantile(backs, 0.5),
            }
        )
    return sorted(result, key=lambda row: (group_by == "operator" and row["key"] == "", row["key"]))


def quantile(ordered: list[float], fraction: float) -> float | None:
    """Linear between the closest ranks (numpy's default, as spreadsheets compute PERCENTILE)."""
    if not ordered:
        return None
    h = (len(ordered) - 1) * fraction
    low = ordered[math.floor(h)]
    return round(low + (h - math.floor(h)) * (ordered[math.ceil(h)] - low), 3)


def without_names(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "name"} for row in rows]


def random_log(city, seed: int, n: int = 240) -> dict[int, str]:
    """Calls in every shape the log can hold, old rows (no queue entry) and odd ones included,
    on three local days around the range asked for."""
    rng = random.Random(seed)
    staff = [city.operator, factories.make_user(Role.OPERATOR, username="operator_b"), city.supervisor]
    start = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 22:00 on the 24th in Shanghai
    for i in range(n):
        rang = start + s(rng.randrange(0, 3 * 86400))
        call = Call(call_sid=f"CR{seed}-{i}", from_number=rng.choice(["", "+8613800138000", f"+86139{i:08d}"]))
        call.started_at = rang
        old = rng.random() < 0.1
        call.queued_at = None if old or rng.random() < 0.1 else rang + s(rng.randrange(0, 12))
        queue = call.queued_at or rang
        fate = rng.choice(["answered", "answered", "answered", "abandoned", "voicemail", "waiting"])
        if fate == "answered":
            call.answered_at = queue + s(rng.choice([0, 14, 15, 16, rng.randrange(0, 300)]) + rng.random() // 1)
            call.answered_by_id = rng.choice([*[u.id for u in staff], None])
            if rng.random() < 0.9:
                call.ended_at = call.answered_at + s(rng.randrange(1, 900))
        elif fate == "voicemail":
            call.voicemail_at = queue + s(rng.randrange(0, 150))
            call.ended_at = call.voicemail_at + s(rng.randrange(5, 90))
            call.missed = rng.random() < 0.4  # no message left
        elif fate == "abandoned":
            call.ended_at = queue + s(rng.randrange(0, 200))
            call.missed = True
        if call.missed and rng.random() < 0.6:
            call.called_back_at = call.ended_at + s(rng.choice([0, 86400, 86401, rng.randrange(60, 2 * 86400)]))
        call.status = "completed" if call.ended_at else "queued"
        db.session.add(call)
    db.session.commit()
    return {u.id: u.username for u in staff}


@pytest.mark.parametrize("group_by", ["all", "day", "hour", "operator"])
def test_a_random_log_matches_an_independent_computation(city, api, group_by):
    usernames = random_log(city, seed=16)
    rows = list(db.session.scalars(select(Call)))
    want = expected(rows, date(2026, 11, 25), date(2026, 11, 26), group_by, usernames)
    got = api(city.supervisor).get(f"/api/v1/reports/calls?{RANGE}&group_by={group_by}").get_json()
    assert without_names(got) == want
    assert sum(row["offered"] for row in got) > 50  # the log is not empty in the range


def test_the_figures_add_up(city):
    random_log(city, seed=7)
    [total] = call_report(date(2026, 11, 24), date(2026, 11, 27), "all")
    for group_by in ("day", "hour", "operator"):
        parts = call_report(date(2026, 11, 24), date(2026, 11, 27), group_by)
        for figure in ("offered", "answered", "answered_within_15s", "abandoned", "voicemail", "missed"):
            assert sum(getattr(row, figure) for row in parts) == getattr(total, figure), (group_by, figure)
    assert total.answered + total.abandoned + total.voicemail <= total.offered


# -- the API's and the page's parameters -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("group_by=week", "group_by", "hour, day, operator, all"),
        ("from=2026-13-01", "from", "YYYY-MM-DD"),
        ("from=2026-11-26&to=2026-11-25", "from", "晚于"),  # Chinese: the API speaks the hotline's language
        ("from=1990-01-01&to=2026-11-25", "from", ""),  # longer than any report answers
    ],
)
def test_bad_parameters_are_refused_clearly(city, api, query, field, words):
    response = api(city.supervisor).get(f"/api/v1/reports/calls?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_input" and body["field"] == field and body["detail"] and words in body["detail"]


def test_only_supervisors_and_administrators_read_it(city, api):
    assert api(city.operator).get("/api/v1/reports/calls").status_code == 403
    assert api(city.admin).get("/api/v1/reports/calls").status_code == 200
