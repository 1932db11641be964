"""The blueprint alone, so that the views import it without importing the package that imports them."""

from collections.abc import Callable

from flask import Blueprint, Response, request
from flask_wtf.csrf import CSRFError

bp = Blueprint("public", __name__)

# The page that answers an expired form (CSRF), by endpoint: each page module registers its own,
# since one blueprint has one handler per error.
expired_pages: dict[str, Callable[[CSRFError], Response]] = {}


@bp.errorhandler(CSRFError)
def _expired_form(error: CSRFError) -> Response:
    return expired_pages.get(request.endpoint or "", expired_pages["public.status"])(error)
