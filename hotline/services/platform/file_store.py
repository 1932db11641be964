"""The one storage interface for files (attachments, issue 18 item 5): a local folder by default
(HOTLINE_ATTACHMENTS_DIR), S3-compatible object storage where the system runs on several machines.
Keys are made by the caller ("tickets/20261205-000001/3f2a...jpg"); a store only keeps bytes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import current_app

CHUNK = 64 * 1024


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
        path = (self.root / key).resolve()
        # Keys are ours, but a key must never reach outside the folder.
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad file key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def stream(self, key: str) -> Iterator[bytes]:
        with open(self._path(key), "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def store() -> FileStore:
    """The store the configuration names (HOTLINE_ATTACHMENTS_STORAGE: local | s3)."""
    config = current_app.config
    kind = config.get("HOTLINE_ATTACHMENTS_STORAGE", "local")
    if kind == "local":
        return LocalFolder(config.get("HOTLINE_ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")
    raise RuntimeError(f"HOTLINE_ATTACHMENTS_STORAGE: unknown storage {kind!r} (local or s3)")
