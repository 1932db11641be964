"""The public status page: a ticket number and the last four digits of the caller's phone.

What a citizen sees: the status in plain words, the department, the dates and the
department's reply (`resolution`). Never the description, the address, internal
notes, the caller's name or number, nor anything of another citizen's ticket: a ticket
merged into one of the same caller's shows that one's progress; merged into another
citizen's ticket, or into a confidential one, it shows a neutral message with its own
number (`access.answering_for_citizen`). A confidential ticket (保密件) shows nothing:
its caller is answered by phone only, as by SMS.

A wrong number and wrong digits give the very same answer, so the page cannot
tell a guesser which half was right; every look-up counts against a limit per
IP address and per ticket number (services/platform/ratelimit.py), so the four digits
cannot be guessed in bulk.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from wtforms import StringField, SubmitField

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.public.blueprint import bp, expired_pages
from hotline.services.accounts import access
from hotline.services.citizens import phones
from hotline.services.platform import ratelimit

# Look-ups allowed per IP address and per ticket number in each window; the app's
# config may override them (HOTLINE_STATUS_LOOKUPS, HOTLINE_STATUS_WINDOW_SECONDS).
LOOKUPS = 10
WINDOW_SECONDS = 600

# What a ticket number can look like (20261125-000042); anything else is no ticket, unasked.
_NUMBER = re.compile(r"^[0-9A-Z-]{1,32}$")
_DIGITS = re.compile(r"^[0-9]{4}$")
_SPACES = re.compile(r"\s+")

# The status in the citizen's words: a short label and what it means for them.
CITIZEN_STATUS = {
    Status.NEW: (_l("Received"), _l("We have your request and are passing it to the department responsible.")),
    Status.PENDING_DISPATCH: (
        _l("Received"),
        _l("We have your request and are passing it to the department responsible."),
    ),
    Status.DISPATCHED: (
        _l("With the department"),
        _l("The department responsible has your request and will take it on shortly."),
    ),
    Status.IN_PROGRESS: (_l("Being handled"), _l("The department is working on your request.")),
    Status.WAITING: (
        _l("Waiting for your information"),
        _l("The department needs more information from you: expect their call, or call the hotline."),
    ),
    Status.RESOLVED: (
        _l("Answered"),
        _l("The department has replied. The hotline may call you to ask whether you are satisfied."),
    ),
    Status.CLOSED: (_l("Closed"), _l("Your request is finished.")),
}
# A direct answer (直接办结): the hotline answered on the call, no department was needed.
ANSWERED_BY_HOTLINE = (
    _l("Answered by the hotline"),
    _l("The hotline answered your request when you called; the answer is below."),
)


class StatusForm(FlaskForm):
    number = StringField(_l("Ticket number"))
    digits = StringField(_l("Last four digits of your phone number"))
    submit = SubmitField(_l("Show the status"))


@dataclass(frozen=True)
class CitizenView:
    """A ticket as its citizen may see it: nothing internal, nobody else's data."""

    number: str
    status: str  # the status that counts: the parent's, for a merged ticket
    label: str
    explanation: str
    category: str
    department: str | None
    created_at: datetime
    dispatched_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    expected_by: datetime | None  # the resolve deadline while a department holds it
    reply: str | None
    merged: bool
    neutral: bool = False  # merged into a ticket the citizen may not follow: nothing of it shown
    answered_by_hotline: bool = False  # a direct answer at intake: no department was ever needed


# A ticket merged into one the citizen may not follow (another citizen's, a confidential one).
MERGED_ELSEWHERE = (
    _l("Handled with a similar request"),
    _l(
        "Your request was joined with a similar one about the same problem and is handled with it. "
        "For its progress and answer, please call the hotline."
    ),
)


