"""Office-hour arithmetic: exact cases and properties (hypothesis)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.services.clocks.worktime import WorkCalendar, parse_office_hours


def package_or_weekdays(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(tz=SHANGHAI, is_working_day=package_or_weekdays)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_parse_office_hours():
    assert parse_office_hours("09:00-12:00, 13:30-17:30") == ((time(9), time(12)), (time(13, 30), time(17, 30)))
    for bad in ["", "9-8", "09:00-12:00,11:00-13:00", "nine-ten"]:
        with pytest.raises(ValueError):
            parse_office_hours(bad)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (local(2026, 11, 27, 16, 30), 240, local(2026, 11, 30, 12, 0)),  # Friday → Monday
        (local(2026, 11, 25, 11, 0), 60, local(2026, 11, 25, 12, 0)),  # ends exactly at lunch
        (local(2026, 11, 25, 11, 0), 61, local(2026, 11, 25, 13, 31)),  # resumes after lunch
        (local(2026, 11, 25, 12, 45), 30, local(2026, 11, 25, 14, 0)),  # started at lunch
        (local(2026, 11, 25, 20, 0), 420, local(2026, 11, 26, 17, 30)),  # started at night: a full day
        (local(2026, 11, 25, 8, 0), 0, local(2026, 11, 25, 9, 0)),  # nothing to add: the next opening
        # Spring Festival 2026: 02-15..02-23 off, Saturday 02-14 and 02-28 worked
        (local(2026, 2, 13, 17, 0), 60, local(2026, 2, 14, 9, 30)),
        (local(2026, 2, 14, 17, 0), 60, local(2026, 2, 24, 9, 30)),
    ],
)
def test_add_working_minutes(start, minutes, due):
    assert CAL.add_working_minutes(start, minutes) == due


def test_the_year_end_with_no_holiday_data():
    # 2026-12-31 is a Thursday; 2027 is unknown to the package and runs Monday-Friday.
    assert CAL.add_working_days(local(2026, 12, 31, 10, 0), 2) == local(2027, 1, 4, 10, 0)


def test_a_time_zone_edge_utc_midnight_is_shanghai_morning():
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert CAL.add_working_minutes(start, 60) == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_minutes_between_counts_office_time_only():
    assert CAL.working_minutes_between(local(2026, 11, 27, 16, 30), local(2026, 11, 30, 12, 0)) == 240
    assert CAL.working_minutes_between(local(2026, 10, 1), local(2026, 10, 8)) == 0


moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(SHANGHAI))
spans = st.integers(min_value=1, max_value=20 * 7 * 60)


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=spans)
def test_a_deadline_always_falls_in_office_hours(start, minutes):
    due = CAL.add_working_minutes(start, minutes).astimezone(SHANGHAI)
    assert package_or_weekdays(due.date())
    assert any(low < due <= high for low, high in CAL.intervals(due.date()))


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=spans, extra=st.integers(min_value=0, max_value=3000))
def test_deadlines_never_move_backwards(start, minutes, extra):
    due = CAL.add_working_minutes(start, minutes)
    assert due > start
    assert CAL.add_working_minutes(start, minutes + extra) >= due
    assert CAL.add_working_minutes(start + timedelta(minutes=extra), minutes) >= due


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=spans)
def test_minutes_between_inverts_adding(start, minutes):
    due = CAL.add_working_minutes(start, minutes)
    assert CAL.working_minutes_between(start, due) == pytest.approx(minutes)


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=spans, back=st.floats(min_value=0, max_value=1))
def test_subtracting_walks_back_the_same_office_time(start, minutes, back):
    due = CAL.add_working_minutes(start, minutes)
    earlier = CAL.subtract_working_minutes(due, minutes * back)
    assert earlier <= due
    assert CAL.working_minutes_between(earlier, due) == pytest.approx(minutes * back, abs=1e-6)
