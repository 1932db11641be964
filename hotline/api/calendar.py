"""The holiday calendar the SLA clocks run on: read a year, correct a day, load a year's list."""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Response, request
from flask_babel import gettext as _

from hotline.api.auth import api_roles
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import MAX_BODY_BYTES, json_body, text
from hotline.api.responses import json_response
from hotline.api.serializers import calendar_day_json
from hotline.extensions import db
from hotline.models import CalendarDay, Role
from hotline.services.clocks import calendar
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR

# Years the working-time arithmetic can meet; anything else is a typo.
_YEAR = re.compile(r"^\d{4}$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


@bp.get("/calendar/<year>")
@api_roles()
def calendar_year(year: str) -> Response:
    number = _year(year)
    return json_response(
        {
            "year": number,
            "known": not calendar.missing_years([number]),
            "days": [calendar_day_json(day) for day in calendar.days_of_year(number)],
        }
    )


@bp.put("/calendar/days/<day>")
@api_roles(Role.ADMIN)
def set_calendar_day(day: str) -> Response:
    when = _date(day)
    body = json_body(("off", "name"))
    if "off" not in body:
        raise ApiError(
            400, "invalid_input", _("“off” is required: true, false, or null to remove the exception."), field="off"
        )
    off = body["off"]
    if off is not None and not isinstance(off, bool):
        raise ApiError(400, "invalid_input", _("“off” must be true, false or null."), field="off")
    calendar.set_day(when, off, text(body, "name", default="") or "")
    row = db.session.get(CalendarDay, when)
    if row is not None:
        return json_response(calendar_day_json(row))
    # No exception left: the day follows Monday–Friday.
    return json_response({"date": when.isoformat(), "off": when.weekday() >= 5, "name": "", "source": None})


@bp.post("/calendar/years")
@api_roles(Role.ADMIN)
def load_calendar_years() -> Response:
    raw = _holiday_file()
    counts = calendar.load_year_json(raw, source="api")
    return json_response({str(year): count for year, count in counts.items()})


def _holiday_file() -> bytes:
    """The body as holiday-cn publishes it (an object with "days", or the bare list), checked only
    for what the API checks everywhere; the service validates the entries."""
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", _("Send the request body as JSON (Content-Type: application/json).")
        )
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", _("The request body is not valid JSON.")) from None
    return raw  # the service refuses what cannot be stored, and checks each entry


def _year(raw: str) -> int:
    if not _YEAR.match(raw) or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise ApiError(
            400,
            "invalid_input",
            _("The year must be a number from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
            field="year",
        )
    return int(raw)


def _date(raw: str) -> date:
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(raw)
        return day
    except ValueError:
        raise ApiError(
            400,
            "invalid_input",
            _(
                "The date must be a real date as YYYY-MM-DD, from %(first)d to %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            field="date",
        ) from None
