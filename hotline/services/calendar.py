"""Working days on the Chinese calendar (statutory holidays and 调休 make-up days).

`chinesecalendar` knows the years the State Council has announced; for any other
year we fall back to Monday–Friday rather than fail. The SLA issue will move
the calendar into a table that administrators can correct.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, days: int, tz: str) -> datetime:
    """The same local time of day, `days` working days after `start`'s local date."""
    local = start.astimezone(ZoneInfo(tz))
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    due_local = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=ZoneInfo(tz))
    return due_local.astimezone(start.tzinfo)
