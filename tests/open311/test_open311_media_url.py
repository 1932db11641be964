"""Open311's `media_url` (issue 18 item 5): a photo an Open311 client names by URL is fetched, but
only from the hosts the city lists (HOTLINE_OPEN311_MEDIA_HOSTS), without following redirects,
within the attachments' size limit; it is checked as an upload is and kept with the request (not
public until staff mark it). A URL elsewhere, a redirect, a file that is no photo or too large,
or a host that does not answer refuses the request and opens nothing. With no host listed,
`media_url` is accepted and ignored, as the documented contract says."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket
from tests import attachment_files as files
from tests import media_server
from tests.open311.test_open311 import BASE, EN, api_key, assert_error, get, post, ticket_count, valid  # noqa: F401


@pytest.fixture
def media_host(app, monkeypatch):
    with media_server.running() as host:
        monkeypatch.setitem(app.config, "HOTLINE_OPEN311_MEDIA_HOSTS", f"photos.example.org, {host.host}")
        yield host


def test_a_photo_named_by_media_url_is_fetched_and_kept(client, city, valid, media_host):  # noqa: F811
    media_host.files["/p/pothole.jpg"] = files.photo_with_location()
    response = post(client, media_url=media_host.url("/p/pothole.jpg?size=full"), **valid)
    assert response.status_code == 200, response.get_data(as_text=True)
    number = response.get_json()[0]["service_request_id"]
    photo = db.session.scalar(select(Attachment))
    assert (photo.ticket.number, photo.kind, photo.source, photo.filename) == (
        number,
        "photo",
        "open311",
        "pothole.jpg",
    )
    assert not photo.public  # published only once staff mark it public
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert body["media_url"] is None
    assert media_host.fetched == ["/p/pothole.jpg?size=full"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "media_url must be on a host the hotline fetches photos from"),
        ("http://localhost:5000/secret.jpg", "media_url must be on a host the hotline fetches photos from"),
        ("file:///etc/passwd", "media_url must be an http or https address."),
        ("ftp://photos.example.org/p.jpg", "media_url must be an http or https address."),
        ("http://[::1/p.jpg", "media_url is not a web address."),
    ],
)
def test_a_url_elsewhere_is_refused_unfetched_and_opens_nothing(client, city, valid, media_host, url, message):  # noqa: F811
    response = post(client, media_url=url, **valid)
    assert_error(response, 400, "json", message)
    assert ticket_count() == 0 and media_host.fetched == []


@pytest.mark.parametrize(
    ("path", "content", "status", "message"),
    [
        ("/moved", None, 400, "could not be fetched (HTTP 302)"),  # a redirect is not followed
        ("/missing.jpg", None, 400, "could not be fetched (HTTP 404)"),
        ("/fake.jpg", files.EXE, 400, "This file is not a photo"),
        ("/empty.jpg", b"", 400, "The file is empty."),
    ],
)
def test_a_bad_answer_refuses_the_request_and_opens_nothing(
    client,
    city,
    valid,  # noqa: F811
    media_host,
    path,
    content,
    status,
    message,
):
    if content is not None:
        media_host.files[path] = content
    assert_error(post(client, media_url=media_host.url(path), **valid), status, "json", message)
    assert ticket_count() == 0 and db.session.query(Attachment).count() == 0


def test_a_photo_over_the_limit_is_413_and_read_no_further(client, city, valid, media_host, app, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "HOTLINE_ATTACHMENT_MAX_BYTES", 50_000)
    media_host.files["/big.jpg"] = files.photo_with_location((1600, 1200)) + b"\0" * 200_000
    assert_error(post(client, media_url=media_host.url("/big.jpg"), **valid), 413, "json", "too large")
    assert ticket_count() == 0


def test_a_host_that_does_not_answer_is_a_clear_400(client, city, valid, app, monkeypatch):  # noqa: F811
    with media_server.running() as gone:
        host = gone.host
    monkeypatch.setitem(app.config, "HOTLINE_OPEN311_MEDIA_HOSTS", host)  # listed, but nothing listens there any more
    response = post(client, media_url=f"http://{host}/p.jpg", **valid)
    assert_error(response, 400, "json", f"{host} did not answer")
    assert ticket_count() == 0


def test_without_a_listed_host_media_url_is_accepted_and_ignored(client, city, valid):  # noqa: F811
    with media_server.running() as host:
        host.files["/p.jpg"] = files.photo_with_location()
        response = post(client, media_url=host.url("/p.jpg"), **valid)
        assert response.status_code == 200
        assert host.fetched == []
    assert ticket_count() == 1 and db.session.query(Attachment).count() == 0
    assert db.session.scalar(select(Ticket.channel)) == "open311"
