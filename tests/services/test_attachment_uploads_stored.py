"""The files sent with a new ticket (issue 18) are in the store only while their ticket opens:
`attachment_uploads.stored`, used by the intake form and /report, discards them when the ticket
does not open, whatever the error, and keeps them when it does."""

from __future__ import annotations

import io

import pytest

from hotline.services.errors import InvalidInput
from hotline.services.platform import file_store
from hotline.services.platform.file_errors import FileMissing
from hotline.services.ticketing import attachment_uploads
from tests import attachment_files


def checked() -> list[attachment_uploads.Upload]:
    sent = [
        ("a.jpg", io.BytesIO(attachment_files.photo_with_location())),
        ("b.pdf", io.BytesIO(attachment_files.pdf())),
    ]
    return attachment_uploads.check_all(sent, most=5, field="files")


def stored_keys(uploads: list[attachment_uploads.Upload]) -> list[str]:
    kept = [upload.kept for upload in uploads if upload.kept is not None]
    return [key for files in kept for key in (files.key, files.thumbnail_key) if key]


def in_store(key: str) -> bool:
    try:
        file_store.store().read(key)
    except FileMissing:
        return False
    return True


@pytest.mark.parametrize(
    "error", [InvalidInput("no category"), RuntimeError("the database went away"), KeyboardInterrupt()]
)
def test_a_ticket_that_does_not_open_leaves_no_file(error):
    keys: list[str] = []
    with pytest.raises(type(error)), attachment_uploads.stored(checked(), "intake") as uploads:
        keys = stored_keys(uploads)
        assert len(keys) == 3 and all(in_store(key) for key in keys)  # the photo, its thumbnail, the PDF
        raise error
    assert keys and not any(in_store(key) for key in keys)


def test_a_ticket_that_opens_keeps_its_files():
    with attachment_uploads.stored(checked(), "web") as uploads:
        keys = stored_keys(uploads)
    assert len(keys) == 3 and all(in_store(key) for key in keys)
