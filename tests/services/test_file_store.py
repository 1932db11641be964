"""The one storage interface for files (issue 18 item 5): the same tests for the local folder and
for S3-compatible object storage (moto's server, over HTTP: tests/s3_server.py); then what is
S3's own: settings checked at start-up, and a server that is down or has no bucket."""

from __future__ import annotations

import os

import pytest

import config as settings_module
from hotline import create_app
from hotline.services.platform import file_store
from hotline.services.platform.file_errors import CHUNK, FileMissing, StorageUnavailable
from hotline.services.platform.s3_store import S3Store
from tests.s3_server import free_port, s3_settings

BIG = os.urandom(3 * CHUNK + 123)  # several chunks, the last one short


@pytest.fixture(params=["local", "s3"])
def store(request, app, tmp_path, use_settings):
    if request.param == "local":
        use_settings(HOTLINE_ATTACHMENTS_STORAGE="local", HOTLINE_ATTACHMENTS_DIR=str(tmp_path / "files"))
    else:
        request.getfixturevalue("s3_attachments")
    kept = file_store.store()
    assert type(kept).__name__ == {"local": "LocalFolder", "s3": "S3Store"}[request.param]
    return kept


def test_a_file_put_is_read_back_whole(store):
    store.put("tickets/20261205-000001/a.jpg", b"\xff\xd8picture", "image/jpeg")
    assert store.read("tickets/20261205-000001/a.jpg") == b"\xff\xd8picture"


def test_a_large_file_is_streamed_in_chunks_not_whole(store):
    store.put("tickets/x/big.bin", BIG, "application/pdf")
    chunks = list(store.stream("tickets/x/big.bin"))
    assert b"".join(chunks) == BIG
    assert len(chunks) >= 4 and all(len(chunk) <= CHUNK for chunk in chunks)


def test_putting_a_key_again_replaces_the_file(store):
    store.put("tickets/x/a.pdf", b"%PDF-old", "application/pdf")
    store.put("tickets/x/a.pdf", b"%PDF-new", "application/pdf")
    assert store.read("tickets/x/a.pdf") == b"%PDF-new"


def test_a_deleted_file_is_missing_and_deleting_it_again_is_no_error(store):
    store.put("tickets/x/a.pdf", b"%PDF-1", "application/pdf")
    store.delete("tickets/x/a.pdf")
    with pytest.raises(FileMissing) as missing:
        store.stream("tickets/x/a.pdf")  # at once, not at the first chunk: the view can answer 404
    assert missing.value.status_code == 404
    store.delete("tickets/x/a.pdf")


def test_a_key_never_put_is_missing(store):
    with pytest.raises(FileMissing):
        store.read("tickets/x/never.jpg")


@pytest.mark.parametrize("key", ["../outside.jpg", "/etc/passwd", "tickets/../../x", "", "tickets//x", "a\\b"])
def test_a_key_outside_the_store_is_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x", "image/jpeg")


# -- S3's own ---------------------------------------------------------------------------------


def test_s3_keeps_the_content_type_and_nothing_else_in_the_bucket(s3_attachments):
    file_store.store().put("tickets/x/a.png", b"\x89PNG", "image/png")
    assert s3_attachments.keys() == ["tickets/x/a.png"]
    assert s3_attachments.content_type("tickets/x/a.png") == "image/png"


def test_s3_server_down_is_storage_unavailable_for_every_operation(use_settings, s3_credentials):
    use_settings(**s3_settings("hotline-nowhere", f"http://127.0.0.1:{free_port()}"))  # nobody listens
    store = file_store.store()
    for operation in (
        lambda: store.put("tickets/x/a.jpg", b"x", "image/jpeg"),
        lambda: store.stream("tickets/x/a.jpg"),
        lambda: store.delete("tickets/x/a.jpg"),
    ):
        with pytest.raises(StorageUnavailable) as error:
            operation()
        assert error.value.status_code == 503


def test_s3_bucket_missing_is_storage_unavailable(s3_attachments):
    s3_attachments.remove()
    store = file_store.store()
    with pytest.raises(StorageUnavailable):
        store.put("tickets/x/a.jpg", b"x", "image/jpeg")
    with pytest.raises(StorageUnavailable):
        store.stream("tickets/x/a.jpg")  # no bucket is not "no such file"


