"""Attachments in S3-compatible object storage (HOTLINE_ATTACHMENTS_STORAGE=s3): AWS S3, or any
server that speaks its API (MinIO, Ceph, a cloud's object storage) at HOTLINE_S3_ENDPOINT_URL.
The credentials are boto3's usual ones (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
an instance role); the settings are checked when the app starts (from_config).

An object is visible only once its upload has finished (S3 writes whole objects), as the local
folder's rename does. Reads are streamed in chunks, never read whole into memory. Whatever S3
answers that is not the file (server down, bucket missing, access denied) is StorageUnavailable
(503, logged with S3's own words for the operator); a key it does not hold is FileMissing."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from hotline.services.platform.file_errors import (
    CHUNK,
    FileMissing,
    StorageUnavailable,
    check_key,
    reading_unavailable,
)

log = logging.getLogger(__name__)

# S3's rules for a bucket name (the dotted ones work only with path-style addressing).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ADDRESSING_STYLES = ("auto", "path", "virtual")
MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
# A server that does not answer is given up quickly: the user waits for the page.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
ATTEMPTS = 3


def _botocore_errors() -> tuple[type[Exception], ...]:
    # boto3 is imported where S3 is used, not by every process that makes an app.
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Store:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_config(cls, config: Any) -> S3Store:
        """The store HOTLINE_S3_* name; RuntimeError naming the setting that is missing or wrong."""
        import boto3
        from botocore.config import Config as BotoConfig

        bucket = (config.get("HOTLINE_S3_BUCKET") or "").strip()
        endpoint = (config.get("HOTLINE_S3_ENDPOINT_URL") or "").strip() or None
        region = (config.get("HOTLINE_S3_REGION") or "").strip() or None
        style = (config.get("HOTLINE_S3_ADDRESSING_STYLE") or "").strip().lower() or ("path" if endpoint else "auto")
        problems = []
        if not bucket:
            problems.append("HOTLINE_S3_BUCKET is not set: name the bucket that keeps the attachments")
        elif not BUCKET_NAME.match(bucket):
            problems.append(f"HOTLINE_S3_BUCKET {bucket!r} is not a valid bucket name (3-63 of a-z 0-9 . -)")
        if endpoint is not None:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append(f"HOTLINE_S3_ENDPOINT_URL {endpoint!r} is not an http(s)://host[:port] URL")
        if style not in ADDRESSING_STYLES:
            problems.append(f"HOTLINE_S3_ADDRESSING_STYLE {style!r} is not one of {', '.join(ADDRESSING_STYLES)}")
        try:
            session = boto3.session.Session(region_name=region)
            credentials = session.get_credentials()
        except _botocore_errors() as error:  # an AWS_PROFILE that does not exist, a broken config file
            raise RuntimeError(f"HOTLINE_ATTACHMENTS_STORAGE=s3: {error}") from error
        region = session.region_name or ("us-east-1" if endpoint else None)  # a local server: any region signs
        if region is None:
            problems.append("HOTLINE_S3_REGION is not set (nor AWS_DEFAULT_REGION): name the bucket's region")
        if credentials is None:
            problems.append(
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run with "
                "an instance role)"
            )
        if problems:
            raise RuntimeError("HOTLINE_ATTACHMENTS_STORAGE=s3 is misconfigured: " + "; ".join(problems))
        client = session.client(
            "s3",
            endpoint_url=endpoint,
            config=BotoConfig(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
                s3={"addressing_style": style},
            ),
        )
        return cls(client, bucket)

    def _failed(self, action: str, key: str, error: Exception) -> None:
        log.error("S3 %s of s3://%s/%s failed: %s", action, self.bucket, key, error)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except _botocore_errors() as error:
            self._failed("upload", key, error)
            raise StorageUnavailable() from error

    def stream(self, key: str) -> Iterator[bytes]:
        check_key(key)
        try:
            # Asked now, not when the first chunk is wanted: an error is the view's to answer.
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except _botocore_errors() as error:
            if _code(error) in MISSING_KEY_CODES:
                raise FileMissing(key) from error
            self._failed("download", key, error)
            raise reading_unavailable() from error
        return _chunks(body)

    def read(self, key: str) -> bytes:
        return b"".join(self.stream(key))

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # a key not there is no error in S3
        except _botocore_errors() as error:
            self._failed("delete", key, error)
            raise StorageUnavailable() from error


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
