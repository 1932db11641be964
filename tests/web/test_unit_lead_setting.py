"""The unit lead flag (单位负责人, issue 17) is set where roles are: the admin's user form and
`flask users set-role`."""

from __future__ import annotations

from hotline.extensions import db
from hotline.models import User


def reloaded(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_admin_makes_a_unit_lead_and_only_of_department_staff(login, city):
    client = login(city.admin)
    data = {"role": "department", "department": "roads", "active": "y", "unit_lead": "y", "reason": "任命负责人"}
    assert client.post(f"/admin/users/{city.roads_staff.id}", data=data).status_code == 302
    assert reloaded(city.roads_staff).is_unit_lead
    page = client.get(f"/admin/users/{city.roads_staff.id}").get_data(as_text=True)
    assert 'name="unit_lead"' in page and "checked" in page
    data = {"role": "operator", "department": "", "active": "y", "unit_lead": "y", "reason": "调岗"}
    client.post(f"/admin/users/{city.operator.id}", data=data)
    assert not reloaded(city.operator).is_unit_lead and reloaded(city.operator).role == "operator"


def test_the_cli_sets_and_clears_it(invoke, city):
    result = invoke(
        "users",
        "set-role",
        "roads_staff",
        "--role",
        "department",
        "--department",
        "roads",
        "--unit-lead",
        "--reason",
        "任命",
    )
    assert result.exit_code == 0, result.output
    assert "unit lead" in result.output and reloaded(city.roads_staff).is_unit_lead
    result = invoke(
        "users",
        "set-role",
        "roads_staff",
        "--role",
        "department",
        "--department",
        "roads",
        "--no-unit-lead",
        "--reason",
        "卸任",
    )
    assert result.exit_code == 0 and not reloaded(city.roads_staff).is_unit_lead
    result = invoke("users", "set-role", "operator", "--role", "operator", "--unit-lead", "--reason", "x")
    assert result.exit_code != 0 and not reloaded(city.operator).is_unit_lead
