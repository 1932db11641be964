"""The phone line's own figures (接通率): how many calls reached the operators, how many they
answered, how many within 15 seconds, how many callers gave up, how long callers waited and
talked, and how many missed callers were called back. Read from the call log (`Call`).

Definitions (printed on the page and in docs/api.md):

- The calls counted rang (`started_at`) on the local dates asked for, in the hotline's time
  zone, both days included; hours and days are local too.
- offered: the call reached the operators' queue (`queued_at`), or an operator answered it.
- answered: offered, and taken by an operator (from the console or bridged by Twilio).
- wait: from joining the queue to the answer, for answered calls; answered within 15 s: a wait
  of 15 seconds or less (exactly 15 counts).
- abandoned (放弃呼叫): offered, not answered, not offered voicemail, and over: the caller hung up
  while waiting.
- voicemail: offered, not answered, and offered voicemail after the longest wait
  (HOTLINE_VOICE_MAX_WAIT): neither answered nor abandoned, whether a message was left or not.
- out of hours: offered voicemail straight after the greeting, because the line was closed
  (HOTLINE_VOICE_HOURS=office): not offered, counted apart.
- Offered calls neither answered, abandoned nor sent to voicemail are still waiting.
- answer rate: answered ÷ offered; answered within 15 s rate: answered within 15 s ÷ offered.
- talk: from the answer to the end of the call, for answered calls that are over.
- missed (未接来电): the calls on the console's call-back list: over, unanswered, without a
  voicemail ticket, from a number that can be called. Called back: an operator called the
  number back (marked on the console, or a ticket logged for the call) within
  CALLBACK_HOURS of the end of the call; the median time to call back counts those.
- By operator: a call counts under the operator who answered it; calls no one answered, and
  those Twilio bridged to a phone without naming an operator, count under "no operator".

Calls logged before the call log recorded queue entries (migration f16a00000070) count as
offered only when answered, their wait measured from when they rang.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, select, type_coerce

from hotline.extensions import db
from hotline.models import Call, User
from hotline.services.reporting.report_figures import day_bounds, percentile, timezone

CALL_GROUPINGS = ("hour", "day", "operator", "all")
WITHIN_SECONDS = 15
CALLBACK_HOURS = 24
CALLBACK_WINDOW = timedelta(hours=CALLBACK_HOURS)
# from_number, started_at, queued_at, answered_at, voicemail_at, ended_at, missed, called_back_at,
# answered_by_id: a plain tuple per call, as the report reads a month of calls at once.
CallTimes = tuple[
    str, datetime, datetime | None, datetime | None, datetime | None, datetime | None, bool, datetime | None, int | None
]


@dataclass
class CallRow:
    group_by: str
    key: str  # the local hour (2026-11-25T10:00) or day, the operator's user name; "" for all or none
    name: str
    offered: int = 0
    answered: int = 0
    answered_within_15s: int = 0
    abandoned: int = 0
    voicemail: int = 0
    out_of_hours: int = 0
    answer_rate: float | None = None
    answer_within_15s_rate: float | None = None
    wait_p50_seconds: float | None = None
    wait_p90_seconds: float | None = None
    talk_mean_seconds: float | None = None
    missed: int = 0
    missed_called_back: int = 0
    callback_p50_seconds: float | None = None


@dataclass
class _Tally:
    offered: int = 0
    answered: int = 0
    within: int = 0
    abandoned: int = 0
    voicemail: int = 0
    out_of_hours: int = 0
    missed: int = 0
    waits: list[float] = field(default_factory=list)
    talks: list[float] = field(default_factory=list)
    callbacks: list[float] = field(default_factory=list)

    def add(self, call: CallTimes) -> None:
        number, started, queued, answered, voicemail, ended, missed, called_back, _operator = call
        if missed and number:
            self.missed += 1
            since = ended or started
            if called_back is not None and called_back - since <= CALLBACK_WINDOW:
                self.callbacks.append(max((called_back - since).total_seconds(), 0.0))
        if queued is None and answered is None:  # never reached the queue
            self.out_of_hours += voicemail is not None
            return
        self.offered += 1
        if answered is not None:
            self.answered += 1
            wait = max((answered - (queued or started)).total_seconds(), 0.0)
            self.waits.append(wait)
            self.within += wait <= WITHIN_SECONDS
            if ended is not None:
                self.talks.append(max((ended - answered).total_seconds(), 0.0))
        elif voicemail is not None:
            self.voicemail += 1
        elif ended is not None:
            self.abandoned += 1

    def row(self, group_by: str, key: str, name: str) -> CallRow:
        return CallRow(
            group_by=group_by,
            key=key,
            name=name,
            offered=self.offered,
            answered=self.answered,
            answered_within_15s=self.within,
            abandoned=self.abandoned,
            voicemail=self.voicemail,
            out_of_hours=self.out_of_hours,
            answer_rate=_rate(self.answered, self.offered),
            answer_within_15s_rate=_rate(self.within, self.offered),
            wait_p50_seconds=_seconds(percentile(self.waits, 0.5)),
            wait_p90_seconds=_seconds(percentile(self.waits, 0.9)),
            talk_mean_seconds=_seconds(sum(self.talks) / len(self.talks) if self.talks else None),
            missed=self.missed,
            missed_called_back=len(self.callbacks),
            callback_p50_seconds=_seconds(percentile(self.callbacks, 0.5)),
        )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


COLUMNS = (
    Call.from_number,
    Call.started_at,
    Call.queued_at,
    Call.answered_at,
    Call.voicemail_at,
    Call.ended_at,
    Call.missed,
    Call.called_back_at,
    Call.answered_by_id,
)
INSTANTS = (1, 2, 3, 4, 5, 7)  # the positions of the times in COLUMNS


def read_calls(low: datetime, high: datetime) -> Iterator[CallTimes]:
    """The calls that rang in [low, high). SQLite keeps times as text, which SQLAlchemy's
    parser reads at a few microseconds a value: read as text and parsed by
    `datetime.fromisoformat` instead (naive UTC, the way SQLite stores it: the report only
    subtracts them, and `_group_key` makes them UTC), the report reads twice as many calls a second."""
    where = (Call.started_at >= low, Call.started_at < high)
    if db.session.get_bind().dialect.name != "sqlite":
        yield from db.session.execute(select(*COLUMNS).where(*where))
        return
    columns = [type_coerce(c, String) if i in INSTANTS else c for i, c in enumerate(COLUMNS)]
    parse = datetime.fromisoformat
    for number, started, queued, answered, voicemail, ended, missed, back, by in db.session.execute(
        select(*columns).where(*where)
    ):
        yield (
            number,
            parse(started),
            queued and parse(queued),
            answered and parse(answered),
            voicemail and parse(voicemail),
            ended and parse(ended),
            missed,
            back and parse(back),
            by,
        )


def call_report(start: date, end: date, group_by: str) -> list[CallRow]:
    """One row per local hour or day that had calls, per operator, or one for all (see the
    module's definitions). Hours and days in order; operators by name, "no operator" last."""
    return call_report_with_total(start, end, group_by)[0]


def call_report_with_total(start: date, end: date, group_by: str) -> tuple[list[CallRow], CallRow]:
    """The rows and the total for all, from one read of the calls."""
    if group_by not in CALL_GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    zone = timezone()
    low, high = day_bounds(start, end, zone)
    tallies: dict[Any, _Tally] = defaultdict(_Tally)
    total = _Tally()
    for call in read_calls(low, high):
        total.add(call)
        if group_by != "all":
            tallies[_group_key(call, group_by, zone)].add(call)
    total_row = total.row("all", "", "")
    if group_by == "all":
        return [total_row], total_row
    if group_by == "operator":
        return _operator_rows(tallies), total_row
    return [tallies[key].row(group_by, *_period_names(key, group_by)) for key in sorted(tallies)], total_row


def _group_key(call: CallTimes, group_by: str, zone) -> Any:
    if group_by == "operator":
        return call[8]
    started = call[1]
    local = (started if started.tzinfo else started.replace(tzinfo=UTC)).astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0, tzinfo=None) if group_by == "hour" else local.date()


def _period_names(key: datetime | date, group_by: str) -> tuple[str, str]:
    if group_by == "hour":
        assert isinstance(key, datetime)
        return key.strftime("%Y-%m-%dT%H:00"), key.strftime("%Y-%m-%d %H:00")
    return key.isoformat(), key.isoformat()


def _operator_rows(tallies: dict[Any, _Tally]) -> list[CallRow]:
    users = _users(key for key in tallies if key is not None)
    named = sorted(
        (tallies[user_id].row("operator", username, display or username) for user_id, (username, display) in users),
        key=lambda row: (row.name, row.key),
    )
    return [*named, tallies[None].row("operator", "", "")] if None in tallies else named


def _users(ids: Iterable[int]) -> list[tuple[int, tuple[str, str]]]:
    ids = list(ids)
    if not ids:
        return []
    found = db.session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return [(user_id, (username, display or "")) for user_id, username, display in found]
