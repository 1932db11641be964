"""A ticket's photo marked public or not (issue 18 item 5): PATCH /api/v1/tickets/<number>/attachments/<id>
with {"public": true|false}. A public photo is Open311's `media_url` (re-encoded, no EXIF
location); the timeline says who changed it. Only the unit holding the ticket and the desk
(dispatchers, supervisors, admins) may; only photos may be public."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from hotline.extensions import db
from hotline.labels import EVENT_LABELS, MEDIA_NOT_KEPT_LABELS
from hotline.models import Attachment, TicketEvent
from hotline.services.errors import PermissionDenied
from hotline.services.ticketing import attachment_publicity, attachments, tickets
from tests import attachment_files as files
from tests import factories
from tests.api.helpers import assert_error
from tests.public.conftest import _fresh_request_caches  # noqa: F401  (Open311 reads, as a client would)

OPEN311 = "/open311/v2"


def path(attachment: Attachment) -> str:
    return f"/api/v1/tickets/{attachment.ticket.number}/attachments/{attachment.id}"


@pytest.fixture
def routed(city):
    return factories.make_routed_ticket(city.operator)  # roads holds it


@pytest.fixture
def photo(city, routed) -> Attachment:
    return attachments.add(city.roads_staff, routed, files.photo_with_location(), kind="after")


def media_url(client, number: str) -> str | None:
    (body,) = client.get(f"{OPEN311}/requests/{number}.json").get_json()
    return body["media_url"]


def events(ticket_id: int) -> list[TicketEvent]:
    db.session.expire_all()
    kinds = (attachment_publicity.MADE_PUBLIC, attachment_publicity.MADE_PRIVATE)
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(TicketEvent.id)))


def test_the_holding_unit_makes_a_photo_public_and_open311_shows_it_without_its_location(
    api, client, city, routed, photo
):
    number = routed.number
    assert media_url(client, number) is None  # not public: not published

    response = api(city.roads_staff).patch(path(photo), json={"public": True})

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body == {
        "id": photo.id,
        "kind": "after",
        "content_type": "image/jpeg",
        "size": photo.size,
        "created_at": body["created_at"],
        "url": path(photo),
        "public": True,
    }
    url = media_url(client, number)
    assert url and url.endswith(f"{OPEN311}/media/{number}/{photo.id}")
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not files.has_exif(served.data) and not files.gps_of(served.data)  # the original had both
    (event,) = events(routed.id)
    assert (event.kind, event.actor_id, event.data) == (
        "photo_made_public",
        city.roads_staff.id,
        {"attachment": photo.id},
    )

    # And back: no longer published, the file no longer served to the public.
    response = api(city.dispatcher).patch(path(photo), json={"public": False})
    assert response.status_code == 200 and response.get_json()["public"] is False
    assert media_url(client, number) is None
    assert client.get(url).status_code == 404
    assert [(e.kind, e.actor_id) for e in events(routed.id)] == [
        ("photo_made_public", city.roads_staff.id),
        ("photo_made_private", city.dispatcher.id),
    ]


def test_asking_for_what_is_already_so_writes_nothing(api, city, routed, photo):
    assert api(city.supervisor).patch(path(photo), json={"public": False}).get_json()["public"] is False
    assert events(routed.id) == []


@pytest.mark.parametrize(("data", "kind"), [(files.pdf(), "document"), (files.wav(), "recording")])
def test_only_a_photo_can_be_public(api, city, routed, data, kind):
    attachment = attachments.add(city.roads_staff, routed, data)
    assert attachment.kind == kind
    response = api(city.roads_staff).patch(path(attachment), json={"public": True})
    assert_error(response, 400, "invalid_input", "public")
    assert "Only photos" in response.get_json()["detail"] or "照片" in response.get_json()["detail"]
    db.session.expire_all()
    assert db.session.get(Attachment, attachment.id).public is False
    assert events(routed.id) == []


def test_who_may(api, city, routed, photo):
    # The operator sees the ticket but does not decide what the public sees.
    assert_error(api(city.operator).patch(path(photo), json={"public": True}), 403, "forbidden")
    # Another department: the ticket is not theirs to see at all.
    assert api(city.water_staff).patch(path(photo), json={"public": True}).status_code == 404
    for user in (city.roads_staff, city.dispatcher, city.supervisor, city.admin):
        assert api(user).patch(path(photo), json={"public": True}).status_code == 200
    # The page's button (may_set) and the refusal (require) say the same, for everyone.
    for user in (city.operator, city.dispatcher, city.roads_staff, city.water_staff, city.supervisor, city.admin):
        try:
            attachment_publicity.require(user, routed)
            passed = True
        except PermissionDenied:
            passed = False
        assert attachment_publicity.may_set(user, routed) is passed, user.username
        assert passed is (user not in (city.operator, city.water_staff))


def test_an_assisting_unit_sees_the_photo_but_may_not_make_it_public(api, city):
    ticket = tickets.dispatch(city.dispatcher, factories.make_ticket(city.operator), "roads", assisting=["water"])
    photo = attachments.add(city.roads_staff, ticket, files.photo_with_location())
    staff = api(city.water_staff)
    assert staff.get(path(photo)).status_code == 200  # it may see the ticket, and so the photo
    assert_error(staff.patch(path(photo), json={"public": True}), 403, "forbidden")


def test_uploading_a_photo_marked_public_needs_the_same_right(api, city, routed):
    def upload(user):
        body = {"file": (io.BytesIO(files.photo_with_location()), "p.jpg"), "public": "true"}
        return api(user).post(
            f"/api/v1/tickets/{routed.number}/attachments", data=body, content_type="multipart/form-data"
        )

    assert_error(upload(city.operator), 403, "forbidden")
    assert db.session.scalars(select(Attachment)).all() == []
    assert upload(city.roads_staff).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "public"), ({"public": None}, "public"), ({"public": "yes"}, "public"), ({"public": 1}, "public")],
)
def test_a_bad_body_is_a_400_naming_the_field(api, city, photo, body, field):
    assert_error(api(city.roads_staff).patch(path(photo), json=body), 400, "invalid_input", field)


def test_an_unknown_field_or_another_tickets_attachment(api, city, routed, photo):
    staff = api(city.roads_staff)
    assert_error(staff.patch(path(photo), json={"public": True, "kind": "after"}), 400, "invalid_input")
    other = factories.make_routed_ticket(city.operator)
    response = staff.patch(f"/api/v1/tickets/{other.number}/attachments/{photo.id}", json={"public": True})
    assert_error(response, 404, "not_found")
    db.session.expire_all()
    assert db.session.get(Attachment, photo.id).public is False


def test_the_events_have_labels_in_both_languages(app):
    kinds = ("photo_made_public", "photo_made_private", "media_not_kept")
    labels = [EVENT_LABELS[kind] for kind in kinds] + list(MEDIA_NOT_KEPT_LABELS.values())
    with app.test_request_context():
        for label in labels:
            with force_locale("en"):
                english = str(label)
            with force_locale("zh_CN"):
                chinese = str(label)
            assert english != chinese and any("\u4e00" <= c <= "\u9fff" for c in chinese), english
