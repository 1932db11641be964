"""Users, roles and API tokens: what administrators manage."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import ApiToken, Department, Role, User
from hotline.models.types import utcnow
from hotline.services.directory import by_code
from hotline.services.errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def create_user(
    username: str,
    role: str,
    password: str,
    department_code: str | None = None,
    display_name: str = "",
) -> User:
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("A user needs a name."), field="username")
    if role not in Role.ALL:
        raise InvalidInput(_("Role must be one of: %(roles)s.", roles=", ".join(Role.ALL)), field="role")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise InvalidInput(_("User “%(name)s” exists already.", name=username), field="username")
    department = None
    if role == Role.DEPARTMENT:
        if not department_code:
            raise InvalidInput(_("Department staff belong to a department: give its code."), field="department")
        department = by_code(Department, department_code, "department")
    elif department_code:
        raise InvalidInput(_("Only department staff belong to a department."), field="department")
    user = User(username=username, role=role, department=department, display_name=display_name or username)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def issue_token(user: User) -> str:
    """A new bearer token; it is shown once and only its digest is kept."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, digest=ApiToken.digest_of(token)))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.digest == ApiToken.digest_of(token)))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    # Record use at most every few minutes: a write per API call would slow intake.
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
    return row.user


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active or not user.check_password(password or ""):
        return None
    return user
