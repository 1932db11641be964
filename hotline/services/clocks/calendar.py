"""The working calendar: holiday table + office hours → a `WorkCalendar`.

Holidays and make-up workdays (调休) come from the `calendar_day` table, seeded
from the `chinesecalendar` package by a migration and corrected or extended by
administrators (a year's list as published in holiday-cn's JSON). A year with
no list falls back to Monday–Friday, and `missing_years` tells administrators.
"""

from __future__ import annotations

import json
import time as clock
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, extract, select

from hotline.extensions import db
from hotline.models.calendar import CalendarDay, CalendarYear
from hotline.services.clocks.worktime import WorkCalendar, parse_office_hours
from hotline.services.errors import InvalidInput
from hotline.services.platform.storage import all_storable

# The years a holiday list may be given for: beyond them a deadline search would run for ever.
FIRST_YEAR, LAST_YEAR = 1900, 2200
WEEKDAY_KEYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# Each process re-reads the table at most this often; changes made here clear it at once.
CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, WorkCalendar]] = {}


@dataclass(frozen=True)
class HolidayTable:
    exceptions: dict[date, bool]  # day → off?
    known_years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        off = self.exceptions.get(day)
        if off is not None:
            return not off
        return day.weekday() < 5


def work_calendar() -> WorkCalendar:
    """The calendar in force, cached briefly per process (routing asks for it per ticket)."""
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cached = _cache.get(key)
    if cached and clock.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    calendar = build_work_calendar(load_holidays())
    _cache[key] = (clock.monotonic(), calendar)
    return calendar


def forget_cached_calendar() -> None:
    _cache.clear()


def build_work_calendar(table: HolidayTable) -> WorkCalendar:
    config = current_app.config
    weekday_hours = {
        index: parse_office_hours(config[f"HOTLINE_OFFICE_HOURS_{key}"])
        for index, key in enumerate(WEEKDAY_KEYS)
        if config.get(f"HOTLINE_OFFICE_HOURS_{key}")
    }
    return WorkCalendar(
        tz=ZoneInfo(config["HOTLINE_TIMEZONE"]),
        is_working_day=table.is_working_day,
        office_hours=parse_office_hours(config["HOTLINE_OFFICE_HOURS"]),
        weekday_hours=weekday_hours,
    )


def load_holidays() -> HolidayTable:
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.off)).all()
    years = db.session.scalars(select(CalendarYear.year)).all()
    return HolidayTable({row.day: row.off for row in rows}, frozenset(years))


def is_working_day(day: date) -> bool:
    return work_calendar().is_working_day(day)


def add_working_days(start: datetime, days: float, tz: str | None = None) -> datetime:
    """`days` standard working days of office time after `start` (`tz` is kept for old callers)."""
    return work_calendar().add_working_days(start, days)


def missing_years(years: list[int]) -> list[int]:
    """Which of these years have no holiday list: their working days are only guessed."""
    known = set(db.session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(years))))
    return [year for year in years if year not in known]


def seed_from_package() -> int:
    """Load every year the `chinesecalendar` package knows; years already loaded are kept."""
    from chinese_calendar import constants

    days: list[dict[str, Any]] = [
        {"date": day.isoformat(), "name": name, "isOffDay": True} for day, name in constants.holidays.items()
    ]
    days += [{"date": day.isoformat(), "name": name, "isOffDay": False} for day, name in constants.workdays.items()]
    by_year: dict[int, list[dict[str, Any]]] = {}
    for entry in days:
        by_year.setdefault(int(entry["date"][:4]), []).append(entry)
    loaded = set(db.session.scalars(select(CalendarYear.year)))
    count = 0
    for year, entries in sorted(by_year.items()):
        if year not in loaded:
            count += _replace_year(year, _validated(entries), "chinesecalendar")
    db.session.commit()
    forget_cached_calendar()
    return count


def load_year_json(text: str | bytes, source: str = "import") -> dict[int, int]:
    """Load holiday lists in holiday-cn's format: `{"year": ..., "days": [...]}` or the bare list.

    Each year in the file replaces that year's table entirely (the published list is complete).
    Returns {year: number of days}. Nothing changes when any entry is invalid.
    """
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput(_("The file is not valid JSON: %(error)s", error=error), field="file") from None
    if not all_storable(data):
        raise InvalidInput(_("The file contains characters that cannot be stored."), field="file")
    entries = data.get("days") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise InvalidInput(_("Expected a list of days, or an object with a “days” list."), field="file")
    days = _validated(entries)
    by_year: dict[int, list[tuple[date, bool, str]]] = {}
    for day in days:
        by_year.setdefault(day[0].year, []).append(day)
    counts = {year: _replace_year(year, rows, source) for year, rows in sorted(by_year.items())}
    db.session.commit()
    forget_cached_calendar()
    return counts


def set_day(day: date, off: bool | None, name: str = "") -> None:
    """An administrator's correction; `off=None` removes the exception (back to Mon–Fri)."""
    row = db.session.get(CalendarDay, day)
    if off is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CalendarDay(day=day, off=off, name=name.strip()[:80], source="admin"))
    else:
        row.off, row.name, row.source = off, name.strip()[:80], "admin"
    db.session.commit()
    forget_cached_calendar()


def days_of_year(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            select(CalendarDay).where(extract("year", CalendarDay.day) == year).order_by(CalendarDay.day)
        )
    )


def _validated(entries: list[Any]) -> list[tuple[date, bool, str]]:
    days: list[tuple[date, bool, str]] = []
    seen: set[date] = set()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InvalidInput(_("Entry %(n)d is not an object.", n=position), field="file")
        try:
            day = date.fromisoformat(str(entry.get("date")))
        except ValueError:
            raise InvalidInput(_("Entry %(n)d has no valid date (YYYY-MM-DD).", n=position), field="file") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidInput(
                _(
                    "Entry %(n)d: the year must be from %(first)d to %(last)d.",
                    n=position,
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                ),
                field="file",
            )
        if day in seen:  # the table holds one row per day: a repeat would fail in the database
            raise InvalidInput(_("Entry %(n)d repeats the date %(date)s.", n=position, date=day), field="file")
        seen.add(day)
        off = entry.get("isOffDay")
        if not isinstance(off, bool):
            raise InvalidInput(_("Entry %(n)d needs isOffDay true or false.", n=position), field="file")
        days.append((day, off, str(entry.get("name") or "")[:80]))
    return days


def _replace_year(year: int, days: list[tuple[date, bool, str]], source: str) -> int:
    db.session.execute(delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.add_all(CalendarDay(day=day, off=off, name=name, source=source) for day, off, name in days)
    row = db.session.get(CalendarYear, year)
    if row is None:
        db.session.add(CalendarYear(year=year, source=source))
    else:
        row.source = source
    return len(days)
