"""A local S3-compatible server for the S3 file store's tests (issue 18 item 5): moto's server mode,
a `moto.server` process on a free port, reached over HTTP by the real boto3 client, as Twilio is
reached through tests/fake_twilio.py. Nothing is patched inside the test process.

Fixtures (registered by tests/conftest.py's pytest_plugins):
- s3_server: the server's endpoint URL, one process for the session;
- s3_credentials: the AWS_* variables a client signs with (any values do for moto);
- s3_bucket: a new, empty bucket for the test, emptied and removed after it;
- s3_attachments: the app's attachments kept in that bucket for the test (the folder again after)."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from flask import Flask

from hotline.services.platform import file_store

HOST = "127.0.0.1"
START_TIMEOUT = 60  # seconds: moto imports a lot, and the machine is shared
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "hotline-test",
    "AWS_SECRET_ACCESS_KEY": "hotline-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited: {process.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server not listening on {HOST}:{port} after {START_TIMEOUT} s")
            time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> dict[str, str]:
    """The usual AWS variables, and no profile or config file of the developer's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask a cloud's metadata service
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return CREDENTIALS


def client(endpoint: str) -> Any:
    """A plain boto3 client on the server, to look at the bucket the way an operator would."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: Any

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def content_type(self, key: str) -> str:
        return self.client.head_object(Bucket=self.name, Key=key)["ContentType"]

    def remove(self) -> None:
        """Empty the bucket and delete it (a bucket gone is what some tests need)."""
        for key in self.keys():
            self.client.delete_object(Bucket=self.name, Key=key)
        self.client.delete_bucket(Bucket=self.name)


@pytest.fixture
def s3_bucket(s3_server: str, s3_credentials) -> Iterator[Bucket]:
    bucket = Bucket(f"hotline-test-{secrets.token_hex(6)}", s3_server, client(s3_server))
    bucket.client.create_bucket(Bucket=bucket.name)
    yield bucket
    if bucket.name in {b["Name"] for b in bucket.client.list_buckets()["Buckets"]}:
        bucket.remove()


def s3_settings(bucket: str, endpoint: str) -> dict[str, str]:
    return {
        "HOTLINE_ATTACHMENTS_STORAGE": "s3",
        "HOTLINE_S3_BUCKET": bucket,
        "HOTLINE_S3_ENDPOINT_URL": endpoint,
        "HOTLINE_S3_REGION": "",
        "HOTLINE_S3_ADDRESSING_STYLE": "",
    }


@pytest.fixture
def use_settings(app: Flask) -> Iterator[Any]:
    """use_settings(**config): the app's attachments kept as these settings say, for this test."""
    saved: dict[str, Any] = {}

    def _use(**settings: str) -> None:
        for name, value in settings.items():
            saved.setdefault(name, app.config.get(name))
            app.config[name] = value
        file_store.reset()

    yield _use
    app.config.update(saved)
    file_store.reset()


@pytest.fixture
def s3_attachments(use_settings, s3_bucket: Bucket) -> Bucket:
    use_settings(**s3_settings(s3_bucket.name, s3_bucket.endpoint))
    return s3_bucket
