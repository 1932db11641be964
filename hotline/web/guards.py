"""Role checks for the pages, and the helpers the forms share: the safe redirect, the expired form."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from hotline.extensions import login_manager


def roles_required(*roles: str) -> Callable:
    """Anonymous visitors go to the login page (and come back); a wrong role gets 403.

    With no roles given, any signed-in user may pass.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: no open redirects.

    Rejects absolute URLs, scheme-relative `//host` and backslash tricks that
    some browsers treat as `//`.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 32 for char in target):  # browsers drop tabs/newlines: "/\t/x" would become "//x"
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def expired(form: FlaskForm, back: str) -> Response | None:
    """For a form whose fields cannot fail (a button, its CSRF token and hidden fields): None
    when it validates, else the way `back` with why. Only the token can fail: the page sat open
    past its lifetime, or the session ended meanwhile."""
    if form.validate_on_submit():
        return None
    flash(_("The form has expired; reload the page and try again."), "danger")
    return redirect(back)
