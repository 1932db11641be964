"""Flask-WTF forms. They only carry values and the CSRF token: the services validate.

Select fields skip WTForms' own choice check so that a stale or forged value
reaches the service, which answers with its clear, field-specific message.
"""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)

from hotline import labels
from hotline.extensions import db
from hotline.models import CHANNELS, TICKET_TYPES, URGENCIES, Department, District
from hotline.models.sla import ACCEPT_UNITS, RESOLVE_UNITS
from hotline.services.city import category_picker
from hotline.services.errors import ServiceError
from hotline.services.ticketing import returns


def no_nul(value):
    """A NUL character cannot be stored or even compared (PostgreSQL refuses it): drop it."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class HotlineForm(FlaskForm):
    """Every form of the site: typed text loses any NUL character before a service sees it."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", ()), no_nul]
            return unbound_field.bind(form=form, filters=filters, **options)


class LoginForm(HotlineForm):
    username = StringField(_l("Username"))
    password = PasswordField(_l("Password"))
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class PasswordForm(HotlineForm):
    current = PasswordField(_l("Current password"))
    password = PasswordField(_l("New password"))
    repeated = PasswordField(_l("New password again"))
    submit = SubmitField(_l("Change password"))


class LocaleForm(HotlineForm):
    locale = HiddenField()
    next = HiddenField()


class LogoutForm(HotlineForm):
    submit = SubmitField(_l("Log out"))


