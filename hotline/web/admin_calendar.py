"""The holiday calendar for administrators: a year's holidays and make-up workdays (调休), the
warning when a year has no list, a day's correction and the upload of a holiday-cn file."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hotline.extensions import db
from hotline.models import Role
from hotline.services.clocks import calendar
from hotline.services.clocks.calendar import FIRST_YEAR, LAST_YEAR
from hotline.services.errors import InvalidInput
from hotline.web.formatting import listing
from hotline.web.forms import CALENDAR_KINDS, CalendarDayForm, CalendarUploadForm
from hotline.web.guards import roles_required

bp = Blueprint("admin_calendar", __name__, url_prefix="/admin/calendar")

# Years the working-time arithmetic can meet (as the API); anything else is a typo.
MAX_UPLOAD_BYTES = 512 * 1024  # a year's list is a few KiB
Q4_FROM_MONTH = 10  # from October on, next year's list is due (the State Council publishes it in autumn)


def local_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).date()


def years_to_check(today: date) -> list[int]:
    """This year, and next year too once we are in the last quarter."""
    return [today.year, today.year + 1] if today.month >= Q4_FROM_MONTH else [today.year]


def missing_holiday_years() -> list[int]:
    """The years that deadlines are computed in now (or soon) and that have no holiday list."""
    return calendar.missing_years(years_to_check(local_today()))


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    today = local_today()
    raw = request.args.get("year", "").strip()
    year, error = _year(raw, today)
    if error:
        flash(error, "danger")
    return _page(year, CalendarDayForm(), CalendarUploadForm(), status=400 if error else 200)


@bp.post("/day")
@roles_required(Role.ADMIN)
def set_day():
    form = CalendarDayForm()
    year, _error = _year(request.args.get("year", ""), local_today())
    if not form.validate_on_submit():  # only the CSRF token can fail
        flash(_("The form has expired; please submit it again."), "danger")
        return _page(year, form, CalendarUploadForm(), status=400)
    day = _date(form.day.data)
    kind = form.kind.data
    if day is None:
        form.day.errors = [
            _("Enter a date as YYYY-MM-DD, from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        ]
    if kind not in CALENDAR_KINDS:
        form.kind.errors = [_("Choose what the day is.")]
    if day is None or kind not in CALENDAR_KINDS:
        return _page(year, form, CalendarUploadForm(), status=400)
    off = {"off": True, "work": False, "remove": None}[kind]
    name = (form.name.data or "").strip()
    calendar.set_day(day, off, name)
    if off is None:
        flash(_("%(date)s follows the ordinary week again.", date=day.isoformat()), "success")
    elif off:
        flash(_("%(date)s is now a day off.", date=day.isoformat()), "success")
    else:
        flash(_("%(date)s is now a working day.", date=day.isoformat()), "success")
    return redirect(url_for("admin_calendar.index", year=day.year))


@bp.post("/upload")
@roles_required(Role.ADMIN)
def upload():
    year, _error = _year(request.args.get("year", ""), local_today())
    # Refuse a big body before the form parser reads it: 413.
    request.max_content_length = MAX_UPLOAD_BYTES
    form = CalendarUploadForm()
    if not form.validate_on_submit():  # only the CSRF token can fail
        flash(_("The form has expired; please submit it again."), "danger")
        return _page(year, CalendarDayForm(), form, status=400)
    storage = form.file.data
    raw = storage.read(MAX_UPLOAD_BYTES + 1) if storage else b""
    error = _check_file(raw)
    if error is None:
        try:
            counts = calendar.load_year_json(raw, source="upload")
        except InvalidInput as problem:
            db.session.rollback()
            error = problem.message
    if error is not None:
        form.file.errors = [error]
        return _page(year, CalendarDayForm(), form, status=400)
    loaded = listing(
        _("%(year)d (%(count)d days)", year=loaded_year, count=count) for loaded_year, count in counts.items()
    )
    flash(_("Holiday list loaded: %(years)s.", years=loaded), "success")
    return redirect(url_for("admin_calendar.index", year=min(counts)))


def _page(year: int, day_form: CalendarDayForm, upload_form: CalendarUploadForm, status: int = 200):
    days = calendar.days_of_year(year)
    return (
        render_template(
            "admin/calendar.html",
            year=year,
            days=days,
            year_missing=bool(calendar.missing_years([year])),
            missing=missing_holiday_years(),
            day_form=day_form,
            upload_form=upload_form,
            first_year=FIRST_YEAR,
            last_year=LAST_YEAR,
        ),
        status,
    )


def _year(raw: str, today: date) -> tuple[int, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return today.year, None
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and FIRST_YEAR <= int(raw) <= LAST_YEAR:
        return int(raw), None
    return today.year, _("The year must be a number from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)


def _date(raw: str | None) -> date | None:
    text = (raw or "").strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _check_file(raw: bytes) -> str | None:
    """What the service cannot be asked: no file, or too big. The JSON itself, text the
    database cannot store and each entry, the service checks."""
    if not raw:
        return _("Choose a file to load.")
    if len(raw) > MAX_UPLOAD_BYTES:
        return _("The file is larger than %(kib)d KiB.", kib=MAX_UPLOAD_BYTES // 1024)
    return None
