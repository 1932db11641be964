"""What every file store shares (services/platform/file_store.py, s3_store.py): the chunk size
of a streamed read, which keys are valid, and the two errors a store raises."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask_babel import gettext as _

from hotline.services.errors import ServiceError

CHUNK = 64 * 1024


class StorageUnavailable(ServiceError):
    """The file store cannot be reached or refused the request (S3 down, bucket missing, disk full)."""

    status_code = 503
    error = "storage_unavailable"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(
            message or _("The file store cannot be reached just now; nothing was saved. Try again in a few minutes."),
            field=field,
        )


class FileMissing(ServiceError):
    """A key the store does not hold (its file was removed outside the system)."""

    status_code = 404
    error = "not_found"

    def __init__(self, key: str) -> None:
        super().__init__(_("The file of this attachment is missing from the file store."))
        self.key = key


def check_key(key: str) -> str:
    """A relative key without "..": the same keys are valid in every store."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or key != str(path):
        raise ValueError(f"bad file key {key!r}")
    return key


def reading_unavailable() -> StorageUnavailable:
    return StorageUnavailable(_("The file store cannot be reached just now; try again in a few minutes."))
