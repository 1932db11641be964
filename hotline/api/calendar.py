"""The holiday calendar the SLA clocks run on: read a year, correct a day, load a year's list.

Described once: `CalendarDaySchema` and `CalendarYearSchema` write the answers and are the
document's `CalendarDay` and `CalendarYear`; `CalendarDayInput` reads a correction. A year's
list (holiday-cn's JSON, an object or a bare list) is the service's to check: `HolidayFile`
in `openapi_schemas.py` describes it."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from marshmallow import ValidationError, fields

from hotline.api.auth import api_roles
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import MAX_BODY_BYTES
from hotline.api.responses import json_response
from hotline.api.schemas import Body, Output, Text, load_given, nullable, optional
from hotline.extensions import db
from hotline.models import CalendarDay, Role
from hotline.services.clocks import calendar
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR

# Years the working-time arithmetic can meet; anything else is a typo.
_YEAR = re.compile(r"^\d{4}$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


class CalendarDaySchema(Output):
    date = fields.Date(required=True, attribute="day")
    off = fields.Boolean(required=True)
    name = fields.String(required=True)
    source = nullable(fields.String(required=True))


class CalendarYearSchema(Output):
    year = fields.Integer(required=True, metadata={"minimum": FIRST_YEAR, "maximum": LAST_YEAR})
    known = fields.Boolean(required=True)
    days = fields.List(fields.Nested(CalendarDaySchema), required=True)


class Off(fields.Boolean):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(_("“off” must be true, false or null."))
        return value


class CalendarDayInput(Body):
    # Required, null included: null removes the exception.
    off = Off(
        required=True,
        allow_none=True,
        metadata={"description": "true: a day off; false: worked; null: no exception."},
        error_messages={"required": lazy_gettext("“off” is required: true, false, or null to remove the exception.")},
    )
    name = optional(Text())


CALENDAR_DAY = CalendarDaySchema()
CALENDAR_YEAR = CalendarYearSchema()
CALENDAR_DAY_INPUT = CalendarDayInput()


@bp.get("/calendar/<year>")
@api_roles()
def calendar_year(year: str) -> Response:
    number = _year(year)
    return json_response(
        CALENDAR_YEAR.dump(
            {"year": number, "known": not calendar.missing_years([number]), "days": calendar.days_of_year(number)}
        )
    )


@bp.put("/calendar/days/<day>")
@api_roles(Role.ADMIN)
def set_calendar_day(day: str) -> Response:
    when = _date(day)
    body = load_given(CALENDAR_DAY_INPUT)
    calendar.set_day(when, body["off"], body.get("name") or "")
    row = db.session.get(CalendarDay, when)
    if row is not None:
        return json_response(CALENDAR_DAY.dump(row))
    # No exception left: the day follows Monday–Friday.
    return json_response(CALENDAR_DAY.dump({"day": when, "off": when.weekday() >= 5, "name": "", "source": None}))


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
