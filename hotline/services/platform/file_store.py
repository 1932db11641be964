"""The one storage interface for files (attachments, issue 18 item 5): a local folder by default
(HOTLINE_ATTACHMENTS_DIR), S3-compatible object storage where the system runs on several machines
(HOTLINE_ATTACHMENTS_STORAGE=s3, services/platform/s3_store.py).
Keys are made by the caller ("tickets/20261205-000001/3f2a...jpg"); a store only keeps bytes.

Both stores answer alike: `stream` opens the file before it returns (so that a missing file or an
unreachable store is an error the view turns into a message, not a response broken half-way) and
then yields it in chunks of at most CHUNK bytes; a file that is not there is FileMissing (404);
a store that cannot be reached or refuses is StorageUnavailable (503)."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from hotline.services.platform import s3_store
from hotline.services.platform.file_errors import CHUNK, FileMissing, StorageUnavailable, check_key, reading_unavailable

EXTENSION = "hotline_file_store"  # app.extensions: the store, made once per app (a boto3 client is costly)

log = logging.getLogger(__name__)


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def stream(self, key: str) -> Iterator[bytes]: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalFolder:
    """Files under one folder; written to a temporary name and renamed, so that a reader never
    sees half a file."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # Keys are ours, but a key must never reach outside the folder.
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad file key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        except OSError as error:
            log.error("file store: cannot write %s: %s", key, error)
            raise StorageUnavailable() from error
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError as error:  # disk full, folder not writable
            Path(tmp).unlink(missing_ok=True)
            log.error("file store: cannot write %s: %s", key, error)
            raise StorageUnavailable() from error
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            source = open(self._path(key), "rb")  # noqa: SIM115  (opened now, closed by _chunks: a missing file is an error here, not mid-response)
        except FileNotFoundError:
            raise FileMissing(key) from None
        except OSError as error:
            log.error("file store: cannot read %s: %s", key, error)
            raise reading_unavailable() from error
        return _chunks(source)

    def read(self, key: str) -> bytes:
        return b"".join(self.stream(key))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _chunks(source) -> Iterator[bytes]:
    with source:
        while chunk := source.read(CHUNK):
            yield chunk


def make(app: Flask) -> FileStore:
    """The store the app's configuration names (HOTLINE_ATTACHMENTS_STORAGE: local | s3);
    RuntimeError, naming the setting, when it is wrong."""
    config = app.config
    kind = (config.get("HOTLINE_ATTACHMENTS_STORAGE") or "local").strip().lower()
    if kind == "local":
        return LocalFolder(config.get("HOTLINE_ATTACHMENTS_DIR") or Path(app.instance_path) / "attachments")
    if kind == "s3":
        return s3_store.S3Store.from_config(config)
    raise RuntimeError(f"HOTLINE_ATTACHMENTS_STORAGE: unknown storage {kind!r} (local or s3)")


SETTINGS = (
    "HOTLINE_ATTACHMENTS_STORAGE",
    "HOTLINE_ATTACHMENTS_DIR",
    "HOTLINE_S3_BUCKET",
    "HOTLINE_S3_ENDPOINT_URL",
    "HOTLINE_S3_REGION",
    "HOTLINE_S3_ADDRESSING_STYLE",
)


def _settings(app: Flask) -> tuple:
    return tuple(app.config.get(name) for name in SETTINGS)


def init_app(app: Flask) -> None:
    """Checked at start-up: a misconfigured store stops the app with a message naming the setting,
    instead of failing at the first upload."""
    app.extensions[EXTENSION] = (_settings(app), make(app))


def store() -> FileStore:
    """The store the configuration names, made once per app (and again if its settings change)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = _settings(app)
    kept = app.extensions.get(EXTENSION)
    if kept is None or kept[0] != settings:
        kept = app.extensions[EXTENSION] = (settings, make(app))
    return kept[1]


def reset() -> None:
    """Forget the app's store, so that the next call makes it again (tests: new credentials)."""
    current_app.extensions.pop(EXTENSION, None)


def describe(kept: FileStore) -> str:
    """Where a store keeps its files, for the operator (no credentials)."""
    if isinstance(kept, s3_store.S3Store):
        return f"s3://{kept.bucket} at {kept.client.meta.endpoint_url}"
    if isinstance(kept, LocalFolder):
        return f"folder {kept.root}"
    return type(kept).__name__


def round_trip() -> str:
    """Write a small file, read it back and delete it (`flask files check`): the store works for
    this process, with its settings and credentials. StorageUnavailable otherwise."""
    kept = store()
    key = f"checks/{secrets.token_hex(8)}.txt"
    probe = b"hotline file store check\n"
    kept.put(key, probe, "text/plain")
    try:
        if kept.read(key) != probe:
            raise StorageUnavailable(f"{describe(kept)}: the file read back differs from the one written")
    finally:
        kept.delete(key)
    return describe(kept)
