"""Hotspots (热点) for supervisors: the day's, week's and month's largest groups of similar
tickets in one place; a hotspot's tickets; name it, follow it, dismiss it, or assign it to a
department as a proactive case (未诉先办)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, SubmitField, TextAreaField

from hotline.extensions import db
from hotline.models import Department, Hotspot, HotspotWindow, User
from hotline.services.accounts import access
from hotline.services.errors import NotFound, ServiceError
from hotline.services.hotspot_detection import hotspots
from hotline.web.forms import HotlineForm
from hotline.web.guards import expired, roles_required
from hotline.web.paging import page_number

bp = Blueprint("hotspots", __name__, url_prefix="/hotspots")

TOP = 20
PAGE_SIZE = 50
WINDOW_LABELS = {
    HotspotWindow.DAY: _l("Last 24 hours"),
    HotspotWindow.WEEK: _l("Last 7 days"),
    HotspotWindow.MONTH: _l("Last 30 days"),
}


class NameForm(HotlineForm):
    name = StringField(_l("Name"))
    submit = SubmitField(_l("Save the name"))


class AssignForm(HotlineForm):
    department = SelectField(_l("Department"), validate_choice=False)
    note = TextAreaField(_l("Note to the department"))
    submit = SubmitField(_l("Assign as a proactive case"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        departments = db.session.scalars(select(Department).order_by(Department.name))
        self.department.choices = [("", _("Choose a department"))] + [(d.code, d.name) for d in departments]


class ActionForm(HotlineForm):
    """Follow, unfollow, dismiss, reopen: only the CSRF token."""


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", code=404, message=error.message), 404


@bp.get("")
@roles_required(*access.SUPERVISE_ROLES)
def index():
    window = request.args.get("window", HotspotWindow.DAY)
    if window not in HotspotWindow.ALL:
        flash(_("Unknown window “%(window)s”: day, week or month.", window=window), "warning")
        return redirect(url_for("hotspots.index"))
    return render_template(
        "hotspots/index.html",
        window=window,
        windows=WINDOW_LABELS,
        hotspots=hotspots.top(current_user, window, TOP),
        followed=hotspots.followed(current_user),
        departments=_department_names(),
    )


@bp.get("/<int:hotspot_id>")
@roles_required(*access.SUPERVISE_ROLES)
def show(hotspot_id: int):
    hotspot = hotspots.get(current_user, hotspot_id)
    pagination = db.paginate(
        hotspots.tickets_query(current_user, hotspot), page=page_number(), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "hotspots/show.html",
        hotspot=hotspot,
        pagination=pagination,
        windows=WINDOW_LABELS,
        departments=_department_names(),
        name_form=NameForm(data={"name": hotspot.name}),
        assign_form=AssignForm(),
        action_form=ActionForm(),
        following=hotspot.followed_by(current_user),
    )


@bp.post("/<int:hotspot_id>/name")
@roles_required(*access.SUPERVISE_ROLES)
def name(hotspot_id: int):
    def action(hotspot: Hotspot, form: NameForm) -> str:
        hotspots.name(current_user, hotspot, form.name.data or "")
        return _("Named “%(name)s”.", name=hotspot.name) if hotspot.name else _("The name was removed.")

    return _act(hotspot_id, NameForm, action)


@bp.post("/<int:hotspot_id>/follow")
@roles_required(*access.SUPERVISE_ROLES)
def follow(hotspot_id: int):
    return _act(hotspot_id, ActionForm, _then(hotspots.follow, _l("You follow this hotspot.")))


@bp.post("/<int:hotspot_id>/unfollow")
@roles_required(*access.SUPERVISE_ROLES)
def unfollow(hotspot_id: int):
    return _act(hotspot_id, ActionForm, _then(hotspots.unfollow, _l("You no longer follow this hotspot.")))


@bp.post("/<int:hotspot_id>/dismiss")
@roles_required(*access.SUPERVISE_ROLES)
def dismiss(hotspot_id: int):
    return _act(hotspot_id, ActionForm, _then(hotspots.dismiss, _l("Hotspot dismissed.")))


@bp.post("/<int:hotspot_id>/reopen")
@roles_required(*access.SUPERVISE_ROLES)
def reopen(hotspot_id: int):
    return _act(hotspot_id, ActionForm, _then(hotspots.reopen, _l("Hotspot reopened.")))


@bp.post("/<int:hotspot_id>/assign")
@roles_required(*access.SUPERVISE_ROLES)
def assign(hotspot_id: int):
    def action(hotspot: Hotspot, form: AssignForm) -> str:
        ticket = hotspots.assign(current_user, hotspot, form.department.data or "", form.note.data or "")
        return _(
            "Proactive case %(number)s created and dispatched to %(department)s.",
            number=ticket.number,
            department=ticket.department.name,
        )

    return _act(hotspot_id, AssignForm, action)


def _then(service: Callable[[User, Hotspot], Hotspot], message) -> Callable[[Hotspot, HotlineForm], str]:
    """An action that only calls the service, then says `message`."""

    def action(hotspot: Hotspot, form: HotlineForm) -> str:
        service(current_user, hotspot)
        return str(message)

    return action


def _act(hotspot_id: int, form_class: type[HotlineForm], action: Callable[[Hotspot, HotlineForm], str]) -> Response:
    """Run one action from its form; a refusal is flashed and nothing changes."""
    hotspot = hotspots.get(current_user, hotspot_id)
    back = url_for("hotspots.show", hotspot_id=hotspot.id)
    form = form_class()
    if refused := expired(form, back):
        return refused
    try:
        message = action(hotspot, form)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    flash(message, "success")
    return redirect(back)


def _department_names() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)).all())
