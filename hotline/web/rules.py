"""The dispatch catalogue (派单目录) for administrators: the ordered routing rules, their forms,
and the tester that answers "which department would get this?" against the saved rules."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hotline.extensions import db
from hotline.models import Role, RoutingRule
from hotline.services.dispatch import routing
from hotline.services.errors import InvalidInput, NotFound, ServiceError
from hotline.web.forms import DeleteForm, RuleForm, RuleTryForm, show_service_error
from hotline.web.guards import roles_required

bp = Blueprint("rules", __name__, url_prefix="/admin/routing-rules")

# Keywords are typed one per line or separated by commas (Chinese ones too) or semicolons;
# not by spaces, which a keyword may hold ("street light").
KEYWORD_SEPARATORS = re.compile(r"[\n\r,，、;；]+")
PRIORITY_MIN, PRIORITY_MAX = 0, 1_000_000


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", code=404, message=error.message), 404


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    rules = routing.list_rules()
    tester = RuleTryForm(formdata=request.args if "category" in request.args else None)
    decision = None
    if "category" in request.args:
        decision = _try(tester)
    return render_template(
        "admin/rules.html",
        rules=rules,
        by_id={rule.id: rule for rule in rules},
        tester=tester,
        decision=decision,
    )


def _try(form: RuleTryForm) -> routing.Decision | None:
    if not form.category.data:
        form.category.errors = [_("Choose a category.")]
        return None
    sample = {
        "category": form.category.data,
        "district": form.district.data or None,
        "type": form.type.data or "complaint",
        "urgency": form.urgency.data or "normal",
        "description": form.description.data or "",
    }
    try:
        return routing.try_rules(sample)
    except InvalidInput as error:
        show_service_error(form, error)
        return None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    form = RuleForm()
    if request.method == "POST":
        rule = _save(form, None)
        if rule is not None:
            flash(_("Routing rule “%(name)s” saved.", name=rule.name or rule.id), "success")
            return redirect(url_for("rules.index"))
        return render_template("admin/rule_form.html", form=form, rule=None), 400
    return render_template("admin/rule_form.html", form=form, rule=None)


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit(rule_id: int):
    rule = _rule(rule_id)
    if request.method == "POST":
        form = RuleForm()
        if _save(form, rule) is not None:
            flash(_("Routing rule “%(name)s” saved.", name=rule.name or rule.id), "success")
            return redirect(url_for("rules.index"))
        return render_template("admin/rule_form.html", form=form, rule=rule), 400
    values = routing.rule_json(rule)
    form = RuleForm(
        data={
            **values,
            "priority": str(values["priority"]),
            "category": values["category"] or "",
            "district": values["district"] or "",
            "type": values["type"] or "",
            "urgency": values["urgency"] or "",
            "keywords": "\n".join(values["keywords"]),
            "place_unit": values["place_unit"] or "",
        }
    )
    return render_template("admin/rule_form.html", form=form, rule=rule)


@bp.route("/<int:rule_id>/delete", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def delete(rule_id: int):
    rule = _rule(rule_id)
    form = DeleteForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form has expired; reload the page and try again."), "danger")
            return redirect(url_for("rules.delete", rule_id=rule.id))
        name = rule.name or str(rule.id)
        routing.delete_rule(rule)
        flash(_("Routing rule “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("rules.index"))
    return render_template("admin/rule_delete.html", form=form, rule=rule)


def _rule(rule_id: int) -> RoutingRule:
    return routing.get_rule(rule_id)  # the id converter has bounded it (hotline/bounds.py)


def _save(form: RuleForm, rule: RoutingRule | None) -> RoutingRule | None:
    """Save the rule from the form; None (and the errors on the form) when anything is wrong."""
    if not form.validate_on_submit():  # only the CSRF token can fail
        flash(_("The form has expired; please submit it again."), "danger")
        return None
    fields = _fields_of(form)
    if fields is None:
        return None
    try:
        return routing.save_rule(fields, rule)
    except ServiceError as error:
        db.session.rollback()
        show_service_error(form, error)
        return None


def _fields_of(form: RuleForm) -> dict | None:
    """The rule's JSON form (codes, not ids) as `routing.save_rule` takes it."""
    fields: dict = {
        "name": (form.name.data or "").strip(),
        "category": form.category.data or None,
        "district": form.district.data or None,
        "type": form.type.data or None,
        "urgency": form.urgency.data or None,
        "keywords": split_keywords(form.keywords.data),
        "department": form.department.data or None,
        "assisting": [code for code in form.assisting.data or [] if code],
        "active": bool(form.active.data),
        "place_unit": form.place_unit.data or None,
    }
    raw = (form.priority.data or "").strip()
    if raw:
        try:
            fields["priority"] = int(raw)
        except ValueError:
            fields["priority"] = raw  # the service says what it accepts
        else:
            if not PRIORITY_MIN <= fields["priority"] <= PRIORITY_MAX:
                form.priority.errors = [
                    _("Priority must be from %(low)d to %(high)d.", low=PRIORITY_MIN, high=PRIORITY_MAX)
                ]
                return None
    if not fields["department"]:
        form.department.errors = [_("Choose the lead department.")]
        return None
    return fields


def split_keywords(text: str | None) -> list[str]:
    return [word.strip() for word in KEYWORD_SEPARATORS.split(text or "") if word.strip()]