def _config(**settings):
    config = settings_module.TestingConfig()
    config.HOTLINE_ATTACHMENTS_DIR = "/nonexistent-never-written"
    for name, value in settings.items():
        setattr(config, name, value)
    return config


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"HOTLINE_ATTACHMENTS_STORAGE": "s3"}, "HOTLINE_S3_BUCKET is not set"),
        ({"HOTLINE_ATTACHMENTS_STORAGE": "s3", "HOTLINE_S3_BUCKET": "Bad_Bucket"}, "not a valid bucket name"),
        (
            {"HOTLINE_ATTACHMENTS_STORAGE": "s3", "HOTLINE_S3_BUCKET": "b-1", "HOTLINE_S3_ENDPOINT_URL": "minio:9000"},
            "HOTLINE_S3_ENDPOINT_URL",
        ),
        (
            {"HOTLINE_ATTACHMENTS_STORAGE": "s3", "HOTLINE_S3_BUCKET": "b-1", "HOTLINE_S3_ADDRESSING_STYLE": "dns"},
            "HOTLINE_S3_ADDRESSING_STYLE",
        ),
        ({"HOTLINE_ATTACHMENTS_STORAGE": "ftp"}, "unknown storage 'ftp'"),
    ],
)
def test_a_misconfigured_store_stops_the_app_at_start_naming_the_setting(s3_credentials, settings, named):
    with pytest.raises(RuntimeError, match=named):
        create_app(_config(**settings))


def test_s3_without_credentials_or_region_stops_the_app_at_start(s3_credentials, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    with pytest.raises(RuntimeError) as error:
        create_app(_config(HOTLINE_ATTACHMENTS_STORAGE="s3", HOTLINE_S3_BUCKET="hotline-files"))
    assert "AWS_ACCESS_KEY_ID" in str(error.value) and "HOTLINE_S3_REGION" in str(error.value)


def test_a_well_configured_s3_store_starts_with_the_app(s3_credentials):
    app = create_app(
        _config(
            HOTLINE_ATTACHMENTS_STORAGE="s3",
            HOTLINE_S3_BUCKET="hotline-files",
            HOTLINE_S3_REGION="cn-north-1",
        )
    )
    with app.app_context():
        kept = file_store.store()
    assert isinstance(kept, S3Store) and kept.bucket == "hotline-files"
    assert kept.client.meta.region_name == "cn-north-1"


# -- flask files check ------------------------------------------------------------------------


def test_files_check_round_trips_a_file_in_the_folder_and_leaves_nothing(invoke, use_settings, tmp_path):
    use_settings(HOTLINE_ATTACHMENTS_STORAGE="local", HOTLINE_ATTACHMENTS_DIR=str(tmp_path / "files"))
    result = invoke("files", "check")
    assert result.exit_code == 0, result.output
    assert f"file store OK: folder {tmp_path / 'files'}" in result.output
    assert [path for path in (tmp_path / "files").rglob("*") if path.is_file()] == []


def test_files_check_round_trips_a_file_in_s3_and_leaves_nothing(invoke, s3_attachments):
    result = invoke("files", "check")
    assert result.exit_code == 0, result.output
    assert f"file store OK: s3://{s3_attachments.name} at {s3_attachments.endpoint}" in result.output
    assert s3_attachments.keys() == []


def test_files_check_says_when_s3_cannot_be_reached(invoke, use_settings, s3_credentials):
    endpoint = f"http://127.0.0.1:{free_port()}"
    use_settings(**s3_settings("hotline-nowhere", endpoint))
    result = invoke("files", "check")
    assert result.exit_code == 1
    assert f"s3://hotline-nowhere at {endpoint}" in result.output and "cannot be reached" in result.output


def test_a_changed_setting_makes_the_store_again(app, tmp_path):
    saved = app.config["HOTLINE_ATTACHMENTS_DIR"]
    try:
        app.config["HOTLINE_ATTACHMENTS_DIR"] = str(tmp_path / "one")
        file_store.store().put("tickets/x/a.pdf", b"%PDF-1", "application/pdf")
        app.config["HOTLINE_ATTACHMENTS_DIR"] = str(tmp_path / "two")
        file_store.store().put("tickets/x/b.pdf", b"%PDF-2", "application/pdf")
    finally:
        app.config["HOTLINE_ATTACHMENTS_DIR"] = saved
    assert (tmp_path / "one/tickets/x/a.pdf").exists() and (tmp_path / "two/tickets/x/b.pdf").exists()
