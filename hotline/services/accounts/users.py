"""Users, roles and API tokens: what administrators manage."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.extensions import db
from hotline.models import ApiToken, Department, Role, RoleChange, RoleChangeAction, User
from hotline.models.types import utcnow
from hotline.services.accounts import login_sessions, passwords
from hotline.services.city.directory import by_code
from hotline.services.errors import InvalidInput, NotFound, PermissionDenied

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
TOKEN_NAME_MAX = 80
TOKEN_MAX_DAYS = 3650


def create_user(
    username: str,
    role: str,
    password: str,
    department_code: str | None = None,
    display_name: str = "",
    *,
    demo_city: bool = False,
    actor: User | None = None,
    via: str | None = None,
    reason: str = "",
) -> User:
    """A new user, whose password follows the policy (`services.accounts.passwords`); only `seed-demo`
    passes `demo_city`, for the demo users' published password.

    With `via` ("web" by `actor`, an administrator, or "cli") the creation is logged with the
    role changes, so that the log tells who made every account and when."""
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only administrators create users."))
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("A user needs a name."), field="username")
    if role not in Role.ALL:
        raise InvalidInput(_("Role must be one of: %(roles)s.", roles=", ".join(Role.ALL)), field="role")
    if not demo_city:
        passwords.check(password, username, [display_name])
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise InvalidInput(_("User “%(name)s” exists already.", name=username), field="username")
    department = _department_for(role, department_code)
    user = User(username=username, role=role, department=department, display_name=display_name or username)
    user.set_password(password)
    db.session.add(user)
    if via is not None:
        _log(actor, user, RoleChangeAction.CREATED, reason, via, old=("", "", False))
    db.session.commit()
    return user


def _log(
    actor: User | None, user: User, action: str, reason: str, via: str, old: tuple[str, str, bool] | None = None
) -> RoleChange:
    """An entry of the log of role changes: `old` the role, department code and activity before
    (None: as they are now, for an entry that changes none of them)."""
    new = (user.role, user.department.code if user.department else "", user.active)
    old = new if old is None else old
    change = RoleChange(
        user=user,
        changed_by=actor,
        at=utcnow(),
        old_role=old[0],
        new_role=new[0],
        old_department=old[1],
        new_department=new[1],
        old_active=old[2],
        new_active=new[2],
        reason=(reason or "").strip()[:2000],
        via=via,
        action=action,
    )
    db.session.add(change)
    return change


def issue_token(user: User, name: str = "", expires_days: int | None = None) -> str:
    """A new bearer token; it is shown once and only its digest is kept.

    `name` says what holds it (e.g. the CTI server); `expires_days`, when given, ends it then."""
    name = (name or "").strip()
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput(_("A token's name has at most %(num)d characters.", num=TOKEN_NAME_MAX), field="name")
    if expires_days is not None and not 1 <= expires_days <= TOKEN_MAX_DAYS:
        raise InvalidInput(_("A token expires after 1 to %(num)d days.", num=TOKEN_MAX_DAYS), field="expires_days")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(days=expires_days) if expires_days is not None else None
    db.session.add(
        ApiToken(user=user, digest=ApiToken.digest_of(token), name=name, created_at=now, expires_at=expires_at)
    )
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    # The user and the token's expiry and last use in one indexed query: every API call authenticates.
    row = db.session.execute(_token_user_statement(), {"digest": ApiToken.digest_of(token)}).first()
    if row is None or not row.User.active:
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    # Record use at most once a minute: a write per API call would slow intake.
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
        db.session.execute(update(ApiToken).where(ApiToken.id == row.token_id).values(last_used_at=now))
        db.session.commit()
    return row.User


@lru_cache(maxsize=1)
def _token_user_statement() -> Select:
    """Built once: building it cost about as much as running it, on every API call."""
    return (
        select(User, ApiToken.id.label("token_id"), ApiToken.expires_at, ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == bindparam("digest"), ApiToken.revoked_at.is_(None))
    )


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included (see `ApiToken.state`)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (already revoked: unchanged). Commits."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise NotFound(_("%(name)s has no API token %(id)s.", name=user.username, id=token_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.session.commit()
    return token


def revoke_tokens(user: User) -> int:
    """Revoke all of `user`'s tokens; how many were still unrevoked. Commits."""
    count = _revoke_all(user)
    db.session.commit()
    return count


