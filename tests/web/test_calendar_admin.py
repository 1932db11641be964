"""The holiday calendar page: a year's exceptions, the missing-year warning, a day's correction,
the upload of a holiday-cn file; nothing changes when the input is wrong."""

import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import CalendarDay, CalendarYear
from hotline.web import admin_calendar
from tests.web.conftest import text_of

YEAR_2199 = {
    "year": 2199,
    "days": [
        {"name": "元旦", "date": "2199-01-01", "isOffDay": True},
        {"name": "春节", "date": "2199-02-01", "isOffDay": True},
        {"name": "春节", "date": "2199-02-09", "isOffDay": False},
    ],
}


def _upload(client, payload: bytes, name: str = "2199.json", year: int = 2199):
    return client.post(
        f"/admin/calendar/upload?year={year}",
        data={"file": (io.BytesIO(payload), name)},
        content_type="multipart/form-data",
    )


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(CalendarDay))


def test_only_administrators_use_the_calendar(login, city, holidays):
    for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
        client = login(user)
        assert client.get("/admin/calendar/").status_code == 403
        assert client.post("/admin/calendar/day", data={"day": "2199-05-05", "kind": "off"}).status_code == 403
        assert _upload(client, json.dumps(YEAR_2199).encode()).status_code == 403
    assert db.session.get(CalendarDay, date(2199, 5, 5)) is None
    assert db.session.get(CalendarYear, 2199) is None


def test_the_year_shows_its_holidays_and_make_up_days(login, city):
    html = text_of(login(city.admin).get("/admin/calendar/?year=2026"))
    assert "Holiday calendar 2026" in html
    table = html[html.index('id="calendar-days"') :]
    assert "2026-01-01" in table and "New Year's Day" in table and "Holiday" in table
    assert "Make-up workday" in table  # 调休: a weekend day worked
    assert "No holiday list for 2026." not in html


def test_a_year_without_a_list_is_flagged(login, city):
    html = text_of(login(city.admin).get("/admin/calendar/?year=2190"))
    assert "No holiday list for 2190." in html
    assert "count Monday to Friday as working days" in html


def test_a_bad_year_falls_back_with_a_message(login, city):
    client = login(city.admin)
    for raw in ("abc", "12", "1800", "99999"):
        response = client.get(f"/admin/calendar/?year={raw}")
        assert response.status_code == 400, raw
        assert "The year must be a number from 1900 to 2200." in text_of(response), raw


def test_correct_a_day(login, city, holidays):
    client = login(city.admin)
    response = client.post("/admin/calendar/day?year=2199", data={"day": "2199-05-05", "kind": "off", "name": "防汛"})
    assert response.status_code == 302
    assert response.location == "/admin/calendar/?year=2199"
    row = db.session.get(CalendarDay, date(2199, 5, 5))
    assert (row.off, row.name, row.source) == (True, "防汛", "admin")
    html = text_of(client.get(response.location))
    assert "2199-05-05 is now a day off." in html and "防汛" in html
    client.post("/admin/calendar/day", data={"day": "2199-05-05", "kind": "work"})
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2199, 5, 5)).off is False
    client.post("/admin/calendar/day", data={"day": "2199-05-05", "kind": "remove"})
    db.session.expire_all()
    assert db.session.get(CalendarDay, date(2199, 5, 5)) is None


def test_a_wrong_day_changes_nothing(login, city, holidays):
    client = login(city.admin)
    before = _rows()
    for data, message in (
        ({"day": "2199-02-30", "kind": "off"}, "Enter a date as YYYY-MM-DD"),
        ({"day": "tomorrow", "kind": "off"}, "Enter a date as YYYY-MM-DD"),
        ({"day": "0999-01-01", "kind": "off"}, "Enter a date as YYYY-MM-DD"),
        ({"day": "2199-05-05", "kind": "maybe"}, "Choose what the day is."),
    ):
        response = client.post("/admin/calendar/day?year=2199", data=data)
        assert response.status_code == 400, data
        assert message in text_of(response), data
    assert _rows() == before


def test_upload_a_holiday_list(login, city, holidays):
    client = login(city.admin)
    response = _upload(client, json.dumps(YEAR_2199, ensure_ascii=False).encode())
    assert response.status_code == 302
    assert response.location == "/admin/calendar/?year=2199"
    assert db.session.get(CalendarYear, 2199) is not None
    assert db.session.get(CalendarDay, date(2199, 2, 9)).off is False
    html = text_of(client.get(response.location))
    assert "Holiday list loaded: 2199 (3 days)." in html
    assert "No holiday list for 2199." not in html
    assert "Spring Festival" in html  # the file's 春节, in the reader's language


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "Choose a file to load."),
        (b"{not json", "The file is not valid JSON"),
        (b"[" * 100_000, "The file is not valid JSON"),
        (json.dumps({"days": []}).encode(), "Expected a list of days"),
        (json.dumps([{"date": "2199-13-01", "isOffDay": True}]).encode(), "Entry 1 has no valid date"),
        (
            json.dumps([{"date": "2199-01-01", "isOffDay": True}, {"date": "2199-01-02", "isOffDay": "yes"}]).encode(),
            "Entry 2 needs isOffDay true or false.",
        ),
        (json.dumps([{"date": "9999-01-01", "isOffDay": True}]).encode(), "Entry 1: the year must be from 1900"),
        (json.dumps([{"date": "2199-01-01", "isOffDay": True, "name": "\u0000"}]).encode(), "cannot be stored"),
        (b'[{"date": "2199-01-01", "isOffDay": true, "name": "\\ud800"}]', "cannot be stored"),
    ],
)
def test_a_wrong_file_changes_nothing(login, city, holidays, payload, message):
    before = _rows()
    response = _upload(login(city.admin), payload)
    assert response.status_code == 400
    assert message in text_of(response)
    assert "is-invalid" in text_of(response)
    assert _rows() == before
    assert db.session.get(CalendarYear, 2199) is None


def test_an_oversized_file_is_refused(login, city, holidays):
    response = _upload(login(city.admin), b" " * (admin_calendar.MAX_UPLOAD_BYTES + 10) + b"[]")
    assert response.status_code == 413
    assert "too large" in text_of(response)
    assert db.session.get(CalendarYear, 2199) is None


def test_administrators_are_warned_of_a_missing_year_everywhere(login, city, holidays, monkeypatch):
    # In the last quarter, next year's list is due too.
    monkeypatch.setattr(admin_calendar, "local_today", lambda: date(2199, 11, 2))
    client = login(city.admin)
    html = text_of(client.get("/reports/response-times"))
    assert "No holiday lists for 2199 and 2200" in html
    assert 'href="/admin/calendar/?year=2199"' in html
    # Other roles are not bothered with it.
    assert "No holiday list" not in text_of(login(city.supervisor).get("/reports/response-times"))
    _upload(client, json.dumps(YEAR_2199).encode())
    html = text_of(client.get("/tickets"))
    assert "No holiday list for 2200" in html and "2199 and 2200" not in html
    _upload(client, json.dumps([{"date": "2200-01-01", "isOffDay": True, "name": "元旦"}]).encode(), year=2200)
    assert "No holiday list" not in text_of(client.get("/tickets"))
    # Before the last quarter only this year counts.
    monkeypatch.setattr(admin_calendar, "local_today", lambda: date(2198, 3, 1))
    assert "No holiday list for 2198" in text_of(client.get("/tickets"))
    assert admin_calendar.years_to_check(date(2198, 3, 1)) == [2198]
