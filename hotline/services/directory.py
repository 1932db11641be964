"""Looking up the city's directory (departments, districts, categories) by the codes that
forms, the API and the CLI use, with one clear message when a code names nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, Department, District
from hotline.services.errors import InvalidInput

Entry = TypeVar("Entry", Category, Department, District)


def by_code(model: type[Entry], code: Any, field: str, required: bool = False) -> Entry | None:
    """The entry with this code; None for no code unless `required`; InvalidInput on `field` otherwise."""
    if code is None or code == "":
        if required:
            raise InvalidInput(_("%(field)s is required.", field=field), field=field)
        return None
    if not isinstance(code, str):
        raise InvalidInput(_("%(field)s must be a code.", field=field), field=field)
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise InvalidInput(_unknown(model, code), field=field)
    return found


def _unknown(model: type, code: str) -> str:
    if model is Category:
        return _("Unknown category “%(code)s”.", code=code)
    if model is District:
        return _("Unknown district “%(code)s”.", code=code)
    return _("Unknown department “%(code)s”.", code=code)
