"""Working-time arithmetic: office hours on working days, in the hotline's time zone.

Pure functions over a `WorkCalendar`, so that they can be tested exhaustively.
A working clock only runs inside office hours on working days: 4 working hours
from Friday 16:30 end on Monday at 12:00 with the default hours. A deadline
that uses up a day's last minute ends at closing time (17:30), not at the next
opening, so a deadline always falls inside office hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]
DEFAULT_OFFICE_HOURS: tuple[Interval, ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))
# The longest stretch we will search for working time: a year with no working day is a data error.
SEARCH_LIMIT_DAYS = 3 * 366


def parse_office_hours(text: str) -> tuple[Interval, ...]:
    """'09:00-12:00,13:30-17:30' → ((09:00, 12:00), (13:30, 17:30)); raises ValueError."""
    intervals: list[Interval] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        start_text, _, end_text = part.partition("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        if end <= start:
            raise ValueError(f"office hours {part!r} end before they start")
        if intervals and start < intervals[-1][1]:
            raise ValueError(f"office hours {part!r} overlap or are out of order")
        intervals.append((start, end))
    if not intervals:
        raise ValueError("no office hours given")
    return tuple(intervals)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, and the office hours on them.

    `is_working_day` answers from the holiday table (or its fallback);
    `weekday_hours` may give other hours for a weekday (0 = Monday).
    """

    tz: ZoneInfo
    is_working_day: Callable[[date], bool]
    office_hours: tuple[Interval, ...] = DEFAULT_OFFICE_HOURS
    weekday_hours: dict[int, tuple[Interval, ...]] = field(default_factory=dict)

    @property
    def day_minutes(self) -> int:
        """The length of a standard working day: what 'one working day' of an SLA means."""
        return sum(_minutes(start, end) for start, end in self.office_hours)

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        hours = self.weekday_hours.get(day.weekday(), self.office_hours)
        return [
            (datetime.combine(day, start, tzinfo=self.tz), datetime.combine(day, end, tzinfo=self.tz))
            for start, end in hours
        ]

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.tz).date()
        for offset in range(SEARCH_LIMIT_DAYS):
            yield from self.intervals(day + timedelta(days=offset))
        raise ValueError(f"no working time within {SEARCH_LIMIT_DAYS} days of {moment.isoformat()}")

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment when `minutes` of office time have passed since `start` (UTC)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = timedelta(minutes=minutes)
        for low, high in self._intervals_from(start):
            if high < start or (high == start and remaining):
                continue  # this stretch of office time is over before the clock starts
            begin = max(low, start)
            if remaining <= high - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= high - begin
        raise AssertionError("unreachable")  # _intervals_from raises first

    def subtract_working_minutes(self, end: datetime, minutes: float) -> datetime:
        """The moment `minutes` of office time before `end` (the amber point before a deadline)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = timedelta(minutes=minutes)
        day = end.astimezone(self.tz).date()
        for offset in range(SEARCH_LIMIT_DAYS):
            for low, high in reversed(self.intervals(day - timedelta(days=offset))):
                if low > end or (low == end and remaining):
                    continue
                finish = min(high, end)
                if remaining <= finish - low:
                    return (finish - remaining).astimezone(UTC)
                remaining -= finish - low
        raise ValueError(f"no working time within {SEARCH_LIMIT_DAYS} days before {end.isoformat()}")

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.add_working_minutes(start, days * self.day_minutes)

    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        """Office minutes inside [start, end); negative when end is before start."""
        if end < start:
            return -self.working_minutes_between(end, start)
        total = timedelta(0)
        for low, high in self._intervals_from(start):
            if low >= end:
                break
            overlap = min(high, end) - max(low, start)
            if overlap > timedelta(0):
                total += overlap
        return total.total_seconds() / 60

    def is_office_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(low <= local < high for low, high in self.intervals(local.date()))

    def next_office_time(self, moment: datetime) -> datetime:
        """`moment` itself inside office hours, else the next opening."""
        for low, high in self._intervals_from(moment):
            if high > moment:
                return max(low, moment).astimezone(UTC)
        raise AssertionError("unreachable")


def _minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
