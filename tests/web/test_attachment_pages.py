"""Attachments on the ticket page (issue 18 item 5): staff upload a before/after photo, see its
thumbnail and the "attachment added" event; others who may not see the ticket get 404; a bad
file is refused with a message and nothing is stored."""

from __future__ import annotations

import io
import re

from PIL import Image

from hotline.extensions import db
from hotline.models import Attachment
from tests import attachment_files as files
from tests import factories


def page_upload(client, ticket, data: bytes, name: str = "after.jpg", **form):
    body = {"file": (io.BytesIO(data), name), **form}
    return client.post(
        f"/tickets/{ticket.number}/attachments", data=body, content_type="multipart/form-data", follow_redirects=True
    )


def test_staff_add_an_after_photo_and_see_its_thumbnail(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    staff = login(city.roads_staff)
    response = page_upload(staff, ticket, files.photo_with_location(), kind="after")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "附件已添加" in html or "Attachment added" in html
    attachment = db.session.query(Attachment).one()
    assert attachment.kind == "after" and not attachment.public
    thumb_url = f"/tickets/{ticket.number}/attachments/{attachment.id}/thumbnail"
    assert thumb_url in html  # on the page and in the timeline
    assert re.search(r"timeline-attachment_added", html)
    thumb = staff.get(thumb_url)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320 and not files.has_exif(thumb.data)
    # The operator sees the ticket and so the photo; the water department sees neither.
    assert login(city.operator).get(thumb_url).status_code == 200
    assert login(city.water_staff).get(thumb_url).status_code == 404
    assert login(city.water_staff).get(f"/tickets/{ticket.number}/attachments/{attachment.id}").status_code == 404


def test_a_disguised_file_is_refused_with_a_message_and_nothing_stored(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    staff = login(city.roads_staff)
    html = page_upload(staff, ticket, files.EXE, name="photo.jpg").get_data(as_text=True)
    assert "alert-danger" in html
    assert db.session.query(Attachment).count() == 0
    html = page_upload(staff, ticket, b"", name="empty.jpg").get_data(as_text=True)
    assert "文件为空" in html or "The file is empty" in html
    assert db.session.query(Attachment).count() == 0


def test_another_department_cannot_upload(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    response = login(city.water_staff).post(
        f"/tickets/{ticket.number}/attachments",
        data={"file": (io.BytesIO(files.photo_with_location()), "p.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert db.session.query(Attachment).count() == 0
