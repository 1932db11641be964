"""The administrators' user page and `flask users set-role`: every change of role,
department or activity is made by an administrator (or the command line) and logged
with who, when, old -> new and why."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Role, RoleChange, User
from hotline.services.accounts import users
from hotline.services.errors import InvalidInput, PermissionDenied
from tests import factories
from tests.web.conftest import text_of


def changes() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(RoleChange).order_by(RoleChange.id))
    return [
        (
            r.user.username,
            r.changed_by.username if r.changed_by else None,
            r.old_role,
            r.old_department,
            r.old_active,
            r.new_role,
            r.new_department,
            r.new_active,
            r.reason,
            r.via,
        )
        for r in rows
    ]


def reloaded(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


class TestPage:
    def test_the_admin_lists_users_with_roles(self, login, city):
        response = login(city.admin).get("/admin/users/")
        assert response.status_code == 200
        html = text_of(response)
        for user in (city.operator, city.roads_staff, city.admin):
            assert f'data-user="{user.username}" data-role="{user.role}" data-active="yes"' in html
        assert "道路管理局" in html  # roads_staff's department
        filtered = text_of(login(city.admin).get("/admin/users/?role=department"))
        assert 'data-user="roads_staff"' in filtered and 'data-user="operator"' not in filtered

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor"])
    def test_only_admins(self, login, city, who):
        client = login(getattr(city, who))
        assert client.get("/admin/users/").status_code == 403
        assert client.get(f"/admin/users/{city.operator.id}").status_code == 403
        assert client.get("/admin/users/log").status_code == 403
        response = client.post(f"/admin/users/{city.operator.id}", data={"role": "admin", "reason": "me"})
        assert response.status_code == 403
        assert reloaded(city.operator).role == Role.OPERATOR and changes() == []

    def test_the_menu_links_the_pages_for_admins(self, login, city):
        page = text_of(login(city.admin).get("/tickets"))
        assert 'href="/admin/users/"' in page and 'href="/admin/users/log"' in page
        assert 'href="/admin/users/"' not in text_of(login(city.supervisor).get("/tickets"))

    def test_a_role_change_is_made_and_logged(self, login, city):
        client = login(city.admin)
        form = text_of(client.get(f"/admin/users/{city.operator.id}"))
        assert 'name="reason"' in form
        response = client.post(
            f"/admin/users/{city.operator.id}",
            data={"role": "department", "department": "water", "active": "y", "reason": "调到水务局"},
        )
        assert response.status_code == 302
        user = reloaded(city.operator)
        assert (user.role, user.department.code, user.active) == ("department", "water", True)
        assert changes() == [
            ("operator", "admin", "operator", "", True, "department", "water", True, "调到水务局", "web")
        ]
        page = text_of(client.get(response.location))
        assert "operator changed; the change is in the log." in page
        assert 'data-old-role="operator" data-new-role="department"' in page

    def test_deactivation_is_logged_and_ends_the_session(self, login, city):
        victim = login(city.dispatcher)
        assert victim.get("/dispatch").status_code == 200
        response = login(city.admin).post(
            f"/admin/users/{city.dispatcher.id}",
            data={"role": "dispatcher", "department": "", "reason": "left the job"},
        )
        assert response.status_code == 302
        assert reloaded(city.dispatcher).active is False
        assert changes()[0][4:8] == (True, "dispatcher", "", False)
        assert victim.get("/dispatch").status_code == 302  # to the login page
        assert users.authenticate("dispatcher", factories.PASSWORD) is None

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"role": "supervisor", "department": "", "active": "y", "reason": ""}, "Say why"),
            ({"role": "department", "department": "", "active": "y", "reason": "x"}, "belong to a department"),
            ({"role": "supervisor", "department": "water", "active": "y", "reason": "x"}, "Only department staff"),
            ({"role": "mayor", "department": "", "active": "y", "reason": "x"}, "Role must be one of"),
        ],
    )
    def test_bad_input_is_refused_with_a_message_and_nothing_changes(self, login, city, data, message):
        response = login(city.admin).post(f"/admin/users/{city.operator.id}", data=data)
        assert response.status_code == 400
        assert message in text_of(response)
        assert reloaded(city.operator).role == Role.OPERATOR and changes() == []

    def test_no_change_logs_nothing(self, login, city):
        response = login(city.admin).post(
            f"/admin/users/{city.operator.id}",
            data={"role": "operator", "department": "", "active": "y", "reason": "just looking"},
        )
        assert response.status_code == 302 and changes() == []

    def test_an_admin_cannot_demote_or_deactivate_themselves(self, login, city):
        response = login(city.admin).post(
            f"/admin/users/{city.admin.id}", data={"role": "operator", "department": "", "active": "y", "reason": "x"}
        )
        assert response.status_code == 400
        assert "Another administrator must" in text_of(response)
        assert reloaded(city.admin).role == Role.ADMIN

    def test_unknown_user_is_404(self, login, city):
        assert login(city.admin).get("/admin/users/999999").status_code == 404

    def test_the_log_lists_every_change_newest_first(self, login, city):
        users.change_role(city.admin, city.operator, "dispatcher", None, True, "first")
        users.change_role(None, city.water_staff, "department", "roads", True, "second", via="cli")
        html = text_of(login(city.admin).get("/admin/users/log"))
        assert html.index("second") < html.index("first")
        assert "command line" in html and 'data-user="water_staff"' in html
        assert "2 changes in all." in html


class TestService:
    def test_only_administrators_change_roles(self, city):
        with pytest.raises(PermissionDenied):
            users.change_role(city.supervisor, city.operator, "admin", None, True, "power grab")
        assert changes() == []

    def test_an_unknown_department(self, city):
        with pytest.raises(InvalidInput):
            users.change_role(city.admin, city.operator, "department", "nowhere", True, "x")


class TestCommand:
    @pytest.fixture(autouse=True)
    def _english(self):
        """The commands' messages in English, whatever the default locale."""
        with force_locale("en"):
            yield

    def test_set_role_changes_and_logs(self, runner, city):
        result = runner.invoke(
            args=["users", "set-role", "operator", "--role", "department", "--department", "roads", "--reason", "moved"]
        )
        assert result.exit_code == 0, result.output
        assert "operator: operator -> department" in result.output
        assert changes() == [("operator", None, "operator", "", True, "department", "roads", True, "moved", "cli")]

    def test_set_role_can_deactivate(self, runner, city):
        result = runner.invoke(
            args=["users", "set-role", "operator", "--role", "operator", "--deactivate", "--reason", "left"]
        )
        assert result.exit_code == 0, result.output
        assert "(deactivated)" in result.output and reloaded(city.operator).active is False

    def test_nothing_to_change(self, runner, city):
        result = runner.invoke(args=["users", "set-role", "operator", "--role", "operator", "--reason", "x"])
        assert result.exit_code == 0 and "nothing changed" in result.output
        assert db.session.scalar(select(func.count()).select_from(RoleChange)) == 0

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["nobody", "--role", "admin", "--reason", "x"], "no user nobody"),
            (["operator", "--role", "department", "--reason", "x"], "belong to a department"),
            (["operator", "--role", "admin", "--reason", "  "], "Say why"),
        ],
    )
    def test_refusals(self, runner, city, args, message):
        result = runner.invoke(args=["users", "set-role", *args])
        assert result.exit_code == 1 and message in result.output
        assert changes() == []

    def test_the_reason_is_required(self, runner, city):
        result = runner.invoke(args=["users", "set-role", "operator", "--role", "admin"])
        assert result.exit_code == 2 and "--reason" in result.output
