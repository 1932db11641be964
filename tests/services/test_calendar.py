from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hotline.services.calendar import add_working_days, is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_national_day_holiday_and_make_up_workday_2026():
    # 2026: 10-01..10-07 off; Saturday 10-10 is a make-up workday (调休), Sunday 09-20 too.
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 10))
    assert is_working_day(date(2026, 9, 30))


def test_five_working_days_across_national_day():
    start = local(2026, 9, 30, 16, 0).astimezone(UTC)
    due = add_working_days(start, 5, "Asia/Shanghai")
    # 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, make-up day), 10-12 (Mon), 10-13 (Tue)
    assert due.astimezone(SHANGHAI) == local(2026, 10, 13, 16, 0)
    assert due.tzinfo == UTC


def test_weekend_start_counts_from_the_next_working_day():
    start = local(2026, 11, 28, 10, 0)  # a Saturday
    assert add_working_days(start, 1, "Asia/Shanghai") == local(2026, 11, 30, 10, 0)


def test_a_year_without_holiday_data_falls_back_to_monday_to_friday():
    assert is_working_day(date(2027, 10, 1))  # a Friday; the package knows nothing of 2027
    assert not is_working_day(date(2027, 10, 2))
    due = add_working_days(local(2027, 1, 8, 9, 0), 1, "Asia/Shanghai")  # Friday → Monday
    assert due == local(2027, 1, 11, 9, 0)