def citizen_view(ticket: Ticket) -> CitizenView:
    """What the status page may tell the citizen who filed `ticket`."""
    source = access.answering_for_citizen(ticket)
    if source is None:
        # Nothing of the other ticket: no department, no dates, no reply; their own number only.
        label, explanation = MERGED_ELSEWHERE
        return CitizenView(
            number=ticket.number,
            status=ticket.status,
            label=str(label),
            explanation=str(explanation),
            category=ticket.category.path_name,
            department=None,
            created_at=ticket.created_at,
            dispatched_at=None,
            resolved_at=None,
            closed_at=None,
            expected_by=None,
            reply=None,
            merged=False,
            neutral=True,
        )
    direct = source.is_direct_answer
    label, explanation = (
        ANSWERED_BY_HOTLINE if direct else CITIZEN_STATUS.get(source.status, CITIZEN_STATUS[Status.NEW])
    )
    return CitizenView(
        number=ticket.number,
        status=source.status,
        label=str(label),
        explanation=str(explanation),
        category=ticket.category.path_name,
        department=source.department.name if source.department else None,
        created_at=ticket.created_at,
        dispatched_at=source.dispatched_at,
        resolved_at=source.resolved_at,
        closed_at=source.closed_at,
        expected_by=source.resolve_due_at if source.status in Status.WITH_DEPARTMENT else None,
        # The page is public (a number and four digits): phone numbers in the reply are masked.
        reply=phones.mask_phones_in_text(source.resolution or "") or None
        if source.status in (Status.RESOLVED, Status.CLOSED)
        else None,
        merged=ticket.status == Status.MERGED and source is not ticket,
        answered_by_hotline=direct,
    )


def find_for_citizen(number: str, digits: str) -> Ticket | None:
    """The ticket with this number whose caller's phone ends in these four digits; None otherwise,
    whichever of the two was wrong."""
    if not _NUMBER.match(number) or not _DIGITS.match(digits):
        return None
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        return None
    # Compared in constant time, and the tail of the stored E.164 number is the national tail.
    if not hmac.compare_digest((ticket.caller_phone or "")[-4:].encode(), digits.encode()):
        return None
    return ticket


def normalise_number(raw: str | None) -> str:
    """Full-width digits and dashes (a Chinese keyboard's) become ASCII; spaces go; letters go upper."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


def normalise_digits(raw: str | None) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw or ""))


@bp.get("/status")
def status() -> Response:
    return _page(StatusForm())


@bp.post("/status")
def lookup() -> Response:
    form = StatusForm()
    if not form.validate_on_submit():  # only the CSRF token can fail here; the fields are checked below
        return _page(form, error=_("The form has expired. Please try again."), code=400)
    number = normalise_number(form.number.data)
    digits = normalise_digits(form.digits.data)
    form.number.data, form.digits.data = number, digits
    if not number:
        form.number.errors = [_("Enter the ticket number from your SMS or from the operator.")]
    if not _DIGITS.match(digits):
        form.digits.errors = [_("Enter exactly the last four digits of the phone number you called from.")]
    if form.number.errors or form.digits.errors:
        return _page(form, code=400)

    by_ip, by_number = _limits()
    for limit, key in ((by_ip, request.remote_addr or "unknown"), (by_number, number)):
        verdict = ratelimit.hit(limit, key)
        if not verdict.allowed:
            return _too_many(form, verdict.retry_after)

    ticket = find_for_citizen(number, digits)
    form.digits.data = ""  # not echoed back into the page
    if ticket is None:
        return _page(
            form,
            error=_(
                "No request matches this ticket number and these digits. Check both and try again, or call the hotline."
            ),
        )
    if ticket.confidential:
        # 保密件 are followed up by phone only, as by SMS: the page says so and shows nothing.
        return _page(
            form,
            notice=_("This request is confidential: its progress is given by phone only. Please call the hotline."),
        )
    return _page(form, view=citizen_view(ticket))


def _expired_form(error: CSRFError) -> Response:
    return _page(StatusForm(formdata=None), error=_("The form has expired. Please try again."), code=400)


expired_pages["public.status"] = expired_pages["public.lookup"] = _expired_form


def _limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    settings = ("HOTLINE_STATUS_LOOKUPS", LOOKUPS, "HOTLINE_STATUS_WINDOW_SECONDS", WINDOW_SECONDS)
    return ratelimit.configured("status-ip", *settings), ratelimit.configured("status-number", *settings)


def _too_many(form: StatusForm, retry_after: int) -> Response:
    minutes = max(1, -(-retry_after // 60))
    message = ngettext(
        "Too many look-ups. Please wait %(num)d minute and try again.",
        "Too many look-ups. Please wait %(num)d minutes and try again.",
        minutes,
    )
    form.digits.data = ""
    response = _page(form, error=message, code=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _page(
    form: StatusForm,
    *,
    view: CitizenView | None = None,
    error: str | None = None,
    notice: str | None = None,
    code: int = 200,
) -> Response:
    response = make_response(
        render_template(
            "public/status.html",
            form=form,
            view=view,
            error=error,
            notice=notice,
            timezone=current_app.config["HOTLINE_TIMEZONE"],
        ),
        code,
    )
    # A citizen's status must not stay in a shared computer's cache or in a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
