"""Looking up the city's directory (departments, districts, categories) by the codes that
forms, the API and the CLI use, with one clear message when a code names nothing."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select

from hotline.extensions import db
from hotline.models import Category, Department, District
from hotline.services.errors import InvalidInput

Entry = TypeVar("Entry", Category, Department, District)


def by_code(model: type[Entry], code: Any, field: str, required: bool = False) -> Entry | None:
    """The entry with this code; None for no code unless `required`; InvalidInput on `field` otherwise."""
    if not _checked(code, field, required):
        return None
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise InvalidInput(_unknown(model, code), field=field)
    return found


def id_by_code(model: type[Entry], code: Any, field: str, required: bool = False) -> int | None:
    """As `by_code`, but only the id, without loading the entry (intake runs it at every call)."""
    if not _checked(code, field, required):
        return None
    found = db.session.connection().execute(_id_statement(model), {"code": code}).scalar()
    if found is None:
        raise InvalidInput(_unknown(model, code), field=field)
    return found


@lru_cache(maxsize=8)
def _id_statement(model: type[Entry]) -> Select:
    return select(model.id).where(model.code == bindparam("code"))


def _checked(code: Any, field: str, required: bool) -> bool:
    """Whether there is a code to look up; InvalidInput for a missing required one or a non-string."""
    if code is None or code == "":
        if required:
            raise InvalidInput(_("%(field)s is required.", field=field), field=field)
        return False
    if not isinstance(code, str):
        raise InvalidInput(_("%(field)s must be a code.", field=field), field=field)
    return True


def _unknown(model: type, code: str) -> str:
    if model is Category:
        return _("Unknown category “%(code)s”.", code=code)
    if model is District:
        return _("Unknown district “%(code)s”.", code=code)
    return _("Unknown department “%(code)s”.", code=code)
