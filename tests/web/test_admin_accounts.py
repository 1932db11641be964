"""Users made and passwords reset on the administrators' page (issue 16, item 5), logged with
the role changes: who, when, why. The password policy holds; a reset ends the user's sessions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, RoleChange, RoleChangeAction, User
from hotline.services.accounts import passwords, users
from hotline.services.errors import PermissionDenied
from tests import factories
from tests.web.conftest import text_of

STRONG = "tidy lantern by the river"
NEW = {
    "username": "li_na",
    "display_name": "李娜",
    "role": "operator",
    "department": "",
    "password": STRONG,
    "reason": "新入职话务员",
}


def log() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(RoleChange).order_by(RoleChange.id))
    return [
        (r.action, r.user.username, r.changed_by.username if r.changed_by else None, r.new_role, r.reason, r.via)
        for r in rows
    ]


def named(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


class TestCreate:
    def test_the_list_links_the_form(self, login, city):
        assert 'href="/admin/users/new"' in text_of(login(city.admin).get("/admin/users/"))

    def test_an_administrator_creates_a_user_and_it_is_logged(self, app, login, city):
        client = login(city.admin)
        form = text_of(client.get("/admin/users/new"))
        assert 'name="password"' in form and 'name="department"' in form
        response = client.post("/admin/users/new", data=NEW)
        assert response.status_code == 302
        user = named("li_na")
        assert (user.role, user.display_name, user.department) == (Role.OPERATOR, "李娜", None)
        assert response.location.endswith(f"/admin/users/{user.id}")
        assert log() == [("created", "li_na", "admin", "operator", "新入职话务员", "web")]
        page = text_of(client.get(response.location))
        assert "User li_na created; the creation is in the log." in page
        assert 'data-action="created"' in page and "user created" in page
        assert users.authenticate("li_na", STRONG) is not None
        fresh = app.test_client()
        assert fresh.post("/login", data={"username": "li_na", "password": STRONG}).status_code == 302

    def test_department_staff_get_their_department(self, login, city):
        response = login(city.admin).post("/admin/users/new", data={**NEW, "role": "department", "department": "water"})
        assert response.status_code == 302
        assert named("li_na").department.code == "water"

    @pytest.mark.parametrize(
        ("change", "message", "field"),
        [
            ({"password": "short"}, "The password needs at least 12 characters.", "password"),
            ({"password": "password1234"}, "This password is too common or too simple", "password"),
            ({"password": "li_na li_na li_na"}, "must not be (or mostly be) the user name", "password"),
            ({"username": "  "}, "A user needs a name.", "username"),
            ({"username": "operator"}, "User “operator” exists already.", "username"),
            ({"role": "department"}, "Department staff belong to a department: choose it.", "department"),
            ({"role": "supervisor", "department": "water"}, "Only department staff belong to a department.", "department"),
            ({"role": "mayor"}, "Role must be one of", "role"),
        ],
    )  # fmt: skip
    def test_refused_with_the_message_beside_the_field_and_nothing_saved(self, login, city, change, message, field):
        before = db.session.scalar(select(db.func.count()).select_from(User))
        response = login(city.admin).post("/admin/users/new", data={**NEW, **change})
        assert response.status_code == 400
        html = text_of(response)
        assert message in html
        # Beside its field: the field is marked invalid.
        tag = re.search(rf'<(?:input|select)\b[^>]*\bid="{field}"[^>]*>', html).group(0)
        assert "is-invalid" in tag
        assert db.session.scalar(select(db.func.count()).select_from(User)) == before
        assert log() == []

    def test_the_missing_unit_is_asked_for_as_the_form_shows_it(self, login, city):
        """The form shows a drop-down headed 承办单位: the message asks to choose one, not to type a code."""
        city.admin.locale = "zh_CN"
        db.session.commit()
        client = login(city.admin)
        for url, data in (
            ("/admin/users/new", {**NEW, "role": "department"}),
            (f"/admin/users/{city.operator.id}", {"role": "department", "department": "", "reason": "调岗"}),
        ):
            html = text_of(client.post(url, data=data))
            assert '<label class="form-label mb-1" for="department">承办单位</label>' in html
            assert "请选择承办单位" in html and "单位代码" not in html

    def test_only_administrators(self, login, city):
        for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
            client = login(user)
            assert client.get("/admin/users/new").status_code == 403
            assert client.post("/admin/users/new", data=NEW).status_code == 403
        assert named("li_na") is None and log() == []
        with pytest.raises(PermissionDenied):
            users.create_user("x_user", "operator", STRONG, actor=city.supervisor, via="web")

    def test_the_command_line_logs_its_creations(self, runner, city):
        result = runner.invoke(args=["users", "create", "wang_wu", "--role", "dispatcher", "--password", STRONG])
        assert result.exit_code == 0, result.output
        assert log() == [("created", "wang_wu", None, "dispatcher", "", "cli")]


class TestResetPassword:
    def test_a_reset_shows_a_new_password_once_logs_it_and_ends_the_sessions(self, app, login, city):
        victim = login(city.operator)
        assert victim.get("/tickets").status_code == 200
        admin = login(city.admin)
        page = text_of(admin.get(f"/admin/users/{city.operator.id}"))
        assert f'action="/admin/users/{city.operator.id}/password"' in page
        response = admin.post(f"/admin/users/{city.operator.id}/password", data={"reset-reason": "忘记密码，本人来电"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        password = re.search(r'id="new-password">([^<]+)<', text_of(response)).group(1)
        assert len(password) >= 12
        # The old password and every session end; the new one works.
        assert victim.get("/tickets").status_code == 302
        assert users.authenticate("operator", factories.PASSWORD) is None
        assert users.authenticate("operator", password) is not None
        assert log() == [("password", "operator", "admin", "operator", "忘记密码，本人来电", "web")]
        entry = db.session.scalars(select(RoleChange)).one()
        assert entry.at is not None and password not in entry.reason
        history = text_of(admin.get(f"/admin/users/{city.operator.id}"))
        assert 'data-action="password"' in history and "password reset" in history
        assert password not in history  # shown once only

    def test_each_reset_makes_another_strong_password(self, city):
        made = {users.generated_password() for _ in range(50)}
        assert len(made) == 50
        for password in list(made)[:5]:
            passwords.check(password, "operator", ["Operator"])  # raises when weak

    def test_the_reason_is_required(self, login, city):
        admin = login(city.admin)
        response = admin.post(f"/admin/users/{city.operator.id}/password", data={"reset-reason": " "})
        assert response.status_code == 302
        assert "Say why: the reason is kept in the log of role changes." in text_of(admin.get(response.location))
        assert users.authenticate("operator", factories.PASSWORD) is not None
        assert log() == []

    def test_an_administrator_does_not_reset_their_own(self, login, city):
        assert 'id="reset-password"' not in text_of(login(city.admin).get(f"/admin/users/{city.admin.id}"))
        admin = login(city.admin)
        response = admin.post(f"/admin/users/{city.admin.id}/password", data={"reset-reason": "x"})
        assert response.status_code == 302
        assert "Change your own password on the Change password page" in text_of(admin.get(response.location))
        assert users.authenticate("admin", factories.PASSWORD) is not None and log() == []

    def test_only_administrators(self, login, city):
        for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
            response = login(user).post(f"/admin/users/{city.water_staff.id}/password", data={"reset-reason": "x"})
            assert response.status_code == 403
        assert users.authenticate("water_staff", factories.PASSWORD) is not None and log() == []

    def test_the_log_names_what_each_entry_is(self, login, city):
        users.create_user("zhao_liu", "operator", STRONG, actor=city.admin, via="web", reason="新人")
        users.reset_password(city.admin, named("zhao_liu"), "忘记")
        users.change_role(city.admin, named("zhao_liu"), "dispatcher", None, True, "转岗")
        assert [entry[0] for entry in log()] == [
            RoleChangeAction.CREATED,
            RoleChangeAction.PASSWORD,
            RoleChangeAction.ROLE,
        ]
        html = text_of(login(city.admin).get("/admin/users/log"))
        assert html.index("转岗") < html.index("忘记") < html.index("新人")
        assert "user created" in html and "password reset" in html
