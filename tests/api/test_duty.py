"""The duty rota through the API (issue 17 item 4): GET/POST /api/v1/departments/<code>/duty-shifts,
DELETE .../duty-shifts/<id>. The unit's lead and admins change it, supervisors and the unit's
staff read it; bad input is a 400 naming its field, and nothing is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import DutyShift, Role
from hotline.services.city import duty
from tests import factories
from tests.api.helpers import assert_error

URL = "/api/v1/departments/roads/duty-shifts"
NIGHT = {"starts_at": "2026-12-05T18:00:00+08:00", "ends_at": "2026-12-06T09:00:00+08:00"}


@pytest.fixture
def lead(city):
    user = factories.make_user(Role.DEPARTMENT, city.roads, username="roads_lead")
    user.is_unit_lead = True
    db.session.commit()
    return user


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(DutyShift))


def test_the_lead_adds_lists_and_deletes_a_shift(api, city, lead) -> None:
    client = api(lead)
    response = client.post(URL, json={"user": "roads_staff", "phone": "13900139000", **NIGHT})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["user"] == "roads_staff" and created["department"] == "roads"
    assert created["starts_at"] == "2026-12-05T10:00:00+00:00" and created["ends_at"] == "2026-12-06T01:00:00+00:00"
    assert duty.duty_phone(city.roads_staff) == "+8613900139000"

    listed = api(city.supervisor).get(URL, query_string={"from": "2026-12-01T00:00:00+08:00"}).get_json()
    assert [s["id"] for s in listed["shifts"]] == [created["id"]]
    assert api(city.roads_staff).get(URL, query_string={"from": "2026-12-01"}).status_code == 200

    assert client.delete(f"{URL}/{created['id']}").status_code == 204
    assert count() == 0
    assert_error(client.delete(f"{URL}/{created['id']}"), 404, "not_found")


def test_who_may_change_and_read_the_rota(api, city, lead) -> None:
    body = {"user": "roads_staff", "phone": "13900139000", **NIGHT}
    assert_error(api(city.roads_staff).post(URL, json=body), 403, "forbidden")  # staff, not the lead
    water_lead = factories.make_user(Role.DEPARTMENT, city.water, username="water_lead")
    water_lead.is_unit_lead = True
    db.session.commit()
    assert_error(api(water_lead).post(URL, json=body), 403, "forbidden")  # another unit's lead
    assert_error(api(city.supervisor).post(URL, json=body), 403, "forbidden")  # supervisors read
    assert_error(api(city.water_staff).get(URL), 403, "forbidden")
    assert_error(api(city.operator).get(URL), 403, "forbidden")
    assert count() == 0
    assert api(city.admin).post(URL, json=body).status_code == 201
    assert_error(api(lead).get("/api/v1/departments/nowhere/duty-shifts"), 404, "not_found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user": "water_staff"}, "user"),  # not the unit's staff
        ({"user": "nobody"}, "user"),
        ({"user": "supervisor"}, "user"),
        ({"ends_at": "2026-12-05T17:00:00+08:00"}, "ends_at"),  # before the start
        ({"ends_at": "2026-12-05T18:00:00+08:00"}, "ends_at"),  # no length
        ({"ends_at": "2026-12-20T18:00:00+08:00"}, "ends_at"),  # over a week
        ({"starts_at": "Saturday night"}, "starts_at"),
        ({"starts_at": None}, "starts_at"),
        ({"phone": "12"}, "phone"),
        ({"phone": None}, "phone"),  # nobody could be alerted
        ({"colour": "red"}, None),  # unknown fields are refused
    ],
)
def test_bad_shifts_are_refused_by_field(api, city, lead, change, field) -> None:
    body = {"user": "roads_staff", "phone": "13900139000", **NIGHT, **change}
    body = {key: value for key, value in body.items() if value is not None}
    assert_error(api(lead).post(URL, json=body), 400, "invalid_input", field)
    assert count() == 0
    assert duty.duty_phone(city.roads_staff) is None  # nothing half-saved


def test_one_person_cannot_hold_overlapping_shifts(api, city, lead) -> None:
    client = api(lead)
    assert client.post(URL, json={"user": "roads_staff", "phone": "13900139000", **NIGHT}).status_code == 201
    overlapping = {
        "user": "roads_staff",
        "starts_at": "2026-12-06T08:00:00+08:00",
        "ends_at": "2026-12-06T12:00:00+08:00",
    }
    assert_error(client.post(URL, json=overlapping), 400, "invalid_input", "starts_at")
    back_to_back = {**overlapping, "starts_at": "2026-12-06T09:00:00+08:00"}
    assert client.post(URL, json=back_to_back).status_code == 201  # touching is not overlapping
    other = factories.make_user(Role.DEPARTMENT, city.roads, username="second")
    assert client.post(URL, json={"user": other.username, "phone": "13900139001", **NIGHT}).status_code == 201
    assert count() == 3