def _revoke_all(user: User) -> int:
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        # Hash anyway, so that an unknown name takes as long as a wrong password: the answer's
        # timing must not tell which accounts exist.
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def _dummy_hash() -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    cached = current_app.extensions.get("hotline_dummy_hash")
    if cached is None or cached[0] != method:
        cached = (method, generate_password_hash(secrets.token_urlsafe(16), method=method))
        current_app.extensions["hotline_dummy_hash"] = cached
    return cached[1]


def set_password(user: User, password: str) -> None:
    """A new password for `user`, under the password policy (`services.accounts.passwords`)."""
    _replace_password(user, password)
    db.session.commit()


def _replace_password(user: User, password: str) -> None:
    passwords.check(password, user.username, [user.display_name])
    user.set_password(password)
    login_sessions.end_all(user)  # whoever knew the old password is signed out everywhere


def reset_password(actor: User, user: User, reason: str) -> str:
    """An administrator resets `user`'s password: a new one is made here, returned to be shown
    once and handed to the user, who then chooses their own. Logged with the role changes (who,
    when, why; never the password), and the user's sessions end. Commits.

    The system makes the password rather than the administrator typing one: it is strong by
    construction, and no administrator is tempted to reuse a "temporary" one for everybody."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only administrators reset passwords."))
    if actor.id == user.id:
        raise PermissionDenied(_("Change your own password on the Change password page: it asks for the current one."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why: the reason is kept in the log of role changes."), field="reason")
    password = generated_password()
    _replace_password(user, password)
    _log(actor, user, RoleChangeAction.PASSWORD, reason, "web")
    db.session.commit()
    return password


# No 0/O, 1/l/I: the password is read out or copied by hand to its user.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generated_password() -> str:
    """Four groups of five random characters (about 116 bits), easy to read out: xxxxx-xxxxx-xxxxx-xxxxx."""
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(5)) for _ in range(4))


def change_own_password(user: User, current: str, new: str, repeated: str) -> None:
    """A signed-in user's own new password: the current one first (a session left open on a
    shared desk must not be enough), typed twice, under the password policy."""
    if not user.check_password(current or ""):
        raise InvalidInput(_("The current password is wrong."), field="current")
    if (new or "") != (repeated or ""):
        raise InvalidInput(_("The two new passwords differ."), field="repeated")
    if new == current:
        raise InvalidInput(_("The new password must differ from the current one."), field="password")
    set_password(user, new)


def change_role(
    actor: User | None,
    user: User,
    role: str,
    department_code: str | None,
    active: bool,
    reason: str,
    via: str = "web",
    unit_lead: bool | None = None,
) -> RoleChange | None:
    """Give `user` a role (and department), or (de)activate them, and log it with the reason.
    `unit_lead`: make them their unit's lead (单位负责人, department staff only) or not; None keeps it.

    `actor` is the administrator (None on the command line). None when nothing changed.
    Administrators cannot change their own role nor deactivate themselves: another
    administrator must, so that no one locks the hotline out of its own administration.
    """
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise PermissionDenied(_("Only administrators change roles."))
    if role not in Role.ALL:
        raise InvalidInput(_("Role must be one of: %(roles)s.", roles=", ".join(Role.ALL)), field="role")
    department = _department_for(role, department_code)
    old = (user.role, user.department.code if user.department else "", user.active)
    new = (role, department.code if department else "", active)
    lead = user.is_unit_lead if unit_lead is None else unit_lead
    if role != Role.DEPARTMENT:
        if unit_lead:
            raise InvalidInput(_("Only department staff lead a unit."), field="unit_lead")
        lead = False
    if old == new and lead == user.is_unit_lead:
        return None
    if actor is not None and actor.id == user.id:
        raise PermissionDenied(_("Another administrator must change your own role or deactivate you."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why: the reason is kept in the log of role changes."), field="reason")
    user.role, user.department, user.active, user.is_unit_lead = role, department, active, lead
    change = _log(actor, user, RoleChangeAction.ROLE, reason, via, old=old)
    # A session signed in under the old role or unit ends; a deactivated user's tokens end too,
    # so that reactivating them revives none (the API reads the role per call: tokens follow it).
    login_sessions.end_all(user)
    if not active:
        _revoke_all(user)
    db.session.commit()
    return change


def _department_for(role: str, department_code: str | None) -> Department | None:
    """Department staff belong to exactly one department; nobody else belongs to any."""
    if role == Role.DEPARTMENT:
        if not department_code:
            raise InvalidInput(_("Department staff belong to a department: choose it."), field="department")
        return by_code(Department, department_code, "department")
    if department_code:
        raise InvalidInput(_("Only department staff belong to a department."), field="department")
    return None
