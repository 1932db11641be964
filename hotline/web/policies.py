"""SLA policies for administrators: the time limits per category (or the whole hotline) and
urgency, with the built-in defaults shown for reference."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hotline.bounds import whole_number
from hotline.extensions import db
from hotline.models import Role, SlaPolicy
from hotline.models.types import utcnow
from hotline.services.clocks import policies, sla
from hotline.services.errors import NotFound, ServiceError
from hotline.web.forms import DeleteForm, PolicyForm, show_service_error
from hotline.web.guards import roles_required

bp = Blueprint("policies", __name__, url_prefix="/admin/sla-policies")

NUMBER_FIELDS = ("accept_amount", "resolve_amount", "return_window_days", "max_extension_days")


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", code=404, message=error.message), 404


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    listed = policies.list_policies()
    now = utcnow()
    # When each clock would fall for a ticket dispatched now: the same computation as the tickets'.
    previews = {policy.id: policies.preview(policies.policy_terms(policy), now) for policy in listed}
    default_previews = {urgency: policies.preview(terms.as_dict(), now) for urgency, terms in sla.DEFAULT_TERMS.items()}
    return render_template(
        "admin/policies.html",
        policies=listed,
        defaults=sla.DEFAULT_TERMS,
        previews=previews,
        default_previews=default_previews,
        now=now,
        moment_text=policies.moment_text,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    form = PolicyForm()
    if request.method == "POST":
        if _save(form, None):
            flash(_("SLA policy saved. It applies to tickets dispatched from now on."), "success")
            return redirect(url_for("policies.index"))
        return _form_page(form, None), 400
    return _form_page(form, None)


@bp.route("/<int:policy_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(policy_id: int):
    policy = _policy(policy_id)
    if request.method == "POST":
        form = PolicyForm()
        if _save(form, policy):
            flash(_("SLA policy saved. It applies to tickets dispatched from now on."), "success")
            return redirect(url_for("policies.index"))
        return _form_page(form, policy), 400
    form = PolicyForm(
        data={
            "category": policy.category.code if policy.category else "",
            "urgency": policy.urgency,
            "accept_unit": policy.accept_unit,
            "resolve_unit": policy.resolve_unit,
            **{name: str(getattr(policy, name)) for name in NUMBER_FIELDS},
            "contact_amount": str(policy.contact_amount or ""),  # issue 17
            "contact_unit": policy.contact_unit or policy.accept_unit,
        }
    )
    return _form_page(form, policy)


def _form_page(form: PolicyForm, policy: SlaPolicy | None) -> str:
    """The form, with when each clock would fall for a ticket dispatched now under its limits."""
    terms = {name: form[name].data for name in ("accept_unit", "resolve_unit")}
    for name in ("accept_amount", "resolve_amount"):
        terms[name] = whole_number((form[name].data or "").strip())
    return render_template(
        "admin/policy_form.html",
        form=form,
        policy=policy,
        limits=_limits(),
        preview=policies.preview(terms),
        moment_text=policies.moment_text,
    )


@bp.route("/<int:policy_id>/delete", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def delete(policy_id: int):
    policy = _policy(policy_id)
    form = DeleteForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired; reload the page and try again."), "danger")
            return redirect(url_for("policies.delete", policy_id=policy.id))
        try:
            policies.delete_policy(current_user, policy)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("policies.index"))
        flash(_("SLA policy deleted. Tickets dispatched from now on use the next policy up the tree."), "success")
        return redirect(url_for("policies.index"))
    return render_template("admin/policy_delete.html", form=form, policy=policy)


def _policy(policy_id: int) -> SlaPolicy:
    return policies.get_policy(policy_id)  # the id converter has bounded it (hotline/bounds.py)


def _save(form: PolicyForm, policy: SlaPolicy | None) -> bool:
    if not form.validate_on_submit():  # only the CSRF token can fail
        flash(_("The form has expired; please submit it again."), "danger")
        return False
    values: dict = {
        "category": form.category.data or None,
        "urgency": form.urgency.data or "",
        "accept_unit": form.accept_unit.data or "",
        "resolve_unit": form.resolve_unit.data or "",
    }
    wrong = False
    for name in NUMBER_FIELDS:
        raw = (form[name].data or "").strip()
        number = whole_number(raw)
        if number is None:
            form[name].errors = [_("Enter a whole number.")]
            wrong = True
        else:
            values[name] = number
    # First contact (issue 17): optional; empty keeps the urgency's default.
    contact = (form.contact_amount.data or "").strip()
    values["contact_amount"] = whole_number(contact) if contact else None
    values["contact_unit"] = form.contact_unit.data or None
    if contact and values["contact_amount"] is None:
        form.contact_amount.errors = [_("Enter a whole number.")]
        wrong = True
    if wrong:
        return False
    try:
        if policy is None:
            policies.create_policy(current_user, values)
        else:
            policies.update_policy(current_user, policy, values)
    except ServiceError as error:
        db.session.rollback()
        show_service_error(form, error)
        return False
    return True


def _limits() -> dict:
    """The largest amounts the service accepts, for the form's hints."""
    return {
        "accept": policies.ACCEPT_LIMITS,
        "resolve": policies.RESOLVE_LIMITS,
        "return_window": policies.RETURN_WINDOW_LIMIT,
        "extension": policies.EXTENSION_LIMIT,
    }
