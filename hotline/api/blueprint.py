"""The blueprint alone, so that the views import it without importing the package that imports them."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
