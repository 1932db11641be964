"""The public status page: number + last four digits → status, department, dates, reply; nothing else."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from hotline.models import Status
from hotline.services.ticketing import deadlines, merging, tickets
from tests import factories

EN = {"Accept-Language": "en"}
DIGITS = "8000"  # the factories' caller: 13800138000


def look_up(client, number: str, digits: str = DIGITS, ip: str = "198.51.100.1"):
    return client.post(
        "/status", data={"number": number, "digits": digits}, headers=EN, environ_base={"REMOTE_ADDR": ip}
    )


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


def local(value) -> str:
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def dispatched(city):
    return factories.make_routed_ticket(city.operator)


def test_the_form_is_public_and_plain(client):
    response = client.get("/status", headers=EN)
    assert response.status_code == 200
    page = text(response)
    assert "Status of my request" in page
    assert 'name="number"' in page and 'name="digits"' in page
    # the public layout: no staff menu, no login needed
    for staff_only in ("Log out", "Log a call", "Workbench", "Dispatch"):
        assert staff_only not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_a_dispatched_ticket_shows_status_department_and_dates(client, city, dispatched):
    tickets.add_note(city.roads_staff, dispatched, "内部备注：先别告诉市民")
    response = look_up(client, dispatched.number)
    assert response.status_code == 200
    page = text(response)
    assert f"Request {dispatched.number}" in page
    assert "With the department" in page
    assert "道路管理局" in page and "城乡建设 / 道路坑洼" in page
    assert local(dispatched.created_at) in page and local(dispatched.dispatched_at) in page
    assert local(dispatched.resolve_due_at) in page  # "Answer expected by", in Beijing time
    assert "Asia/Shanghai" in page
    # Nothing internal, nothing about the caller, not even what they said.
    for hidden in ("内部备注", dispatched.description, dispatched.address, "张三", "13800138000", "138 0013 8000"):
        assert hidden not in page
    # The digits are not echoed back into the form.
    assert 'value="8000"' not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_a_resolved_ticket_shows_the_public_reply(client, city, dispatched):
    tickets.accept(city.roads_staff, dispatched)
    tickets.add_note(city.roads_staff, dispatched, "施工队下周才有空")
    tickets.resolve(city.roads_staff, dispatched, "坑已于今日填平，感谢您的反映。")
    page = text(look_up(client, dispatched.number))
    assert "Answered" in page
    assert "坑已于今日填平，感谢您的反映。" in page
    assert local(dispatched.resolved_at) in page
    assert "施工队下周才有空" not in page


def test_phone_numbers_in_the_reply_are_masked(client, city, dispatched):
    # The page is public behind a number and four digits: the reply is masked as Open311's texts are.
    tickets.accept(city.roads_staff, dispatched)
    tickets.resolve(city.roads_staff, dispatched, "已与您（139 00 13 90 00）电话沟通，工单20261125-000042已办结。")
    page = text(look_up(client, dispatched.number))
    assert "已与您（***）电话沟通，工单20261125-000042已办结。" in page
    assert "13 90 00" not in page


def test_citizen_labels_for_each_stage(client, city, dispatched):
    waiting = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, waiting)
    deadlines.wait_on_citizen(city.roads_staff, waiting, "需要市民提供照片")
    unplaced = factories.make_routed_ticket(city.operator, category="other")
    closed = factories.make_ticket(city.operator, type="consultation", direct_answer="办事时间为工作日九点到五点。")
    assert (unplaced.status, closed.status) == (Status.PENDING_DISPATCH, Status.CLOSED)
    assert "Waiting for your information" in text(look_up(client, waiting.number))
    assert "需要市民提供照片" not in text(look_up(client, waiting.number))
    page = text(look_up(client, unplaced.number))
    assert "Received" in page and "Not assigned yet" in page
    page = text(look_up(client, closed.number))
    assert "Closed" in page and "办事时间为工作日九点到五点。" in page


def test_a_ticket_merged_into_another_citizens_shows_nothing_of_it(client, city, dispatched):
    """Issue 14: neither the other citizen's reply, nor its department, nor its dates; a neutral
    message under the citizen's own number."""
    child = factories.make_ticket(
        city.operator, caller_phone="13900139123", caller_name="李四", description="人民路又有坑"
    )
    merging.merge_into(city.dispatcher, child, dispatched.number)
    tickets.accept(city.roads_staff, dispatched)
    tickets.resolve(city.roads_staff, dispatched, "已修复。")
    page = text(look_up(client, child.number, "9123"))
    assert "Handled with a similar request" in page and "please call the hotline" in page
    assert child.number in page and local(child.created_at) in page
    # No dates of it either (the times fall in the same minute here: the labels say it).
    for hidden in (dispatched.number, "已修复。", "道路管理局", "Answered", "Passed to the department", "Department"):
        assert hidden not in page


def test_a_ticket_merged_into_a_confidential_one_shows_nothing_of_it(client, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True, caller_phone="13700137000")
    child = factories.make_ticket(city.operator, caller_phone="13900139123", description="人民路又有坑")
    merging.merge_into(city.supervisor, child, secret.number)
    tickets.accept(city.roads_staff, secret)
    tickets.resolve(city.roads_staff, secret, "已约谈当事人。")
    page = text(look_up(client, child.number, "9123"))
    assert "Handled with a similar request" in page and child.number in page
    for hidden in (secret.number, "已约谈当事人。", "道路管理局", "Answered", "Passed to the department", "Department"):
        assert hidden not in page


