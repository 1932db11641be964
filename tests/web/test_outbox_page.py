"""The administrators' outbox page: every text, filtered by status, and "send again"."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.services.citizens import outbox
from tests import factories, fake_twilio
from tests.web.conftest import text_of


@pytest.fixture(autouse=True)
def _no_queue(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)


def test_only_administrators_see_it(login, client, city):
    assert client.get("/admin/outbox/").status_code == 302  # to the login page
    for user in (city.operator, city.dispatcher, city.roads_staff, city.supervisor):
        assert login(user).get("/admin/outbox/").status_code == 403
        assert login(user).post("/admin/outbox/1/retry").status_code == 403
    assert login(city.admin).get("/admin/outbox/").status_code == 200


def test_held_messages_without_twilio(login, city):
    ticket = factories.make_ticket(city.operator)
    page = text_of(login(city.admin).get("/admin/outbox/?status=held"))
    assert 'id="no-sender"' in page and 'id="no-webhooks"' in page
    assert ticket.number in page and "Held (not sent)" in page and "no SMS sender is configured" in page
    assert "Send again" in page and "disabled" in page  # nothing to send with
    response = login(city.admin).post(f"/admin/outbox/{outbox.for_ticket(ticket)[0].id}/retry", data={"status": "held"})
    assert response.status_code == 302 and response.location.endswith("/admin/outbox/?status=held")
    assert "No SMS sender is configured" in text_of(login(city.admin).get("/admin/outbox/"))


def test_filter_and_send_again(app, login, city, monkeypatch):
    with fake_twilio.running(app, monkeypatch) as fake:
        first = factories.make_ticket(city.operator)
        second = factories.make_ticket(city.operator, caller_phone="13900139000")
        fake.fail_next(400, 21211, "Invalid 'To' Phone Number")
        failed = outbox.send(outbox.for_ticket(first)[0].id)
        outbox.send(outbox.for_ticket(second)[0].id)
        admin = login(city.admin)

        failed_page = text_of(admin.get("/admin/outbox/?status=failed"))
        assert first.number in failed_page and second.number not in failed_page
        assert "Invalid &#39;To&#39; Phone Number" in failed_page or "Invalid 'To' Phone Number" in failed_page
        assert f'/admin/outbox/{failed.id}/retry"' in failed_page
        sent_page = text_of(admin.get("/admin/outbox/?status=sent"))
        assert second.number in sent_page and first.number not in sent_page
        assert 'retry"' not in sent_page.split('id="outbox"')[1]  # no button for a sent message
        everything = text_of(admin.get("/admin/outbox/?status=nonsense"))  # an unknown filter shows all
        assert first.number in everything and second.number in everything

        response = admin.post(f"/admin/outbox/{failed.id}/retry", data={"status": "failed"})
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(OutboundMessage, failed.id).status == OutboundMessage.QUEUED
        assert "is queued to be sent again" in text_of(admin.get("/admin/outbox/"))
        assert outbox.send(failed.id).status == OutboundMessage.SENT
        assert len(fake.messages()) == 2

        # A sent message cannot be sent again, nor a message that does not exist.
        admin.post(f"/admin/outbox/{failed.id}/retry")
        assert "Only a failed or held message" in text_of(admin.get("/admin/outbox/"))
        admin.post("/admin/outbox/999999/retry")
        assert "No message 999999" in text_of(admin.get("/admin/outbox/"))
        assert db.session.scalar(select(OutboundMessage.status).where(OutboundMessage.id == failed.id)) == "sent"


def test_the_navbar_links_it_for_administrators(login, city):
    assert 'href="/admin/outbox/"' in text_of(login(city.admin).get("/tickets"))
    assert 'href="/admin/outbox/"' not in text_of(login(city.supervisor).get("/tickets"))
