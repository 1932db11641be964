"""The duty rota page (值班表): who is on duty this week, the weekly rules and the dated shifts of
a unit (or of the supervisors: the code "supervisors"); its lead and admins change it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Department, DutyPattern, Role, User
from hotline.models.types import utcnow
from hotline.services.city import duty
from hotline.services.clocks.calendar import work_calendar
from hotline.services.errors import InvalidInput, NotFound
from hotline.web.guards import roles_required

bp = Blueprint("duty", __name__, url_prefix="/duty")

SUPERVISORS = "supervisors"  # the supervisors' rota on the page (no department)


def _unit(code: str) -> Department | None:
    if code == SUPERVISORS:
        return None
    try:
        return duty.department_by_code(code)
    except NotFound:
        abort(404)


def _guard(allowed: bool) -> None:
    if not allowed:
        abort(403)


@bp.get("/")
@roles_required()
def index():
    """Your own unit's rota, or (supervisors, admins) the list of rotas."""
    if current_user.role == Role.DEPARTMENT and current_user.department is not None:
        return redirect(url_for("duty.rota", code=current_user.department.code))
    _guard(current_user.role in duty.READ_ROLES)
    units = db.session.scalars(select(Department).order_by(Department.name)).all()
    return render_template("duty/index.html", units=units, supervisors=SUPERVISORS)


@bp.get("/<code>")
@roles_required()
def rota(code: str):
    department = _unit(code)
    _guard(duty.may_read(current_user, department))
    return _page(code, department)


def _page(code: str, department: Department | None, status: int = 200):
    tz = work_calendar().tz
    today = utcnow().astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    now = utcnow()
    person = duty.on_duty(department.id if department else None, now)
    staff = _staff(department)
    return (
        render_template(
            "duty/rota.html",
            code=code,
            department=department,
            on_duty=person,
            week=duty.week_view(department, monday),
            patterns=duty.patterns(department),
            shifts=duty.shifts(department, since=now - timedelta(days=1)),
            staff=staff,
            phones={user.id: duty.duty_phone(user) for user in staff},
            editable=duty.may_edit(current_user, department),
            day_kinds=_day_kinds(),
            tz=tz,
        ),
        status,
    )


def _staff(department: Department | None) -> list[User]:
    query = select(User).where(User.active.is_(True))
    if department is None:
        query = query.where(User.role.in_((Role.SUPERVISOR, Role.ADMIN)))
    else:
        query = query.where(User.role == Role.DEPARTMENT, User.department_id == department.id)
    return list(db.session.scalars(query.order_by(User.username)))


def _day_kinds() -> dict[str, str]:
    return {
        DutyPattern.WORKDAY: _("Working days (by the holiday calendar)"),
        DutyPattern.RESTDAY: _("Rest days and holidays"),
    }


def _change(code: str, change: Callable[[Department | None], object], done: str):
    """Check the right first (one who may not learns nothing from the form's errors), make the
    change, and come back to the rota: with its message, or the page again with the error."""
    department = _unit(code)
    _guard(duty.may_edit(current_user, department))
    try:
        change(department)
    except NotFound:
        abort(404)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _page(code, department, status=400)
    flash(done, "success")
    return redirect(url_for("duty.rota", code=code))


@bp.post("/<code>/shifts")
@roles_required()
def add_shift(code: str):
    form = request.form

    def add(department: Department | None) -> object:
        given = duty.ShiftInput(
            user=form.get("user", ""),
            starts_at=duty.parse_moment(form.get("starts_at"), "starts_at"),
            ends_at=duty.parse_moment(form.get("ends_at"), "ends_at"),
            phone=form.get("phone", "").strip(),
        )
        return duty.add_shift(current_user, department, given)

    return _change(code, add, _("The shift is on the rota."))


@bp.post("/<code>/shifts/<int:shift_id>/delete")
@roles_required()
def delete_shift(code: str, shift_id: int):
    return _change(
        code, lambda department: duty.delete_shift(current_user, department, shift_id), _("The shift is off the rota.")
    )


@bp.post("/<code>/patterns")
@roles_required()
def add_pattern(code: str):
    form = request.form
    fields = (
        form.get("user", ""),
        form.get("day_kind", ""),
        form.get("starts", "").strip(),
        form.get("ends", "").strip(),
    )
    return _change(
        code,
        lambda department: duty.set_pattern(current_user, department, *fields),
        _("The weekly rule is on the rota."),
    )


@bp.post("/<code>/patterns/<int:pattern_id>/delete")
@roles_required()
def delete_pattern(code: str, pattern_id: int):
    return _change(
        code,
        lambda department: duty.delete_pattern(current_user, department, pattern_id),
        _("The weekly rule is off the rota."),
    )
