"""SLA policies whose clocks cannot disagree (issue 16, item 5): a policy under which a ticket
would have to be resolved before it must be accepted is refused, on the page and in the API,
with an example ticket; the policy pages show when each clock would fall for a ticket
dispatched now, by the same computation as the tickets' deadlines."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import SlaPolicy
from hotline.services.clocks import policies, sla
from hotline.services.clocks.calendar import work_calendar
from hotline.services.clocks.worktime import WorkCalendar
from hotline.services.errors import InvalidInput
from tests.web.conftest import text_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The issue's burst pipe: 1 working hour to accept, 24 hours to resolve.
BURST_PIPE = {
    "accept_amount": 1,
    "accept_unit": "working_hours",
    "resolve_amount": 24,
    "resolve_unit": "calendar_hours",
}
FORM = {
    "category": "infrastructure",
    "urgency": "urgent",
    "accept_amount": "1",
    "accept_unit": "working_hours",
    "resolve_amount": "24",
    "resolve_unit": "calendar_hours",
    "return_window_days": "1",
    "max_extension_days": "5",
}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SlaPolicy)) or 0


def _weekends_only(days_off: tuple[date, ...] = ()) -> WorkCalendar:
    return WorkCalendar(tz=SHANGHAI, is_working_day=lambda day: day.weekday() < 5 and day not in days_off)


class TestTheRule:
    def test_the_issues_burst_pipe(self, app):
        """Saturday 15:03: accept by Monday 10:00, resolve by Sunday 15:03 (the issue's figures)."""
        saturday = datetime(2026, 12, 5, 15, 3, tzinfo=SHANGHAI)
        accept, resolve = sla.due_times(BURST_PIPE, saturday, _weekends_only())
        assert accept == datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
        assert resolve == datetime(2026, 12, 6, 15, 3, tzinfo=SHANGHAI)
        found = sla.overtaking(BURST_PIPE, _weekends_only(), saturday)
        assert found is not None and found.resolve_due_at < found.accept_due_at
        assert sla.due_times(BURST_PIPE, found.start, _weekends_only()) == (found.accept_due_at, found.resolve_due_at)

    @pytest.mark.parametrize(
        ("terms", "refused"),
        [
            ({"accept_amount": 4, "accept_unit": "working_hours", "resolve_amount": 5, "resolve_unit": "working_days"}, False),
            # Same kind of time: compared directly (3 working hours < 1 working day of 7).
            ({"accept_amount": 8, "accept_unit": "working_hours", "resolve_amount": 1, "resolve_unit": "working_days"}, True),
            ({"accept_amount": 120, "accept_unit": "calendar_minutes", "resolve_amount": 1, "resolve_unit": "calendar_hours"}, True),
            ({"accept_amount": 30, "accept_unit": "calendar_minutes", "resolve_amount": 24, "resolve_unit": "calendar_hours"}, False),
            # Mixed: 96 hours outlast a weekend plus an hour of work.
            ({"accept_amount": 1, "accept_unit": "working_hours", "resolve_amount": 96, "resolve_unit": "calendar_hours"}, False),
            # A week of calendar time to accept ends after one working day to resolve.
            ({"accept_amount": 7 * 24 * 60, "accept_unit": "calendar_minutes", "resolve_amount": 1, "resolve_unit": "working_days"}, True),
        ],
    )  # fmt: skip
    def test_consistent_or_not(self, app, terms, refused):
        now = datetime(2026, 12, 2, 11, 0, tzinfo=SHANGHAI)
        assert (sla.overtaking(terms, _weekends_only(), now) is not None) is refused

    def test_a_long_holiday_ahead_counts(self, app):
        """96 hours outlast a weekend but not a week of holiday in February: the probe finds it."""
        now = datetime(2026, 12, 2, 11, 0, tzinfo=SHANGHAI)
        holiday = tuple(date(2027, 2, 6) + timedelta(days=n) for n in range(9))
        terms = {**BURST_PIPE, "resolve_amount": 96}
        found = sla.overtaking(terms, _weekends_only(holiday), now)
        assert found is not None
        assert date(2027, 2, 4) <= found.start.astimezone(SHANGHAI).date() <= date(2027, 2, 14)
        assert found.resolve_due_at < found.accept_due_at

    def test_the_service_refuses_with_an_example(self, city):
        with force_locale("en"), pytest.raises(InvalidInput) as refused:
            policies.create_policy(city.admin, {**BURST_PIPE, "urgency": "urgent", "category": None})
        assert refused.value.field == "resolve_amount"
        assert re.search(
            r"a ticket logged \w+day .+ would have to be resolved by .+ but accepted only by",
            str(refused.value.message),
        )
        assert _count() == 0


class TestThePage:
    def test_the_burst_pipe_policy_is_refused_and_nothing_saved(self, login, city):
        response = login(city.admin).post("/admin/sla-policies/new", data=FORM)
        assert response.status_code == 400
        html = text_of(response)
        assert "The time to resolve must not end before the time to accept" in html
        assert re.search(
            r"a ticket logged (Saturday|Sunday|Friday) \d{4}-\d\d-\d\d \d\d:\d\d would have to be resolved by", html
        )
        assert _count() == 0

    def test_refused_in_chinese(self, login, city):
        city.admin.locale = "zh_CN"
        db.session.commit()
        html = text_of(login(city.admin).post("/admin/sla-policies/new", data=FORM))
        assert "办结时限不得早于签收时限" in html
        assert re.search(
            r"星期[六日五] \d{4}-\d\d-\d\d \d\d:\d\d 登记的工单须在 星期. .+ 前办结，却到 .+ 才须签收", html
        )

    def test_an_edit_to_an_inconsistent_policy_is_refused(self, login, city):
        policy = policies.create_policy(
            city.admin, {**BURST_PIPE, "resolve_amount": 720, "urgency": "urgent", "category": "infrastructure"}
        )
        response = login(city.admin).post(f"/admin/sla-policies/{policy.id}/edit", data=FORM)
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(SlaPolicy, policy.id).resolve_amount == 720

    @pytest.mark.parametrize(
        "change",
        [
            {"accept_amount": "30", "accept_unit": "calendar_minutes"},  # both in calendar time
            {"resolve_amount": "720"},  # 30 days: beyond any holiday
        ],
    )
    def test_a_consistent_policy_is_saved(self, login, city, change):
        response = login(city.admin).post("/admin/sla-policies/new", data={**FORM, **change})
        assert response.status_code == 302, text_of(response)
        assert _count() == 1

    def test_the_form_shows_when_each_clock_falls_for_a_ticket_dispatched_now(self, login, city):
        terms = {**BURST_PIPE, "resolve_amount": 720}
        policy = policies.create_policy(city.admin, {**terms, "urgency": "urgent", "category": "infrastructure"})
        html = text_of(login(city.admin).get(f"/admin/sla-policies/{policy.id}/edit"))
        start, accept, resolve = re.search(
            r'id="clock-preview" data-start="([^"]+)" data-accept-due="([^"]+)" data-resolve-due="([^"]+)"', html
        ).groups()
        start = datetime.fromisoformat(start)
        assert abs(start - datetime.now(SHANGHAI)) < timedelta(minutes=1)
        expected = sla.due_times(terms, start, work_calendar())
        assert (datetime.fromisoformat(accept), datetime.fromisoformat(resolve)) == expected
        assert "For a ticket dispatched now" in html

    def test_the_list_shows_it_for_every_policy_and_the_defaults(self, login, city):
        terms = {
            "accept_amount": 2,
            "accept_unit": "working_hours",
            "resolve_amount": 3,
            "resolve_unit": "working_days",
        }
        policy = policies.create_policy(city.admin, {**terms, "urgency": "normal", "category": "infrastructure"})
        html = text_of(login(city.admin).get("/admin/sla-policies/"))
        start = datetime.fromisoformat(re.search(r'id="clock-preview-note" data-start="([^"]+)"', html).group(1))
        rows = {
            "policy": (terms, html[html.index(f'id="policy-{policy.id}"') :]),
            "urgent": (sla.DEFAULT_TERMS["urgent"].as_dict(), html[html.index('id="default-urgent"') :]),
            "normal": (sla.DEFAULT_TERMS["normal"].as_dict(), html[html.index('id="default-normal"') :]),
        }
        for name, (row_terms, row) in rows.items():
            accept = re.search(r'data-accept-due="([^"]+)"', row).group(1)
            resolve = re.search(r'data-resolve-due="([^"]+)"', row).group(1)
            expected = sla.due_times(row_terms, start, work_calendar())
            assert (datetime.fromisoformat(accept), datetime.fromisoformat(resolve)) == expected, name


class TestTheApi:
    def test_refused_in_the_api_and_nothing_saved(self, api, city):
        city.admin.locale = "en"
        db.session.commit()
        body = {**BURST_PIPE, "urgency": "urgent", "category": "infrastructure"}
        response = api(city.admin).post("/api/v1/sla-policies", json=body, headers={"Accept-Language": "en"})
        assert response.status_code == 400
        answer = response.get_json()
        assert answer["field"] == "resolve_amount" and "would have to be resolved by" in answer["detail"]
        assert _count() == 0
        assert api(city.admin).post("/api/v1/sla-policies", json={**body, "resolve_amount": 720}).status_code == 201

    def test_an_update_that_makes_it_inconsistent_is_refused(self, api, city):
        policy = policies.create_policy(
            city.admin, {**BURST_PIPE, "resolve_amount": 720, "urgency": "urgent", "category": None}
        )
        response = api(city.admin).put(f"/api/v1/sla-policies/{policy.id}", json={"resolve_amount": 24})
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(SlaPolicy, policy.id).resolve_amount == 720
