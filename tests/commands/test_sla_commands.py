"""`flask sla due` and `flask calendar ...` as an administrator runs them."""

import json


def test_due_skips_national_day_and_counts_the_make_up_workday(runner):
    result = runner.invoke(args=["sla", "due", "--start", "2026-09-30 16:00", "--working-days", "5"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("due: 2026-10-13 16:00 Asia/Shanghai")
    assert "2026-10-01 holiday National Day" in result.output
    assert "2026-10-10 make-up workday National Day" in result.output


def test_due_in_calendar_time_and_working_hours(runner):
    result = runner.invoke(args=["sla", "due", "--start", "2026-11-27 16:30", "--working-hours", "4"])
    assert result.output.startswith("due: 2026-11-30 12:00 Asia/Shanghai")
    result = runner.invoke(args=["sla", "due", "--start", "2026-11-27 16:30", "--calendar-hours", "24"])
    assert result.output.startswith("due: 2026-11-28 16:30 Asia/Shanghai")


def test_due_by_a_category_policy(runner, city):
    result = runner.invoke(args=["sla", "due", "--start", "2026-11-27 16:30", "--category", "potholes"])
    assert result.exit_code == 0, result.output
    assert "accept: 2026-11-30 12:00" in result.output
    assert "resolve: 2026-12-04 16:30" in result.output
    assert "urgent" in runner.invoke(args=["sla", "due", "--category", "potholes", "--urgency", "urgent"]).output


def test_due_warns_about_a_year_without_holidays(runner):
    result = runner.invoke(args=["sla", "due", "--start", "2027-01-29 10:00", "--working-days", "3"])
    assert result.exit_code == 0
    assert result.output.startswith("due: 2027-02-03 10:00")
    assert "no holiday list for 2027" in result.output


def test_due_refuses_bad_input(runner):
    assert runner.invoke(args=["sla", "due", "--start", "yesterday", "--working-days", "1"]).exit_code == 2
    assert runner.invoke(args=["sla", "due", "--start", "2026-01-01 10:00"]).exit_code == 2
    assert runner.invoke(args=["sla", "due", "--working-days", "-1"]).exit_code == 2
    assert runner.invoke(args=["sla", "due", "--category", "nope"]).exit_code == 2


def test_calendar_load_and_show(runner, holidays, tmp_path):
    published = tmp_path / "2027.json"
    published.write_text(
        json.dumps({"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]}), "utf-8"
    )
    result = runner.invoke(args=["calendar", "load", str(published)])
    assert result.exit_code == 0 and "2027: 1 days loaded" in result.output
    shown = runner.invoke(args=["calendar", "show", "2027"])
    assert "2027-01-01 off  元旦" in shown.output and "warning" not in shown.output
    broken = tmp_path / "broken.json"
    broken.write_text("[{]", "utf-8")
    result = runner.invoke(args=["calendar", "load", str(broken)])
    assert result.exit_code == 1 and "JSON" in result.output  # the message is in the default locale
