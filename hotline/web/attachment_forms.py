"""The ticket page's upload form (attachments, issue 18 item 5)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SubmitField

from hotline import labels
from hotline.web.forms import HotlineForm


class AttachmentForm(HotlineForm):
    file = FileField(_l("File (photo, PDF or recording)"))
    kind = SelectField(
        _l("Kind"),
        choices=[("", _l("By its content"))] + [(kind, label) for kind, label in labels.ATTACHMENT_KIND_LABELS.items()],
        default="",
        validate_choice=False,  # the service checks it, with a message
    )
    public = BooleanField(_l("Photo may be shown publicly"))
    next = HiddenField()
    submit = SubmitField(_l("Attach"))


class AttachmentPublicForm(HotlineForm):
    """The attachment list's button: mark a photo public ("1") or not ("0")."""

    public = HiddenField()
    next = HiddenField()
