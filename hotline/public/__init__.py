"""The citizen's side of the web: pages anyone may open, without logging in.

`/status`: a citizen gives the ticket number and the last four digits of their
phone number and sees where their request stands (status.py).
"""

from flask import Blueprint

bp = Blueprint("public", __name__)

# Imported for their side effect: they attach routes and handlers to `bp`.
from hotline.public import status  # noqa: E402, F401