def test_a_ticket_merged_into_the_same_callers_follows_it(client, city, dispatched):
    child = factories.make_ticket(city.operator, description="人民路又有坑")  # the same phone as `dispatched`
    merging.merge_into(city.dispatcher, child, dispatched.number)
    tickets.accept(city.roads_staff, dispatched)
    tickets.resolve(city.roads_staff, dispatched, "已修复。")
    page = text(look_up(client, child.number))
    assert "Answered" in page and "已修复。" in page and "道路管理局" in page
    assert "joined with a similar one" in page
    assert dispatched.number not in page


def test_a_confidential_ticket_is_answered_by_phone_only(client, city):
    secret = factories.make_routed_ticket(city.operator, confidential=True, type="report")
    page = text(look_up(client, secret.number))
    assert "confidential" in page and "by phone only" in page
    for hidden in ("With the department", "道路管理局", "城乡建设", local(secret.created_at)):
        assert hidden not in page


def test_wrong_digits_and_unknown_number_give_the_same_answer(client, city, dispatched):
    wrong_digits = look_up(client, dispatched.number, "1234")
    unknown_number = look_up(client, "20991231-999999", DIGITS)
    assert wrong_digits.status_code == unknown_number.status_code == 200
    assert "No request matches this ticket number and these digits" in text(wrong_digits)
    # The very same page, but for the number the visitor typed.
    assert text(wrong_digits).replace(dispatched.number, "N") == text(unknown_number).replace("20991231-999999", "N")
    for page in (text(wrong_digits), text(unknown_number)):
        assert "道路管理局" not in page and "With the department" not in page


def test_the_number_is_read_as_people_type_it(client, dispatched):
    full_width = dispatched.number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert "With the department" in text(look_up(client, f"  {full_width} ", "８０００"))
    assert "With the department" in text(look_up(client, dispatched.number, " 8000 "))


@pytest.mark.parametrize(
    ("number", "digits", "message"),
    [
        ("", "8000", "Enter the ticket number"),
        ("20261125-000001", "", "Enter exactly the last four digits"),
        ("20261125-000001", "800", "Enter exactly the last four digits"),
        ("20261125-000001", "13800138000", "Enter exactly the last four digits"),
    ],
)
def test_incomplete_input_is_explained(client, number, digits, message):
    response = look_up(client, number, digits)
    assert response.status_code == 400
    assert message in text(response)


@pytest.mark.parametrize("number", ["2026\x001125-000001", "x" * 5000, "'; DROP TABLE ticket; --", "<script>"])
def test_odd_numbers_are_just_not_found(client, number):
    response = look_up(client, number)
    assert response.status_code == 200
    assert "No request matches" in text(response)
    assert "<script>" not in response.get_data(as_text=True)


def test_look_ups_are_limited_per_address(client, app, city, dispatched, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_STATUS_LOOKUPS", 3)
    for i in range(3):
        assert look_up(client, f"20991231-00000{i}").status_code == 200
    refused = look_up(client, dispatched.number)  # even the right pair, once over the limit
    assert refused.status_code == 429
    assert "Too many look-ups" in text(refused)
    assert "With the department" not in text(refused)
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    # Another address is not held back by this one.
    assert "With the department" in text(look_up(client, dispatched.number, ip="198.51.100.2"))


def test_look_ups_are_limited_per_ticket_number(client, app, dispatched, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_STATUS_LOOKUPS", 3)
    for i in range(3):  # a guesser spreading over addresses
        assert look_up(client, dispatched.number, f"000{i}", ip=f"203.0.113.{i}").status_code == 200
    refused = look_up(client, dispatched.number, DIGITS, ip="203.0.113.99")
    assert refused.status_code == 429
    assert "Too many look-ups" in text(refused)
    # Other numbers are unaffected.
    assert look_up(client, "20991231-000001", ip="203.0.113.99").status_code == 200


def test_the_form_needs_its_csrf_token(client, app, dispatched, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    forged = look_up(client, dispatched.number)
    assert forged.status_code == 400
    assert "The form has expired" in text(forged)
    assert "With the department" not in text(forged)
    assert "Log out" not in text(forged)  # still the public page
    page = client.get("/status", headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/status", data={"number": dispatched.number, "digits": DIGITS, "csrf_token": token}, headers=EN
    )
    assert response.status_code == 200
    assert "With the department" in text(response)


def test_a_direct_answer_shows_as_answered_by_the_hotline(client, city, dispatched):
    """Closed at intake (直接办结): the hotline answered, no department was needed; not "not
    assigned yet", which reads as a request still waiting for someone."""
    answered = factories.make_ticket(city.operator, type="consultation", direct_answer="工作日 9:00–17:00 可办理。")
    assert answered.status == Status.CLOSED and answered.department_id is None
    page = text(look_up(client, answered.number))
    assert "Answered by the hotline" in page
    assert "The hotline (answered when you called)" in page
    assert "Not assigned yet" not in page
    assert "工作日 9:00–17:00 可办理。" in page
    # In Chinese too.
    zh = client.post(
        "/status", data={"number": answered.number, "digits": DIGITS}, headers={"Accept-Language": "zh-CN"}
    )
    assert "热线已直接答复" in text(zh) and "尚未分派" not in text(zh)
    # A ticket a department holds still names it; one not yet routed still says so.
    assert "道路管理局" in text(look_up(client, dispatched.number))
    waiting = factories.make_ticket(city.operator)
    assert "Not assigned yet" in text(look_up(client, waiting.number))
