"""The web pages, one blueprint per desk; views parse, call one service and render."""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from flask import Flask, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from hotline.extensions import db, login_manager
from hotline.machine_paths import is_machine_path
from hotline.services.accounts import access
from hotline.web.admin_calendar import missing_holiday_years

ROOT = Path(__file__).resolve().parent.parent.parent


def register_blueprints(app: Flask) -> None:
    from hotline.web import (
        admin_calendar,
        admin_users,
        attachments,  # attachments (issue 18 item 5)
        auth,
        console,
        dispatch,
        duty,  # duty rota (值班, issue 17 item 4)
        formatting,
        home,
        hotspots,
        intake,
        intake_map,  # geo (issue 18 item 2): the intake form's map
        knowledge,
        map_areas,  # geo (issue 18 item 4): hotspot areas drawn on the supervisors' map
        maps,  # geo (issue 18): maps for each desk
        outbox,
        policies,
        reports,
        rules,
        search,
        supervision,
        tickets,
        tree,
    )

    # The pages' own CSS and script live in the repository's static/ (next to templates/);
    # the app, made in the hotline package, would look in hotline/static.
    app.static_folder = str(ROOT / "static")
    for module in (auth, home, intake, tickets, dispatch, reports, supervision, rules, policies, admin_calendar):
        app.register_blueprint(module.bp)
    app.register_blueprint(outbox.bp)
    # Contact with the citizen and callback (issue 17).
    from hotline.web import contacts

    app.register_blueprint(contacts.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(hotspots.bp)
    app.register_blueprint(knowledge.bp)
    app.register_blueprint(tree.bp)  # units in a tree (issue 17)
    app.register_blueprint(search.bp)
    app.register_blueprint(admin_users.bp)
    app.register_blueprint(duty.bp)  # duty rota (值班, issue 17 item 4)
    app.register_blueprint(maps.bp)  # geo (issue 18)
    app.register_blueprint(intake_map.bp)  # geo (issue 18 item 2): clicking the intake map
    app.register_blueprint(map_areas.bp)  # geo (issue 18 item 4): hotspot areas
    app.register_blueprint(attachments.bp)  # attachments (issue 18 item 5)

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    formatting.register(app)
    app.context_processor(_navigation)
    app.before_request(_refuse_nul)
    # Every HTTP error, and any exception a view lets through (Flask answers it as a 500 after
    # logging it), gets the site's page, never Werkzeug's plain one.
    app.register_error_handler(HTTPException, _error_page)


def _refuse_nul():
    """A NUL character in the address (a ticket number, a search) can be neither stored nor looked
    up (PostgreSQL refuses it): answer 400 at once for the pages; typed form text loses it in the
    forms (`forms.HotlineForm`). The machine-facing paths check their own input."""
    current = request._get_current_object()  # every request runs this: the proxy once
    if is_machine_path(current.path):
        return None
    if "\x00" in current.path or any("\x00" in value for value in current.args.values()):
        abort(400)
    return None


def _navigation() -> dict:
    """What base.html needs for the menu (which desks the role may use) and the language switch."""
    return {
        "INTAKE_ROLES": access.INTAKE_ROLES,
        "DISPATCH_ROLES": access.DISPATCH_ROLES,
        "REPORT_ROLES": access.REPORT_ROLES,
        "SUPERVISE_ROLES": access.SUPERVISE_ROLES,
        # A callable: only the administrators' menu asks (one small query), not every fragment.
        "missing_holiday_years": missing_holiday_years,
        "current_locale": _current_language(),
    }


def _current_language() -> str:
    """The configured code (zh_CN, en) of the page's locale; Babel spells zh_CN as zh_Hans_CN."""
    locale = get_locale()
    for code in current_app.config["HOTLINE_LANGUAGES"]:
        if locale is not None and Locale.parse(code) == locale:
            return code
    return str(locale or "")


def _error_page(error: HTTPException):
    """A page in the site's look for people; the machine-facing paths keep the plain answer,
    and a blueprint's own handler (the API's JSON one) still wins for its own views."""
    if is_machine_path(request.path):
        return error.get_response()
    # Nothing half-saved; and after a database error the page's own queries (the menu's) need
    # a session that works again.
    db.session.rollback()
    return render_template("errors/error.html", code=error.code), error.code
