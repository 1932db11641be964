"""The ticket page's attachment list (issue 18 item 5): a button marks a photo public or not, for the
unit holding the ticket and the desk only; the timeline says who did it. A citizen's MMS pictures
and those not kept show on the timeline too."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Attachment
from hotline.services.citizens import twilio_media
from hotline.services.ticketing import attachments
from hotline.services.ticketing.transition import record_event
from tests import attachment_files as files
from tests import factories
from tests.public.conftest import _fresh_request_caches  # noqa: F401  (each page in its own language: Chinese)


@pytest.fixture
def chinese(city):
    """The staff read the pages in Chinese (their own setting), whatever an earlier test left."""
    for user in (city.dispatcher, city.roads_staff, city.operator):
        user.locale = "zh_CN"
    db.session.commit()


def page(client, ticket) -> str:
    response = client.get(f"/tickets/{ticket.number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def set_public(client, attachment: Attachment, value: str) -> str:
    url = f"/tickets/{attachment.ticket.number}/attachments/{attachment.id}/public"
    response = client.post(url, data={"public": value}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reloaded(attachment: Attachment) -> Attachment:
    db.session.expire_all()
    return db.session.get(Attachment, attachment.id)


def test_the_dispatcher_makes_a_photo_public_and_back_from_the_attachment_list(login, city, chinese):
    ticket = factories.make_routed_ticket(city.operator)
    photo = attachments.add(city.roads_staff, ticket, files.photo_with_location())
    dispatcher = login(city.dispatcher)
    form = f'action="/tickets/{ticket.number}/attachments/{photo.id}/public"'
    html = page(dispatcher, ticket)
    assert form in html and "设为公开" in html

    html = set_public(dispatcher, photo, "1")

    assert "照片已设为公开。" in html and "alert-danger" not in html
    assert reloaded(photo).public is True
    assert "timeline-photo_made_public" in html and "照片设为公开" in html
    assert "取消公开" in html  # the button now takes it back

    html = set_public(login(city.roads_staff), photo, "0")
    assert "照片已取消公开。" in html and reloaded(photo).public is False
    assert "timeline-photo_made_private" in html


def test_the_operator_sees_no_button_and_is_refused(login, city, chinese):
    ticket = factories.make_routed_ticket(city.operator)
    photo = attachments.add(city.roads_staff, ticket, files.photo_with_location())
    operator = login(city.operator)
    html = page(operator, ticket)
    assert "attachment-public" not in html
    assert 'name="public"' not in html  # nor the upload's "may be shown publicly" box

    html = set_public(operator, photo, "1")

    assert "alert-danger" in html and reloaded(photo).public is False


def test_a_document_has_no_button_and_cannot_be_made_public(login, city, chinese):
    ticket = factories.make_routed_ticket(city.operator)
    document = attachments.add(city.roads_staff, ticket, files.pdf())
    staff = login(city.roads_staff)
    assert "attachment-public" not in page(staff, ticket)

    html = set_public(staff, document, "1")

    assert "只有照片可以公开" in html or "Only photos" in html
    assert reloaded(document).public is False


def test_the_timeline_shows_a_citizens_pictures_and_those_not_kept(login, city, chinese):
    ticket = factories.make_routed_ticket(city.operator)
    record_event(ticket, None, "citizen_message", None, None, {"text": "看照片", "channel": "sms", "media": 2})
    db.session.commit()
    twilio_media.note_not_kept(ticket.id, ["ME1"], twilio_media.TOO_LARGE)
    html = page(login(city.roads_staff), ticket)
    assert "看照片" in html and "附 2 张图片" in html
    assert "timeline-media_not_kept" in html and "市民发来的图片未保存" in html and "文件过大，未保存。" in html
