"""The holiday table and the working-day arithmetic on the real Chinese calendar."""

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.services.clocks import calendar
from hotline.services.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_the_migration_seeds_the_package_years():
    assert calendar.missing_years([2004, 2020, 2026]) == []
    assert calendar.missing_years([2026, 2027]) == [2027]


def test_national_day_holiday_and_make_up_workday_2026():
    # 2026: 10-01..10-07 off; Saturday 10-10 is a make-up workday (调休), Sunday 09-20 too.
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert not calendar.is_working_day(date(2026, 10, 7))
    assert calendar.is_working_day(date(2026, 10, 10))
    assert calendar.is_working_day(date(2026, 9, 20))
    assert calendar.is_working_day(date(2026, 9, 30))


def test_five_working_days_across_national_day():
    start = local(2026, 9, 30, 16, 0).astimezone(UTC)
    due = calendar.add_working_days(start, 5)
    # 09-30 16:00-17:30, then 10-08, 10-09, 10-10 (make-up Saturday), 10-12, and 10-13 until 16:00
    assert due.astimezone(SHANGHAI) == local(2026, 10, 13, 16, 0)
    assert due.tzinfo == UTC


def test_a_clock_started_at_the_weekend_runs_from_monday_morning():
    start = local(2026, 11, 28, 10, 0)  # a Saturday
    assert calendar.add_working_days(start, 1) == local(2026, 11, 30, 17, 30)


def test_a_year_without_holiday_data_falls_back_to_monday_to_friday():
    assert calendar.is_working_day(date(2027, 10, 1))  # a Friday; nobody has published 2027 yet
    assert not calendar.is_working_day(date(2027, 10, 2))
    assert calendar.add_working_days(local(2027, 1, 8, 17, 0), 1) == local(2027, 1, 11, 17, 0)


def test_loading_a_year_in_holiday_cn_format(holidays):
    published = {
        "year": 2027,
        "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
            {"name": "春节", "date": "2027-02-06", "isOffDay": False},
        ],
    }
    assert holidays.load_year_json(json.dumps(published)) == {2027: 2}
    assert holidays.missing_years([2027]) == []
    assert not holidays.is_working_day(date(2027, 1, 1))
    assert holidays.is_working_day(date(2027, 2, 6))  # a Saturday worked
    # the bare list works too, and replaces the year
    holidays.load_year_json(json.dumps([{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]))
    assert not holidays.is_working_day(date(2027, 2, 6))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{}",
        "[]",
        '[{"date": "2027-13-01", "isOffDay": true}]',
        '[{"date": "2027-01-01", "isOffDay": "yes"}]',
        '[{"date": "2027-01-01", "isOffDay": true}, 5]',
        '[{"date": "9999-01-01", "isOffDay": true}]',
        '[{"date": "2027-01-01", "isOffDay": true, "name": "\\u0000"}]',
        '[{"date": "2027-01-01", "isOffDay": true, "name": "\\ud800"}]',
        "[" * 100_000,
    ],
)
def test_a_bad_file_changes_nothing(holidays, text):
    with pytest.raises(InvalidInput):
        holidays.load_year_json(text)
    assert holidays.missing_years([2027]) == [2027]
    assert holidays.is_working_day(date(2027, 1, 1))


def test_an_administrator_corrects_a_day(holidays):
    holidays.set_day(date(2026, 12, 31), True, "年终停办")
    assert not holidays.is_working_day(date(2026, 12, 31))
    holidays.set_day(date(2026, 12, 31), None)
    assert holidays.is_working_day(date(2026, 12, 31))
