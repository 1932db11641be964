"""Files sent with a new ticket (issue 18): the operator's intake form and the citizen's /report.

Each file is read and checked by services/ticketing/attachments.py exactly as the ticket page's
upload is (`read_limited`, `prepare`: the same limits and the same messages) BEFORE the ticket is
opened, so that one bad file refuses the whole form and opens nothing. Once the ticket is open
(through the one way in, `intake.open_ticket`), `attach_all` keeps the checked files with it, as
Open311's upload does. `store_all` puts them in the store before the ticket opens, so that a
store that is down (S3) refuses the form with a 503 and opens nothing, as Open311 does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import IO

from flask_babel import gettext as _
from flask_babel import ngettext

from hotline.models import Attachment, AttachmentKind, Ticket, User
from hotline.services.errors import InvalidInput, ServiceError
from hotline.services.ticketing import attachments


@dataclass(frozen=True)
class Upload:
    """A file checked before its ticket exists: its name, its bytes and what will be kept."""

    filename: str
    data: bytes
    prepared: attachments.Prepared
    kept: attachments.Kept | None = None  # in the store already (`store_all`)


def check_all(
    files: Sequence[tuple[str, IO[bytes]]],
    *,
    most: int,
    field: str,
    photos_only: bool = False,
) -> list[Upload]:
    """Read and check every file (name, stream); the first bad one refuses them all, its message
    (the ticket page's) beside `field` and after the file's name. `photos_only`: a PDF or a
    recording is refused too (the citizen's page takes photos)."""
    if len(files) > most:
        raise InvalidInput(
            ngettext("At most %(num)d file can be sent at once.", "At most %(num)d files can be sent at once.", most),
            field=field,
        )
    checked: list[Upload] = []
    for filename, stream in files:
        name = (filename or "").strip()
        try:
            data = attachments.read_limited(stream)
            prepared = attachments.prepare(data, None)
            if photos_only and prepared.kind not in AttachmentKind.IMAGES:
                raise InvalidInput(_("Only photos can be sent here (JPEG, PNG, GIF, WebP)."))
        except ServiceError as error:
            message = _("%(file)s: %(message)s", file=name, message=error.message) if name else error.message
            refusal = type(error)(message, field=field)
            raise refusal from None
        checked.append(Upload(name, data, prepared))
    return checked


def store_all(uploads: Sequence[Upload], folder: str) -> list[Upload]:
    """Put every checked file in the store before its ticket opens: all or none
    (StorageUnavailable, 503, when the store cannot be reached)."""
    stored: list[Upload] = []
    try:
        for upload in uploads:
            stored.append(replace(upload, kept=attachments.store_files(upload.prepared, folder)))
    except BaseException:
        discard_all(stored)
        raise
    return stored


@contextmanager
def stored(uploads: Sequence[Upload], folder: str) -> Iterator[list[Upload]]:
    """The checked files in the store (`store_all`) for the block that opens their ticket: when
    the block fails, whatever the error, the stored files are discarded and the error goes on, so
    that a ticket that did not open leaves no file behind (the intake form, /report)."""
    kept = store_all(uploads, folder)
    try:
        yield kept
    except BaseException:
        discard_all(kept)
        raise


def discard_all(uploads: Sequence[Upload]) -> None:
    """The stored files of a ticket that did not open."""
    for upload in uploads:
        attachments.discard(upload.kept)


def attach_all(
    actor: User | None, ticket: Ticket, uploads: Sequence[Upload], *, public: bool = False, source: str = "upload"
) -> list[Attachment]:
    """Keep the checked files with the ticket just opened (each committed as the ticket page's
    upload is). `public`: the photos may be shown publicly (the citizen's choice)."""
    return [
        attachments.add(
            actor,
            ticket,
            upload.data,
            filename=upload.filename,
            prepared=upload.prepared,
            public=public and upload.prepared.kind in AttachmentKind.IMAGES,
            source=source,
            kept=upload.kept,
        )
        for upload in uploads
    ]
