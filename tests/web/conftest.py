"""Web test fixtures: the city's users read English, so assertions can quote the source strings.

The language tests switch to Chinese explicitly.
"""

from __future__ import annotations

import re

import flask_babel
import pytest
from flask import g, request_started
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Ticket
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_request_caches(app):
    """Each request finds its own user and language, as in production.

    The root conftest keeps one app context open for the whole test, and a request
    reuses it, so `g` (where Flask-Login caches the user and Flask-Babel the locale)
    would carry over from the test code and from another client's request.
    """

    def reset(sender, **extra):
        g.pop("_login_user", None)
        flask_babel.refresh()

    request_started.connect(reset, app)
    yield
    request_started.disconnect(reset, app)


@pytest.fixture
def city():
    city = factories.make_city()
    for user in (city.operator, city.dispatcher, city.roads_staff, city.water_staff, city.supervisor, city.admin):
        user.locale = "en"
    db.session.commit()
    return city


def text_of(response) -> str:
    """The response body with HTML-escaped quotes turned back, for plain `in` checks."""
    return response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def version_on_page(html: str, action: str) -> int:
    """The hidden version in the form that posts to .../<action>: what a user's browser would send."""
    forms = [form for form in re.findall(r"<form\b.*?</form>", html, re.S) if f'/{action}"' in form]
    assert forms, f"no {action} form on the page"  # in the form's action or a button's formaction
    return int(re.search(r'name="version" value="(\d+)"', forms[0]).group(1))


def reload(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))
