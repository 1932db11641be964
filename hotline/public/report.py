"""The citizen's own report on the web (网上留言, issue 18 item 6): `/report`, phone-sized, no account.

Three steps on one page: the phone (a code is texted), the code (the phone is proved: kept in the
signed session for VERIFIED_MINUTES), the report (topic in plain words, description, a pin or an
address, consent to the board). The ticket opens on the `web` channel through intake and its
number is texted, as for a call; the citizen follows it on /status. `/board` (公开留言) shows the
reports whose citizens agreed, with the unit's answer, and nothing that names or reaches them.
The rules are services/citizens/web_reports.py's; these views only read forms and show answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField

from hotline.models.types import utcnow
from hotline.public.blueprint import bp, expired_pages
from hotline.services.citizens import phones, web_report_photos, web_reports
from hotline.services.city import geo, geo_maps
from hotline.services.errors import InvalidInput, InvalidInputs, ServiceError
from hotline.services.ticketing import attachments
from hotline.web import attachment_forms, paging

PENDING = "web_report_phone"  # {"phone": the phone a code was texted to, "browser": the code's secret}
PROVED = "web_report_proved"  # {"phone": E.164, "at": ISO time}
DONE = "web_report_done"  # the number of the report just sent, shown once


class PhoneForm(FlaskForm):
    phone = StringField(_l("Your mobile number"))
    submit = SubmitField(_l("Text me a code"))


class CodeForm(FlaskForm):
    code = StringField(_l("The code we texted you"))
    submit = SubmitField(_l("Confirm"))


class ReportForm(FlaskForm):
    topic = SelectField(_l("What is it about?"), choices=[], validate_choice=False)
    description = TextAreaField(_l("What is wrong?"))
    address = StringField(_l("Where? Type an address or drop a pin on the map"))
    lat = HiddenField()
    long = HiddenField()
    public = BooleanField(_l("Show my report and the answer on the public board (without my name or number)"))
    # issue 18: photos, checked as the ticket page's upload; shown publicly only if the citizen says so
    photos = MultipleFileField(_l("Photos (optional)"))
    photos_public = BooleanField(_l("My photos may be shown publicly too"))
    submit = SubmitField(_l("Send my report"))


def _ip() -> str:
    return request.remote_addr or "unknown"


def proved_phone() -> str | None:
    """The phone this browser proved, while the proof lasts."""
    proof = session.get(PROVED)
    if not isinstance(proof, dict):
        return None
    try:
        at = datetime.fromisoformat(proof["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if utcnow() - at > timedelta(minutes=web_reports.VERIFIED_MINUTES):
        return None
    return proof.get("phone")


def _pending() -> tuple[str, str] | None:
    """The phone a code was texted to from this browser, and the code's secret for it."""
    pending = session.get(PENDING)
    if isinstance(pending, dict) and isinstance(pending.get("phone"), str) and isinstance(pending.get("browser"), str):
        return pending["phone"], pending["browser"]
    return None


@bp.get("/report")
def report() -> Response:
    number, phone = session.pop(DONE, None), proved_phone()
    if isinstance(number, str) and phone:  # the report just sent: its number, once
        return _no_store(
            make_response(render_template("public/report.html", step="done", number=number, digits=phone[-4:]))
        )
    return _page()


@bp.post("/report/code")
def report_code() -> Response:
    form = PhoneForm()
    form.validate_on_submit()  # only the CSRF token is checked there, and it was checked already
    try:
        phone, browser = web_reports.send_code(form.phone.data or "", _ip())
    except web_reports.Refused as refusal:
        return _refused(refusal, phone_form=form)
    except InvalidInput as error:
        form.phone.errors = [error.message]
        return _page(phone_form=form, code=400)
    session.pop(PROVED, None)
    session[PENDING] = {"phone": phone, "browser": browser}
    return redirect(url_for("public.report"), 303)


@bp.post("/report/verify")
def report_verify() -> Response:
    form = CodeForm()
    form.validate_on_submit()
    pending = _pending()
    if pending is None:  # a stale step (another tab restarted): back to the first step, told why
        flash(_("Enter your mobile number first: we text you a code."), "warning")
        return redirect(url_for("public.report"), 303)
    try:
        phone, browser = pending
        web_reports.check_code(phone, browser, form.code.data or "")
    except web_reports.Refused as refusal:
        form.code.errors = [refusal.message]
        form.code.data = ""
        return _page(code_form=form, code=refusal.status_code)
    session.pop(PENDING, None)
    session[PROVED] = {"phone": phone, "at": utcnow().isoformat()}
    return redirect(url_for("public.report"), 303)


@bp.post("/report/restart")
def report_restart() -> Response:
    """Another phone: forget the one being proved or proved."""
    session.pop(PENDING, None)
    session.pop(PROVED, None)
    return redirect(url_for("public.report"), 303)


