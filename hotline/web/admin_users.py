"""Users for administrators: the list, a new user, a user's role, department and activity,
a password reset, the log of every such change (who changed whom, when, from what to what,
and why), and a user's API tokens (listed and revoked here; made on the command line, where
the token is shown)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField

from hotline import labels
from hotline.extensions import db
from hotline.models import Department, Role, User
from hotline.models.types import utcnow
from hotline.services.accounts import audit, passwords, users
from hotline.services.errors import ServiceError
from hotline.web.forms import HotlineForm, show_service_error
from hotline.web.guards import expired, roles_required
from hotline.web.paging import page_number

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

PAGE_SIZE = 100


class RoleForm(HotlineForm):
    # The service checks role and department and says what is wrong; the form passes them on.
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    department = SelectField(_l("Department"), choices=[], validate_choice=False)
    active = BooleanField(_l("Active (may log in)"))
    unit_lead = BooleanField(_l("Unit lead (assigns the unit's tickets to handlers)"))  # issue 17
    reason = TextAreaField(_l("Reason"))


class NewUserForm(HotlineForm):
    username = StringField(_l("Username"))
    display_name = StringField(_l("Display name"))
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    department = SelectField(_l("Department"), choices=[], validate_choice=False)
    password = PasswordField(_l("Password"))
    reason = TextAreaField(_l("Reason"))


class ResetForm(HotlineForm):
    reason = TextAreaField(_l("Reason"))


def _form(user: User | None = None) -> RoleForm:
    form = (
        RoleForm()
        if user is None
        else RoleForm(
            data={
                "role": user.role,
                "department": user.department.code if user.department else "",
                "active": user.active,
                "unit_lead": user.is_unit_lead,
            }
        )
    )
    return _with_choices(form)


def _with_choices(form: RoleForm | NewUserForm) -> RoleForm | NewUserForm:
    form.role.choices = [(code, labels.ROLE_LABELS.get(code, code)) for code in Role.ALL]
    departments = db.session.scalars(select(Department).order_by(Department.name))
    form.department.choices = [("", _("— none —"))] + [(d.code, d.name) for d in departments]
    return form


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    """A new user with a password under the policy; the creation is logged."""
    form = _with_choices(NewUserForm())
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired; reload the page and try again."), "danger")
        else:
            try:
                user = users.create_user(
                    form.username.data or "",
                    form.role.data or "",
                    form.password.data or "",
                    form.department.data or None,
                    (form.display_name.data or "").strip(),
                    actor=current_user,
                    via="web",
                    reason=form.reason.data or "",
                )
            except ServiceError as failure:
                db.session.rollback()
                show_service_error(form, failure)
            else:
                flash(_("User %(name)s created; the creation is in the log.", name=user.username), "success")
                return redirect(url_for("admin_users.edit", user_id=user.id))
        return render_template("admin/users_new.html", form=form, min_length=passwords.MIN_LENGTH), 400
    return render_template("admin/users_new.html", form=form, min_length=passwords.MIN_LENGTH)


@bp.post("/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int):
    """A new password made by the system, shown once on this answer (never stored in clear nor
    logged); the user's sessions end."""
    user = db.get_or_404(User, user_id)
    form = ResetForm(prefix="reset")
    if refused := expired(form, url_for("admin_users.edit", user_id=user.id)):
        return refused
    try:
        password = users.reset_password(current_user, user, form.reason.data or "")
    except ServiceError as failure:
        db.session.rollback()
        flash(failure.message, "danger")
        return redirect(url_for("admin_users.edit", user_id=user.id))
    response = make_response(render_template("admin/users_password.html", user=user, password=password))
    response.headers["Cache-Control"] = "no-store"  # the password must not stay in a cache or history
    return response


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    role = request.args.get("role", "")
    query = select(User).order_by(User.username)
    if role in Role.ALL:
        query = query.where(User.role == role)
    page = page_number()
    pagination = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/users.html", pagination=pagination, role=role, roles=Role.ALL)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _form(user) if request.method == "GET" else _form()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = _("The form has expired; reload the page and try again.")
        else:
            try:
                change = users.change_role(
                    current_user,
                    user,
                    form.role.data or "",
                    form.department.data or None,
                    bool(form.active.data),
                    form.reason.data or "",
                    unit_lead=bool(form.unit_lead.data),
                )
            except ServiceError as failure:
                db.session.rollback()
                error = failure.message
            else:
                if change is None:
                    flash(_("Nothing changed for %(name)s.", name=user.username), "info")
                else:
                    flash(_("%(name)s changed; the change is in the log.", name=user.username), "success")
                return redirect(url_for("admin_users.edit", user_id=user.id))
    changes, _total = audit.role_changes(user=user, per_page=50)
    status = 400 if error else 200
    return render_template(
        "admin/users_edit.html",
        user=user,
        form=form,
        error=error,
        changes=changes,
        tokens=users.tokens_of(user),
        now=utcnow(),
        revoke_form=HotlineForm(),
        reset_form=ResetForm(formdata=None, prefix="reset"),
    ), status


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_token(user_id: int, token_id: int):
    """Revoke one of the user's API tokens."""
    user = db.get_or_404(User, user_id)
    if _checked():
        try:
            users.revoke_token(user, token_id)
        except ServiceError as failure:
            db.session.rollback()
            flash(failure.message, "danger")
        else:
            flash(_("API token %(id)s of %(name)s revoked.", id=token_id, name=user.username), "success")
    return redirect(url_for("admin_users.edit", user_id=user.id))


@bp.post("/<int:user_id>/tokens/revoke")
@roles_required(Role.ADMIN)
def revoke_tokens(user_id: int):
    """Revoke all of the user's API tokens."""
    user = db.get_or_404(User, user_id)
    if _checked():
        count = users.revoke_tokens(user)
        flash(
            ngettext(
                "%(num)d API token of %(name)s revoked.",
                "%(num)d API tokens of %(name)s revoked.",
                count,
                name=user.username,
            ),
            "success",
        )
    return redirect(url_for("admin_users.edit", user_id=user.id))


def _checked() -> bool:
    """The revoke buttons' form: only its CSRF token to check."""
    if HotlineForm().validate_on_submit():
        return True
    flash(_("The form has expired; reload the page and try again."), "danger")
    return False


@bp.get("/log")
@roles_required(Role.ADMIN)
def log():
    page = page_number()
    changes, total = audit.role_changes(page=page, per_page=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("admin/users_log.html", changes=changes, total=total, page=page, pages=pages)
