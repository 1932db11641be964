"""The citizen's own web report (/report, 网上留言) and the public board (/board), issue 18 item 6:
a phone proved by a texted code (hashed, expiring, a few tries), a topic in plain words, a pin or
an address, the ticket on the `web` channel with its number texted, limits with clear refusals,
and the board showing only what the citizen agreed to and nothing that names them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, OutboundMessage, PhoneCode, Ticket, WebReport
from hotline.services.citizens import outbox, web_reports
from hotline.services.platform import queueing
from hotline.services.ticketing import tickets
from tests import factories, fake_twilio, geo_city

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
PHONE = "13900139000"
E164 = "+8613900139000"


@pytest.fixture(autouse=True)
def _texts_sent_by_the_test(monkeypatch):
    """Texts are sent by calling the outbox (as a worker would), not through Redis."""
    monkeypatch.setattr(queueing, "enqueue_send", lambda message_id: False)


@pytest.fixture
def twilio(app, monkeypatch):
    with fake_twilio.running(app, monkeypatch) as fake:
        yield fake


@pytest.fixture
def streetlights(city):
    category = factories.make_category("streetlights", city.roads, city.infrastructure, name="路灯")
    geo_city.load()
    return category


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


def send_all() -> None:
    for message_id in outbox.due_ids():
        outbox.send(message_id)


def last_code(fake, to: str = E164) -> str:
    send_all()
    body = [m for m in fake.messages() if m["To"] == to][-1]["Body"]
    return re.search(r"\d{6}", body).group(0)


def prove(client, fake, phone: str = PHONE) -> None:
    response = client.post("/report/code", data={"phone": phone}, headers=EN)
    assert response.status_code == 303, text(response)
    response = client.post("/report/verify", data={"code": last_code(fake, "+86" + phone)}, headers=EN)
    assert response.status_code == 303, text(response)


def report(client, **overrides):
    lat, long = geo_city.EAST
    data = {"topic": "streetlight", "description": "人民路 12 号门口的路灯不亮了。", "lat": str(lat), "long": str(long)}
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/report", data=data, headers=EN)


def test_the_page_is_public_and_asks_for_the_phone_first(client):
    response = client.get("/report", headers=ZH)
    assert response.status_code == 200
    page = text(response)
    assert "反映问题" in page and 'name="phone"' in page
    assert 'name="description"' not in page  # no report before the phone is proved
    assert response.headers["Cache-Control"] == "no-store"


def test_a_proved_phone_reports_a_broken_streetlight_with_a_pin(client, city, streetlights, twilio):
    prove(client, twilio)
    page = text(client.get("/report", headers=EN))
    assert 'name="description"' in page and "A streetlight is out or broken" in page
    assert "139****9000" in page or "9000" in page  # the proved phone, masked

    response = report(client, public="y")
    assert response.status_code == 303, text(response)  # post/redirect/get: a reload sends nothing again
    ticket = db.session.scalars(select(Ticket)).one()
    done = text(client.get("/report", headers=EN))
    assert ticket.number in done and "your report is received" in done
    assert ticket.number not in text(client.get("/report", headers=EN))  # shown once
    assert ticket.channel == "web" and ticket.caller_phone == E164
    assert ticket.category_id == streetlights.id and ticket.type == "report"
    assert ticket.district_id == city.east.id  # the point fills the district
    assert (ticket.lat, ticket.long) == geo_city.EAST
    assert ticket.created_by_id is None
    web = db.session.scalars(select(WebReport)).one()
    assert (web.ticket_id, web.topic, web.public) == (ticket.id, "streetlight", True)

    send_all()
    created = [m for m in twilio.messages() if m["To"] == E164 and ticket.number in m["Body"]]
    assert len(created) == 1  # the number, texted as for a call

    # and the citizen follows it on /status with the number and the last four digits
    status = client.post("/status", data={"number": ticket.number, "digits": "9000"}, headers=EN)
    assert f"Request {ticket.number}" in text(status)


def test_an_address_from_the_gazetteer_gives_the_point_and_district(client, city, streetlights, twilio):
    prove(client, twilio)
    places = client.get("/report/places?q=人民").get_json()["places"]
    assert places[0]["name"] == "人民路" and places[0]["district_name"] == "东城区"
    assert "department" not in places[0]
    response = report(client, lat=None, long=None, address="人民路")
    assert response.status_code == 303, text(response)
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.district_id == city.east.id and ticket.lat == pytest.approx(39.91)


def test_the_code_is_stored_hashed_and_texted_through_the_outbox(client, twilio):
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    code = last_code(twilio)
    row = db.session.scalars(select(PhoneCode)).one()
    assert row.phone == E164 and code not in row.code_hash and len(row.code_hash) == 64
    message = db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "phone_code")).one()
    assert message.ticket_id is None and message.status == "sent"


def test_a_wrong_code_counts_and_the_tries_run_out(client, twilio):
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    right = last_code(twilio)
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/report/verify", data={"code": wrong}, headers=EN)
    assert response.status_code == 400 and "This code is not right. 4 tries left." in text(response)
    for _ in range(4):
        client.post("/report/verify", data={"code": wrong}, headers=EN)
    response = client.post("/report/verify", data={"code": right}, headers=EN)
    assert response.status_code == 400 and "Too many wrong tries for this code" in text(response)
    assert 'name="description"' not in text(client.get("/report"))


def test_an_expired_code_is_refused(client, twilio):
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    code = last_code(twilio)
    row = db.session.scalars(select(PhoneCode)).one()
    row.expires_at = row.created_at
    db.session.commit()
    response = client.post("/report/verify", data={"code": code}, headers=EN)
    assert response.status_code == 400 and "This code has expired" in text(response)


def test_the_code_works_only_in_the_browser_that_asked_for_it(client, app, twilio):
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    code = last_code(twilio)  # whoever reads the outbox (or the phone's screen) has the code
    other = app.test_client()
    other.post("/report/code", data={"phone": PHONE}, headers=EN)  # texts a new code, for that browser
    other_code = last_code(twilio)
    response = other.post("/report/verify", data={"code": code}, headers=EN)
    if code != other_code:
        assert response.status_code == 400 and "This code is not right" in text(response)
    assert client.post("/report/verify", data={"code": other_code}, headers=EN).status_code == 400
    assert 'name="description"' not in text(client.get("/report"))


def test_a_new_code_replaces_the_old_one(client, twilio):
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    first = last_code(twilio)
    client.post("/report/code", data={"phone": PHONE}, headers=EN)
    second = last_code(twilio)
    if first != second:
        assert client.post("/report/verify", data={"code": first}, headers=EN).status_code == 400
    assert client.post("/report/verify", data={"code": second}, headers=EN).status_code == 303


def test_a_report_without_a_proved_phone_is_refused_and_nothing_is_saved(client, city, streetlights):
    response = report(client)
    assert response.status_code == 303  # back to the first step, told why
    page = text(client.get("/report", headers=EN))
    assert "prove your phone again" in page and 'name="phone"' in page
    assert db.session.scalars(select(Ticket)).first() is None


def test_bad_input_gets_every_message_and_stores_nothing(client, city, streetlights, twilio):
    prove(client, twilio)
    response = report(client, topic="", description="坏", lat=None, long=None)
    assert response.status_code == 400
    page = text(response)
    assert "Choose what your report is about." in page
    assert "Describe the problem in a few words" in page
    assert "Drop a pin on the map or type an address." in page
    lat, long = geo_city.OUTSIDE
    response = report(client, lat=str(lat), long=str(long))
    assert response.status_code == 400
    assert db.session.scalars(select(Ticket)).first() is None
    assert db.session.scalars(select(WebReport)).first() is None


def test_a_number_that_is_no_phone_is_refused_in_chinese(client):
    response = client.post("/report/code", data={"phone": "12"}, headers=ZH)
    assert response.status_code == 400 and "这不是可以接收短信的手机号码" in text(response)
    response = client.post("/report/code", data={"phone": " "}, headers=ZH)
    assert response.status_code == 400 and "请输入您的手机号码。" in text(response)
    assert db.session.scalars(select(PhoneCode)).first() is None


def test_the_forms_need_their_csrf_token(client, app, city, streetlights, twilio, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    forged = client.post("/report/code", data={"phone": PHONE}, headers=EN)
    assert forged.status_code == 400 and "The form has expired" in text(forged)
    assert 'name="phone"' in text(forged)  # the report page, not the status page
    assert db.session.scalars(select(PhoneCode)).first() is None
    page = client.get("/report", headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/report/code", data={"phone": PHONE, "csrf_token": token}, headers=EN)
    assert response.status_code == 303
    forged = client.post("/report/verify", data={"code": last_code(twilio)}, headers=EN)
    assert forged.status_code == 400 and "The form has expired" in text(forged)
    response = client.post("/report/verify", data={"code": last_code(twilio), "csrf_token": token}, headers=EN)
    assert response.status_code == 303
    forged = report(client)
    assert forged.status_code == 400 and "The form has expired" in text(forged)
    assert db.session.scalars(select(Ticket)).first() is None
    assert report(client, csrf_token=token).status_code == 303


def test_codes_are_limited_per_phone(client, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_REPORT_CODES_PER_PHONE", 2)
    for _ in range(2):
        assert client.post("/report/code", data={"phone": PHONE}, headers=EN).status_code == 303
    response = client.post("/report/code", data={"phone": PHONE}, headers=ZH)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "发送到这个手机的验证码太多了" in text(response)
    assert len(db.session.scalars(select(PhoneCode)).all()) == 2


def test_codes_are_limited_per_ip(client, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_REPORT_CODES_PER_IP", 1)
    assert client.post("/report/code", data={"phone": PHONE}, headers=EN).status_code == 303
    response = client.post("/report/code", data={"phone": "13700137000"}, headers=EN)
    assert response.status_code == 429 and "Too many codes were asked for from this connection." in text(response)


def test_reports_are_limited_per_phone_and_per_place(client, city, streetlights, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_REPORTS_PER_PHONE", 1)
    prove(client, twilio)
    assert report(client).status_code == 303
    response = report(client, description="另一处路灯也不亮了。")
    assert response.status_code == 429 and "This phone has sent the most reports allowed for now." in text(response)

    monkeypatch.setitem(app.config, "HOTLINE_REPORTS_PER_PHONE", 10)
    monkeypatch.setitem(app.config, "HOTLINE_REPORTS_PER_ADDRESS", 2)  # the first report counted one
    other = app.test_client()
    prove(other, twilio, "13700137000")
    assert report(other).status_code == 303
    response = report(other)
    assert response.status_code == 429 and "This place has had the most reports allowed" in text(response)
    assert len(db.session.scalars(select(Ticket)).all()) == 2


def test_the_board_shows_only_agreed_reports_and_the_units_answer(client, city, streetlights, twilio):
    prove(client, twilio)
    assert report(client, public="y", description="人民路路灯不亮，电话13900139000。").status_code == 303
    assert report(client, description="这条不公开：我家门口的灯坏了。", lat="39.905", long="116.385").status_code == 303
    shown, hidden = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()

    page = text(client.get("/board", headers=EN))
    assert "人民路路灯不亮" in page and "这条不公开" not in page
    for private in (shown.number, "13900139000", "139 0013 9000", hidden.number):
        assert private not in page
    assert "Being handled" in page

    routed = tickets.route(shown.id)
    tickets.accept(city.roads_staff, routed)
    tickets.add_note(city.roads_staff, routed, "内部：换灯泡")
    tickets.resolve(city.roads_staff, routed, "路灯已于今日修复，感谢反映。")
    page = text(client.get("/board", headers=EN))
    assert "路灯已于今日修复，感谢反映。" in page and "道路管理局" in page
    assert "内部：换灯泡" not in page


def test_the_board_is_paged_newest_first(client, city, streetlights):
    for i in range(3):
        ticket = factories.make_ticket(city.operator, description=f"第{i}条留言内容")
        db.session.add(WebReport(ticket_id=ticket.id, topic="road", public=True))
        db.session.commit()
    entries, more = web_reports.board(1, per_page=2)
    assert [e.description for e in entries] == ["第2条留言内容", "第1条留言内容"] and more
    entries, more = web_reports.board(2, per_page=2)
    assert [e.description for e in entries] == ["第0条留言内容"] and not more
    assert client.get("/board?page=abc").status_code == 200


def test_topics_are_offered_only_where_the_city_has_their_category(client, city, twilio):
    prove(client, twilio)
    page = text(client.get("/report", headers=EN))
    assert "A pothole or a broken road or pavement" in page and "Something else" in page
    assert "A streetlight is out or broken" not in page  # no such category in this city
    assert db.session.scalar(select(Category).where(Category.code == "streetlights")) is None


def test_a_phone_that_stopped_our_texts_is_told_how_to_get_a_code(client, twilio):
    outbox.set_opt_out(E164, True)
    response = client.post("/report/code", data={"phone": PHONE}, headers=ZH)
    assert response.status_code == 400 and "订阅" in text(response) and "先" in text(response)
    assert db.session.scalars(select(PhoneCode)).first() is None
    outbox.set_opt_out(E164, False)
    assert client.post("/report/code", data={"phone": PHONE}, headers=EN).status_code == 303
    assert re.search(r"\d{6}", last_code(twilio))
