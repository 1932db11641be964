"""The blueprint alone, so that the views import it without importing the package that imports them."""

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
