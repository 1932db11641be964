"""The holiday calendar over the API: read a year, correct a day, load a year in holiday-cn's format."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hotline.api.serializers import iso
from hotline.extensions import db
from hotline.models import CalendarDay, CalendarYear
from hotline.services.clocks.calendar import work_calendar
from tests import factories
from tests.api.helpers import assert_error

# Nobody has published 2031 yet: the package does not know it, so tests load it.
PUBLISHED_2031 = {
    "$schema": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json",
    "$id": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/2031.json",
    "year": 2031,
    "papers": [],
    "days": [
        {"name": "元旦", "date": "2031-01-01", "isOffDay": True},
        {"name": "春节", "date": "2031-01-26", "isOffDay": False},
        {"name": "春节", "date": "2031-01-23", "isOffDay": True},
    ],
}


def table() -> list[tuple[date, bool, str, str]]:
    """The whole holiday table and the known years, to check that a failure changed nothing."""
    db.session.expire_all()
    days = db.session.execute(select(CalendarDay.day, CalendarDay.off, CalendarDay.name, CalendarDay.source)).all()
    years = db.session.scalars(select(CalendarYear.year)).all()
    return sorted(map(tuple, days)), sorted(years)


class TestReadAYear:
    def test_a_seeded_year(self, api, city):
        response = api(city.roads_staff).get("/api/v1/calendar/2026")
        assert response.status_code == 200
        body = response.get_json()
        assert (body["year"], body["known"]) == (2026, True)
        by_date = {day["date"]: day for day in body["days"]}
        # National Day: 10-01 off; Saturday 10-10 is a make-up workday (调休).
        assert by_date["2026-10-01"]["off"] is True
        assert by_date["2026-10-10"]["off"] is False
        assert set(by_date["2026-10-01"]) == {"date", "off", "name", "source"}
        assert by_date["2026-10-01"]["source"] == "chinesecalendar"
        assert [day["date"] for day in body["days"]] == sorted(by_date)
        assert all(day["date"].startswith("2026-") for day in body["days"])

    def test_an_unknown_year_is_empty_and_says_so(self, api, city):
        body = api(city.operator).get("/api/v1/calendar/2031").get_json()
        assert body == {"year": 2031, "known": False, "days": []}

    @pytest.mark.parametrize("year", ["abc", "20260", "26", "1899", "2201", "-2026"])
    def test_a_bad_year_is_400(self, api, city, year):
        assert_error(api(city.operator).get(f"/api/v1/calendar/{year}"), 400, "invalid_input", "year")

    def test_no_token_is_401(self, client):
        assert_error(client.get("/api/v1/calendar/2026"), 401, "unauthorized")


class TestCorrectADay:
    def test_an_admin_marks_a_day_off_and_removes_it_again(self, api, city, holidays):
        admin = api(city.admin)
        response = admin.put("/api/v1/calendar/days/2031-03-03", json={"off": True, "name": "防汛停工"})  # a Monday
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"date": "2031-03-03", "off": True, "name": "防汛停工", "source": "admin"}
        assert not holidays.is_working_day(date(2031, 3, 3))
        listed = api(city.operator).get("/api/v1/calendar/2031").get_json()
        assert listed["days"] == [{"date": "2031-03-03", "off": True, "name": "防汛停工", "source": "admin"}]
        assert listed["known"] is False  # one correction is not a year's list

        response = admin.put("/api/v1/calendar/days/2031-03-03", json={"off": None})
        assert response.get_json() == {"date": "2031-03-03", "off": False, "name": "", "source": None}
        assert holidays.is_working_day(date(2031, 3, 3))
        assert api(city.operator).get("/api/v1/calendar/2031").get_json()["days"] == []

    def test_a_weekend_day_made_a_workday(self, api, city, holidays):
        body = api(city.admin).put("/api/v1/calendar/days/2031-03-08", json={"off": False}).get_json()  # a Saturday
        assert body == {"date": "2031-03-08", "off": False, "name": "", "source": "admin"}
        assert holidays.is_working_day(date(2031, 3, 8))
        body = api(city.admin).put("/api/v1/calendar/days/2031-03-08", json={"off": None, "name": ""}).get_json()
        assert body["off"] is True and body["source"] is None  # back to an ordinary Saturday

    def test_a_correction_overrides_a_seeded_day(self, api, city, holidays):
        api(city.admin).put("/api/v1/calendar/days/2026-10-01", json={"off": False, "name": "值班"})
        assert holidays.is_working_day(date(2026, 10, 1))
        day = db.session.get(CalendarDay, date(2026, 10, 1))
        assert (day.off, day.name, day.source) == (False, "值班", "admin")

    def test_tickets_dispatched_after_a_correction_follow_it(self, api, city, holidays):
        before = factories.make_routed_ticket(city.operator)
        old_due = before.resolve_due_at
        # Close the office for the next working day after dispatch.
        calendar = work_calendar()
        day = before.dispatched_at.astimezone(calendar.tz).date() + timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        api(city.admin).put(f"/api/v1/calendar/days/{day.isoformat()}", json={"off": True, "name": "临时停工"})

        after = factories.make_routed_ticket(city.operator)
        expected = work_calendar().add_working_days(after.dispatched_at, 5)
        assert after.resolve_due_at == expected
        assert after.resolve_due_at > old_due
        # The ticket dispatched before keeps its deadline: corrections do not move running clocks.
        body = api(city.supervisor).get(f"/api/v1/tickets/{before.number}").get_json()
        assert body["resolve_due_at"] == iso(old_due)

    @pytest.mark.parametrize(
        "path, body, field",
        [
            ("2031-02-30", {"off": True}, "date"),
            ("2031-2-3", {"off": True}, "date"),
            ("20310203", {"off": True}, "date"),
            ("tomorrow", {"off": True}, "date"),
            ("1800-01-01", {"off": True}, "date"),
            ("2031-02-03", {}, "off"),
            ("2031-02-03", {"name": "x"}, "off"),
            ("2031-02-03", {"off": "yes"}, "off"),
            ("2031-02-03", {"off": 1}, "off"),
            ("2031-02-03", {"off": True, "name": 3}, "name"),
            ("2031-02-03", {"off": True, "holiday": True}, "holiday"),
            ("2026-10-01", {"off": False, "name": "bad\x00name"}, "name"),
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, api, city, holidays, path, body, field):
        before = table()
        assert_error(api(city.admin).put(f"/api/v1/calendar/days/{path}", json=body), 400, "invalid_input", field)
        assert table() == before

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor"])
    def test_only_admins_correct(self, api, city, holidays, who):
        before = table()
        response = api(getattr(city, who)).put("/api/v1/calendar/days/2031-03-03", json={"off": True})
        assert_error(response, 403, "forbidden")
        assert table() == before


class TestLoadAYear:
    def test_an_admin_loads_a_published_year(self, api, city, holidays):
        response = api(city.admin).post("/api/v1/calendar/years", json=PUBLISHED_2031)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"2031": 3}
        body = api(city.operator).get("/api/v1/calendar/2031").get_json()
        assert body["known"] is True
        assert body["days"] == [
            {"date": "2031-01-01", "off": True, "name": "元旦", "source": "api"},
            {"date": "2031-01-23", "off": True, "name": "春节", "source": "api"},
            {"date": "2031-01-26", "off": False, "name": "春节", "source": "api"},
        ]
        assert not holidays.is_working_day(date(2031, 1, 23))  # a Thursday off
        assert holidays.is_working_day(date(2031, 1, 26))  # a Sunday worked

    def test_the_bare_list_spanning_two_years(self, api, city, holidays):
        days = [
            {"date": "2031-12-31", "name": "元旦", "isOffDay": True},
            {"date": "2032-01-01", "name": "元旦", "isOffDay": True},
            {"date": "2032-01-02", "name": "元旦", "isOffDay": True},
        ]
        response = api(city.admin).post("/api/v1/calendar/years", json=days)
        assert response.get_json() == {"2031": 1, "2032": 2}
        assert api(city.operator).get("/api/v1/calendar/2032").get_json()["known"] is True

    def test_a_year_loaded_again_is_replaced(self, api, city, holidays):
        admin = api(city.admin)
        admin.post("/api/v1/calendar/years", json=PUBLISHED_2031)
        corrected = {"year": 2031, "days": [{"date": "2031-01-01", "name": "元旦", "isOffDay": True}]}
        assert admin.post("/api/v1/calendar/years", json=corrected).get_json() == {"2031": 1}
        days = api(city.operator).get("/api/v1/calendar/2031").get_json()["days"]
        assert [day["date"] for day in days] == ["2031-01-01"]

    @pytest.mark.parametrize(
        "payload",
        [
            {"year": 2031, "days": []},
            [],
            {"year": 2031},
            {"year": 2031, "days": "2031-01-01"},
            {"days": [*PUBLISHED_2031["days"], {"date": "2031-02-30", "isOffDay": True}]},
            {"days": [*PUBLISHED_2031["days"], {"date": "2031-05-01", "name": "劳动节"}]},
            {"days": [*PUBLISHED_2031["days"], {"date": "2031-05-01", "isOffDay": "true"}]},
            {"days": [*PUBLISHED_2031["days"], "2031-05-01"]},
            {"days": [*PUBLISHED_2031["days"], {"date": "2031-01-01", "name": "again", "isOffDay": True}]},
            {"days": [{"date": "2026-10-01", "name": "bad\x00", "isOffDay": True}]},
            42,
        ],
    )
    def test_a_bad_file_is_400_and_changes_nothing(self, api, city, holidays, payload):
        admin = api(city.admin)
        admin.post("/api/v1/calendar/years", json=PUBLISHED_2031)  # a year in place, to see it kept
        before = table()
        response = admin.post("/api/v1/calendar/years", json=payload)
        assert_error(response, 400, "invalid_input")
        assert table() == before
        assert not holidays.is_working_day(date(2031, 1, 23))

    def test_bad_json_is_400_and_changes_nothing(self, api, city, holidays):
        before = table()
        response = api(city.admin).post(
            "/api/v1/calendar/years", data='{"days": [', headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400, "invalid_json")
        assert table() == before

    def test_not_json_is_415(self, api, city, holidays):
        response = api(city.admin).post("/api/v1/calendar/years", data=json.dumps(PUBLISHED_2031))
        assert_error(response, 415, "unsupported_media_type")
        assert api(city.operator).get("/api/v1/calendar/2031").get_json()["known"] is False

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor"])
    def test_only_admins_load(self, api, city, holidays, who):
        assert_error(api(getattr(city, who)).post("/api/v1/calendar/years", json=PUBLISHED_2031), 403, "forbidden")
        assert api(city.operator).get("/api/v1/calendar/2031").get_json()["known"] is False

    def test_no_token_is_401(self, client, holidays):
        assert_error(client.post("/api/v1/calendar/years", json=PUBLISHED_2031), 401, "unauthorized")
