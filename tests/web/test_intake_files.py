"""Files sent with the operator's intake form (issue 18): each checked as the ticket page's upload
is (the same function, limits and messages); a bad one refuses the whole form, which comes back
as typed, and opens nothing; good ones are kept with the ticket opened in the same request."""

from __future__ import annotations

import io

import pytest

from hotline.extensions import db
from hotline.models import Attachment, Ticket, TicketEvent
from tests import attachment_files as files
from tests.web.conftest import ticket_count
from tests.web.test_intake import FORM

EN = {"Accept-Language": "en"}


def post_with(client, *sent: tuple[bytes, str]):
    body: dict = {**FORM, "files": [(io.BytesIO(data), name) for data, name in sent]}
    return client.post("/tickets/new", data=body, content_type="multipart/form-data", headers=EN)


def test_photos_and_a_document_are_kept_with_the_new_ticket(login, city):
    client = login(city.operator)
    response = post_with(client, (files.photo_with_location(), "pothole.jpg"), (files.pdf(), "letter.pdf"))
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket = db.session.scalars(db.select(Ticket)).one()
    kept = db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()
    assert [(a.ticket_id, a.kind, a.filename, a.public) for a in kept] == [
        (ticket.id, "photo", "pothole.jpg", False),
        (ticket.id, "document", "letter.pdf", False),
    ]
    assert kept[0].added_by == city.operator
    photo = client.get(f"/tickets/{ticket.number}/attachments/{kept[0].id}")
    assert photo.status_code == 200 and not files.gps_of(photo.data)  # re-encoded, as any upload
    events = db.session.scalars(db.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all()
    assert events.count("attachment_added") == 2
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert f"/tickets/{ticket.number}/attachments/{kept[0].id}/thumbnail" in page


def test_an_empty_file_input_opens_the_ticket_without_attachments(login, city):
    client = login(city.operator)
    body = {**FORM, "files": (io.BytesIO(b""), "")}  # what a browser sends when no file is chosen
    response = client.post("/tickets/new", data=body, content_type="multipart/form-data")
    assert response.status_code == 302
    assert ticket_count() == 1 and db.session.query(Attachment).count() == 0


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (files.EXE, "photo.jpg", 400, "This file is not a photo"),
        (files.HTML, "pothole.png", 400, "This file is not a photo"),
        (b"", "empty.jpg", 400, "The file is empty."),
    ],
)
def test_a_bad_file_refuses_the_form_keeps_what_was_typed_and_opens_nothing(login, city, data, name, status, message):
    client = login(city.operator)
    response = post_with(client, (files.photo_with_location(), "good.jpg"), (data, name))
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert f"{name}: {message}" in html
    assert 'id="files"' in html and "is-invalid" in html  # the message at the field
    assert 'value="人民路 12 号"' in html and "路面塌陷，车辆无法通行。" in html  # nothing typed is lost
    assert ticket_count() == 0 and db.session.query(Attachment).count() == 0


def test_a_file_over_the_limit_is_413_with_the_ticket_pages_message(login, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_ATTACHMENT_MAX_BYTES", 50_000)
    client = login(city.operator)
    response = post_with(client, (files.photo_with_location((1600, 1200)) + b"\0" * 60_000, "big.jpg"))
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "big.jpg: The file is too large: at most 48 KB." in html
    assert 'value="李四"' in html
    assert ticket_count() == 0 and db.session.query(Attachment).count() == 0


def test_more_files_than_allowed_are_refused(login, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_INTAKE_MAX_FILES", 1)
    client = login(city.operator)
    response = post_with(client, (files.pdf(), "a.pdf"), (files.pdf(), "b.pdf"))
    assert response.status_code == 400
    assert "At most 1 file can be sent at once." in response.get_data(as_text=True)
    assert ticket_count() == 0


def test_a_body_larger_than_the_files_allowed_is_refused_unread(login, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_ATTACHMENT_MAX_BYTES", 10_000)
    monkeypatch.setitem(app.config, "HOTLINE_INTAKE_MAX_FILES", 1)
    client = login(city.operator)
    response = post_with(client, (files.pdf() + b" " * 200_000, "huge.pdf"))
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    assert ticket_count() == 0


def test_the_duplicates_search_does_not_need_the_files(login, city):
    """The page's script leaves the files out of its search; a form that sends them anyway is answered."""
    client = login(city.operator)
    body = {**FORM, "files": (io.BytesIO(files.pdf()), "a.pdf")}
    response = client.post("/tickets/likely-duplicates", data=body, content_type="multipart/form-data")
    assert response.status_code == 200 and db.session.query(Attachment).count() == 0
