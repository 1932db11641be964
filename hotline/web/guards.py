"""Role checks for the pages, and the safe-redirect helper the forms share."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user

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
