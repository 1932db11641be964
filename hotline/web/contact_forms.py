"""The ticket page's forms for contact with the citizen and callback (issue 17)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField

from hotline.web.forms import HotlineForm, VersionedForm

OUTCOME_CHOICES = [
    ("reached", _l("Reached")),
    ("no_answer", _l("No answer")),
    ("wrong_number", _l("Wrong number")),
    ("text", _l("Text sent")),
]
TEMPLATE_CHOICES = [
    ("", _l("No text (recorded only)")),
    ("contact_tried", _l("We tried to call you")),
    ("contact_visit", _l("We will visit the site")),
]
RATING_CHOICES = [
    ("satisfied", _l("Satisfied")),
    ("basically_satisfied", _l("Basically satisfied")),
    ("unsatisfied", _l("Unsatisfied")),
]


class ContactForm(VersionedForm):
    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES, id="contact-outcome", validate_choice=False)
    template = SelectField(
        _l("Text to the citizen"), choices=TEMPLATE_CHOICES, id="contact-template", validate_choice=False
    )
    note = TextAreaField(_l("Note"), id="contact-note")
    submit = SubmitField(_l("Record the contact"))


class CallCitizenForm(VersionedForm):
    submit = SubmitField(_l("Call the citizen through the hotline"))


class RevealPhoneForm(VersionedForm):
    reason = StringField(_l("Why you need the number"), id="reveal-reason")
    submit = SubmitField(_l("Show the number"))


class OwnPhoneForm(HotlineForm):
    phone = StringField(_l("Your own phone"), id="own-phone")
    submit = SubmitField(_l("Save"))


class CallbackForm(VersionedForm):
    rating = SelectField(
        _l("The citizen's answer"), choices=RATING_CHOICES, id="callback-rating", validate_choice=False
    )
    words = TextAreaField(_l("The citizen's words"), id="callback-words")
    submit = SubmitField(_l("Record the callback"))
