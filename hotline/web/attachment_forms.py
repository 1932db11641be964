"""The ticket page's upload form (attachments, issue 18 item 5), and the files sent with a new
ticket's form (the intake form, the citizen's /report)."""

from __future__ import annotations

from typing import IO

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, SubmitField

from hotline import labels
from hotline.services.ticketing import attachments
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


def sent_files(name: str) -> list[tuple[str, IO[bytes]]]:
    """The files a form sent in the field `name`, as (file name, stream); a file input left
    empty sends a part without a name, which is no file."""
    return [(upload.filename or "", upload.stream) for upload in request.files.getlist(name) if upload.filename]


def too_large_body(most: int) -> str | None:
    """The message for a request body larger than a form with `most` files may send (refused
    before the form is parsed), else None; otherwise the parser is told the limit."""
    limit = attachments.request_limit(most)
    if (request.content_length or 0) > limit:
        return attachments.too_large().message
    request.max_content_length = limit
    return None