@bp.post("/report")
def report_submit() -> Response:
    if message := attachment_forms.too_large_body(web_report_photos.max_photos()):
        return _page(error=message, code=413)  # refused unread: the photos are larger than allowed
    form = _report_form()
    form.validate_on_submit()
    phone = proved_phone()
    if phone is None:  # the proof ran out: back to the first step, told why
        session.pop(PROVED, None)
        flash(_("Please prove your phone again: the code is valid for a short time only."), "warning")
        return redirect(url_for("public.report"), 303)
    entry = web_reports.Report(
        phone=phone,
        topic=form.topic.data or "",
        description=form.description.data or "",
        address=form.address.data or "",
        lat=form.lat.data or None,
        long=form.long.data or None,
        public=bool(form.public.data),
        photos=attachment_forms.sent_files("photos"),
        photos_public=bool(form.photos_public.data),
    )
    try:
        ticket = web_reports.submit(entry, _ip())
    except web_reports.Refused as refusal:
        return _refused(refusal, report_form=form)
    except ServiceError as error:  # wrong fields (InvalidInput, several at once), a photo too large
        for problem in error.errors if isinstance(error, InvalidInputs) else [error]:
            field = {"place": form.address}.get(problem.field or "", getattr(form, problem.field or "", None))
            if field is not None and hasattr(field, "errors"):
                field.errors = [*list(field.errors or []), problem.message]
        return _page(report_form=form, code=error.status_code)
    # Post/redirect/get: reloading the answer must not send the report twice.
    session[DONE] = ticket.number
    return redirect(url_for("public.report"), 303)


@bp.get("/report/places")
def report_places() -> Response:
    """The gazetteer's places for the address box: names, points and districts, all public."""
    places = geo.search_places(request.args.get("q", "")[:100])
    return jsonify(
        {
            "places": [
                {"name": p.name, "lat": p.lat, "long": p.long, "district_name": p.district.name if p.district else None}
                for p in places
            ]
        }
    )


@bp.get("/board")
def board() -> Response:
    number = paging.page_number()
    entries, more = web_reports.board(number)
    return make_response(render_template("public/board.html", entries=entries, page=number, more=more))


@bp.get("/board/photos/<int:attachment_id>")
def board_photo(attachment_id: int) -> Response:
    return _board_photo(attachment_id, thumbnail=False)


@bp.get("/board/photos/<int:attachment_id>/thumbnail")
def board_photo_thumbnail(attachment_id: int) -> Response:
    return _board_photo(attachment_id, thumbnail=True)


def _board_photo(attachment_id: int, *, thumbnail: bool) -> Response:
    """A photo the board shows (marked public, its report on the board); 404 for any other."""
    photo = web_report_photos.board_photo(attachment_id)
    if photo is None:
        abort(404)
    response = attachments.file_response(photo, thumbnail=thumbnail)
    response.headers["Cache-Control"] = "public, max-age=600"  # shown to anyone, as the board is
    return response


def _expired(error: Exception) -> Response:
    return _page(error=_("The form has expired. Please try again."), code=400)


expired_pages["public.report"] = expired_pages["public.report_submit"] = _expired
expired_pages["public.report_code"] = expired_pages["public.report_verify"] = _expired
expired_pages["public.report_restart"] = _expired


def _report_form(formdata: object = True) -> ReportForm:
    form = ReportForm() if formdata is True else ReportForm(formdata=None)
    form.topic.choices = [("", _("Choose…"))] + [(t.key, str(t.label)) for t in web_reports.available_topics()]
    return form


def _refused(refusal: web_reports.Refused, **forms: FlaskForm) -> Response:
    response = _page(error=refusal.message, code=refusal.status_code, **forms)
    if refusal.retry_after:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _page(
    *,
    phone_form: PhoneForm | None = None,
    code_form: CodeForm | None = None,
    report_form: ReportForm | None = None,
    error: str | None = None,
    code: int = 200,
) -> Response:
    proved = proved_phone()
    pending = _pending()
    step = "report" if proved else "code" if pending else "phone"
    if report_form is None and step == "report":
        report_form = _report_form(formdata=None)
    response = make_response(
        render_template(
            "public/report.html",
            step=step,
            phone_form=phone_form or PhoneForm(formdata=None),
            code_form=code_form or CodeForm(formdata=None),
            form=report_form,
            masked=phones.mask_phone(proved or pending[0]) if (proved or pending) else None,
            map_data=geo_maps.background() if step == "report" else None,
            minutes=web_reports.CODE_MINUTES,
            error=error,
            timezone=current_app.config["HOTLINE_TIMEZONE"],
        ),
        code,
    )
    return _no_store(response)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
