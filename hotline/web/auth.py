"""Logging in and out, changing one's own password, and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from hotline.extensions import db
from hotline.machine_paths import is_machine_path
from hotline.services.accounts import login_sessions, login_throttle, passwords, users
from hotline.services.accounts.users import authenticate
from hotline.services.errors import InvalidInput
from hotline.web.forms import LocaleForm, LoginForm, LogoutForm, PasswordForm
from hotline.web.guards import roles_required, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("home.index"))
        form.next.data = request.args.get("next", "")
        return render_template("auth/login.html", form=form)
    error = None
    status = 200
    if form.validate_on_submit():
        username, address = form.username.data or "", request.remote_addr or ""
        # Refused before the password is even looked at: once blocked, guessing gains nothing.
        block = login_throttle.blocked(username, address)
        if block is not None:
            error = ngettext(
                "Too many failed logins. Try again in %(num)d minute.",
                "Too many failed logins. Try again in %(num)d minutes.",
                block.minutes,
            )
            status = 429
        else:
            user = authenticate(username, form.password.data or "")
            if user is not None:
                login_throttle.succeeded(username, address)
                # A fresh session at login: nothing carried over from before (fixation) but the language.
                locale = session.get("locale")
                session.clear()
                if locale:
                    session["locale"] = locale
                session[login_sessions.KEY] = login_sessions.start(user)
                login_user(user)
                return redirect(safe_next(form.next.data) or url_for("home.index"))
            login_throttle.failed(username, address)
            error = _("Wrong username or password.")
    else:
        error = _("The form has expired; please try again.")
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    # Any POST logs out: the CSRF check (on in the real app) keeps other sites from doing it.
    LogoutForm().validate_on_submit()
    # Ended on the server too: a copy of this cookie no longer signs anyone in.
    login_sessions.end(session.pop(login_sessions.KEY, None))
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def _load_user_first() -> None:
    """Check the session before the view runs: the check may write its last-seen time and
    commit, which must not commit anything a view has begun."""
    # Every request runs this: each proxy resolved once. The machines' paths sign nobody in by
    # the cookie (hotline.machine_paths): their session is not read, and their answers do not
    # vary on it.
    current = request._get_current_object()
    if current.endpoint == "static" or is_machine_path(current.path):
        return
    if session._get_current_object().get(login_sessions.KEY):
        current_user._get_current_object()


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required()
def change_password():
    form = PasswordForm()
    error = None
    address = request.remote_addr or ""
    if request.method == "POST":
        # The current password is guessed here as at the login form: the same throttle.
        block = login_throttle.blocked(current_user.username, address)
        if not form.validate_on_submit():
            error = _("The form has expired; please try again.")
        elif block is not None:
            error = ngettext(
                "Too many failed logins. Try again in %(num)d minute.",
                "Too many failed logins. Try again in %(num)d minutes.",
                block.minutes,
            )
        else:
            try:
                users.change_own_password(current_user, form.current.data, form.password.data, form.repeated.data)
            except InvalidInput as refused:
                error = refused.message
                if refused.field == "current":
                    login_throttle.failed(current_user.username, address)
            else:
                # The change ended every session of the user's, this one too: this desk goes on.
                session[login_sessions.KEY] = login_sessions.start(current_user)
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("home.index"))
    for typed in (form.current, form.password, form.repeated):
        typed.data = ""  # never sent back in the page
    status = 400 if error else 200
    return render_template("auth/password.html", form=form, error=error, min_length=passwords.MIN_LENGTH), status


@bp.post("/locale")
def set_locale():
    """Remember the chosen language in the session and, when signed in, on the user."""
    form = LocaleForm()
    choice = form.locale.data
    if form.validate_on_submit() and choice in current_app.config["HOTLINE_LANGUAGES"]:
        session["locale"] = choice
        if current_user.is_authenticated:
            current_user.locale = choice
            db.session.commit()
    return redirect(safe_next(form.next.data) or url_for("home.index"))
