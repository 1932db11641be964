"""Bearer-token auth: `Authorization: Bearer <token>` names the user, per request.

No session cookie is read or written: a script's token is its identity. The
user is kept on `g` for the one request; the decorator sets it every time, as
`g` can outlive a request (tests share one app context).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_babel import gettext as _

from hotline.api.errors import ApiError
from hotline.models import User
from hotline.services.accounts.users import user_for_token

CHALLENGE = 'Bearer realm="hotline"'


def api_roles(*roles: str) -> Callable:
    """401 without a valid token; 403 when the user's role is not among `roles`.

    With no roles given, any user with a valid token may pass.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            g.api_user = None
            user = _user_from_header()
            if roles and not user.has_role(*roles):
                raise ApiError(403, "forbidden", _("Your role may not do this."))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_user() -> User:
    """The user the current API request authenticated as (inside an `api_roles` view)."""
    return g.api_user


def _user_from_header() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.strip().partition(" ")
    if not header:
        raise ApiError(
            401,
            "unauthorized",
            _("Send your API token as “Authorization: Bearer <token>”."),
            headers={"WWW-Authenticate": CHALLENGE},
        )
    token = token.strip()
    user = user_for_token(token) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise ApiError(
            401,
            "unauthorized",
            _("The API token is not valid."),
            headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'},
        )
    return user