class IntakeForm(HotlineForm):
    caller_phone = StringField(_l("Caller's phone"))
    caller_name = StringField(_l("Caller's name"))
    type = SelectField(_l("Type"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    address = StringField(_l("Address"))
    description = TextAreaField(_l("Description"))
    urgency = SelectField(_l("Urgency"), validate_choice=False, default="normal")
    channel = SelectField(_l("Channel"), validate_choice=False, default="phone")
    confidential = BooleanField(_l("Confidential (hide the caller from departments)"))
    direct_answer = TextAreaField(_l("Direct answer"))
    # issue 18: photos or documents the caller sent, kept with the ticket once it is opened
    files = MultipleFileField(_l("Photos or documents"))
    submit = SubmitField(_l("Log the call"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = [(code, labels.TYPE_LABELS[code]) for code in TICKET_TYPES]
        self.category.choices = [("", _l("— choose —")), *category_choices()]
        self.district.choices = [("", _l("— none —")), *district_choices()]
        self.urgency.choices = [(code, labels.URGENCY_LABELS[code]) for code in URGENCIES]
        self.channel.choices = [(code, labels.CHANNEL_LABELS[code]) for code in CHANNELS]


class VersionedForm(HotlineForm):
    """An action on a ticket: carries the version the user saw, for the conflict check.

    Several action forms share the ticket page, so their text fields get distinct ids
    (the names stay plain: "reason", "text").
    """

    version = HiddenField()
    next = HiddenField()


class AcceptForm(VersionedForm):
    submit = SubmitField(_l("Accept"))


class ResolveForm(VersionedForm):
    resolution = TextAreaField(_l("Reply to the citizen"))
    submit = SubmitField(_l("Resolve"))


class ReturnForm(VersionedForm):
    reason_code = SelectField(_l("Return reason"), validate_choice=False)
    reason = TextAreaField(_l("Reason for returning"), id="return-reason")
    submit = SubmitField(_l("Return to dispatch"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reason_code.choices = [(r.code, r.name) for r in returns.reasons()]


class NoteForm(VersionedForm):
    text = TextAreaField(_l("Note"), id="note-text")
    submit = SubmitField(_l("Add note"))


class WaitForm(VersionedForm):
    reason = TextAreaField(_l("What the citizen must provide"), id="wait-reason")
    submit = SubmitField(_l("Wait on the citizen"))


class ResumeForm(VersionedForm):
    submit = SubmitField(_l("Resume"))


class ExtensionForm(VersionedForm):
    days = StringField(_l("Working days"), id="extension-days")
    reason = TextAreaField(_l("Why more time is needed"), id="extension-reason")
    submit = SubmitField(_l("Request extension"))


class DecisionForm(VersionedForm):
    note = TextAreaField(_l("Note on the decision"), id="decision-note")


class UrgeForm(VersionedForm):
    text = TextAreaField(_l("Message to the department"), id="urge-text")
    submit = SubmitField(_l("Urge"))


class DispatchForm(VersionedForm):
    department = SelectField(_l("Department"), validate_choice=False)
    assisting = SelectMultipleField(_l("Assisting departments"), validate_choice=False)
    reason = TextAreaField(_l("Reason for dispatching it back"), id="dispatch-reason")
    submit = SubmitField(_l("Dispatch"))

    def __init__(self, *args, departments: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The desk builds one form per waiting ticket: it reads the departments once for all.
        departments = department_choices() if departments is None else departments
        self.department.choices = [("", _l("— choose —")), *departments]
        self.assisting.choices = departments


class MergeForm(VersionedForm):
    into = StringField(_l("Ticket number to merge into"), id="merge-into")
    submit = SubmitField(_l("Merge"))


class AssistDoneForm(VersionedForm):
    reply = TextAreaField(_l("What your department did"), id="assist-reply")
    submit = SubmitField(_l("Mark our part done"))


# --- Units in a tree (issue 17) ------------------------------------------------------------------


class SubdispatchForm(VersionedForm):
    department = SelectField(_l("Sub-unit"), validate_choice=False, id="subdispatch-department")
    due = StringField(_l("Deadline (empty: before your own by the usual margin)"), id="subdispatch-due")
    note = TextAreaField(_l("Note to the sub-unit"), id="subdispatch-note")
    submit = SubmitField(_l("Send down"))


class ReturnUpForm(VersionedForm):
    reason = TextAreaField(_l("Reason for returning it up"), id="return-up-reason")
    submit = SubmitField(_l("Return up"))


class ReviewForm(VersionedForm):
    reason = TextAreaField(_l("Reason (required to refuse)"), id="review-reason")


class AssignForm(VersionedForm):
    handler = SelectField(_l("Handler"), validate_choice=False, id="assign-handler")
    submit = SubmitField(_l("Assign"))


class DeleteForm(HotlineForm):
    """Only the CSRF token: deleting is a POST from the confirmation page."""

    submit = SubmitField(_l("Delete"))


class RuleForm(HotlineForm):
    """A routing rule of the dispatch catalogue (派单目录); every condition is optional."""

    priority = StringField(_l("Priority"), default="100")
    name = StringField(_l("Name"))
    category = SelectField(_l("Category (and the categories below it)"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    type = SelectField(_l("Type"), validate_choice=False)
    urgency = SelectField(_l("Urgency"), validate_choice=False)
    keywords = TextAreaField(_l("Keywords"))
    # geo (issue 18): the unit handling the gazetteer place at the ticket's point
    place_unit = SelectField(_l("Unit handling the place"), validate_choice=False)
    department = SelectField(_l("Lead department"), validate_choice=False)
    assisting = SelectMultipleField(_l("Assisting departments"), validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        departments = department_choices()
        self.category.choices = [("", _l("— any —")), *category_choices()]
        self.district.choices = [("", _l("— any —")), *district_choices()]
        self.type.choices = [("", _l("— any —")), *[(code, labels.TYPE_LABELS[code]) for code in TICKET_TYPES]]
        self.urgency.choices = [("", _l("— any —")), *[(code, labels.URGENCY_LABELS[code]) for code in URGENCIES]]
        self.department.choices = [("", _l("— choose —")), *departments]
        self.assisting.choices = departments
        self.place_unit.choices = [("", _l("— any —")), *departments]


class RuleTryForm(HotlineForm):
    """The sample for "which department would get this?": read from the query string."""

    class Meta:
        csrf = False  # a GET that changes nothing

    category = SelectField(_l("Category"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    type = SelectField(_l("Type"), validate_choice=False, default="complaint")
    urgency = SelectField(_l("Urgency"), validate_choice=False, default="normal")
    description = TextAreaField(_l("Description"), id="try-description")
    submit = SubmitField(_l("Try"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("— choose —")), *category_choices()]
        self.district.choices = [("", _l("— none —")), *district_choices()]
        self.type.choices = [(code, labels.TYPE_LABELS[code]) for code in TICKET_TYPES]
        self.urgency.choices = [(code, labels.URGENCY_LABELS[code]) for code in URGENCIES]


CALENDAR_KINDS = ("off", "work", "remove")


class CalendarDayForm(HotlineForm):
    day = StringField(_l("Date"), id="calendar-day")
    kind = SelectField(_l("The day is"), validate_choice=False, default="off")
    name = StringField(_l("Name (e.g. the holiday)"), id="calendar-name")
    submit = SubmitField(_l("Save the day"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            ("off", _l("a day off (holiday)")),
            ("work", _l("a working day (make-up workday)")),
            ("remove", _l("ordinary again (remove the exception)")),
        ]


class CalendarUploadForm(HotlineForm):
    file = FileField(_l("Holiday list (holiday-cn JSON)"))
    submit = SubmitField(_l("Load the file"))


class PolicyForm(HotlineForm):
    """An SLA policy: the limits for a category (or the whole hotline) and an urgency."""

    category = SelectField(_l("Category (and the categories below it)"), validate_choice=False)
    urgency = SelectField(_l("Urgency"), validate_choice=False, default="normal")
    accept_amount = StringField(_l("Accept within"))
    # "Unit" of time, not a handling unit (承办单位): hence the context.
    accept_unit = SelectField(lazy_pgettext("time", "Unit"), validate_choice=False, default="working_hours")
    resolve_amount = StringField(_l("Resolve within"))
    resolve_unit = SelectField(lazy_pgettext("time", "Unit"), validate_choice=False, default="working_days")
    return_window_days = StringField(_l("Return window (working days)"), default="2")
    max_extension_days = StringField(_l("Extensions at most (working days)"), default="10")
    # First contact with the citizen (issue 17): empty, the urgency's default.
    contact_amount = StringField(_l("Contact the citizen within"))
    contact_unit = SelectField(lazy_pgettext("time", "Unit"), validate_choice=False, default="working_hours")
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("— the whole hotline —")), *category_choices()]
        self.urgency.choices = [(code, labels.URGENCY_LABELS[code]) for code in URGENCIES]
        self.accept_unit.choices = [(unit, labels.SLA_UNIT_LABELS[unit]) for unit in ACCEPT_UNITS]
        self.contact_unit.choices = [(unit, labels.SLA_UNIT_LABELS[unit]) for unit in ACCEPT_UNITS]
        self.resolve_unit.choices = [(unit, labels.SLA_UNIT_LABELS[unit]) for unit in RESOLVE_UNITS]


# Non-breaking spaces: browsers keep them in <option> text, plain spaces collapse.
INDENT = "\u00a0\u00a0\u00a0\u00a0"


def category_choices() -> list[tuple[str, str]]:
    """The category tree, depth first, each name indented under its parent."""
    return [(choice.code, INDENT * choice.depth + choice.name) for choice in category_picker.choices()]


def district_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in db.session.scalars(select(District).order_by(District.name))]


def department_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))]


def show_service_error(form: FlaskForm, error: ServiceError) -> None:
    """A service's refusal beside the field it names, or as a flash message when it names none
    of the form's fields; each of several refusals at once (InvalidInputs) likewise."""
    for each in getattr(error, "errors", None) or [error]:
        if each.field and each.field in form._fields:
            field = form[each.field]
            field.errors = [*field.errors, each.message]
        else:
            flash(each.message, "danger")
