"""The words on Chinese and English pages: one English word with two meanings gets two
translations (举报 is only the ticket type, a statistics report is 报表), and what the app
stores as codes is put into words in the reader's language."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from hotline.extensions import db
from hotline.models import Status
from hotline.services.citizens import outbox, senders
from hotline.services.dispatch import routing
from hotline.services.reporting import report_figures
from hotline.services.ticketing.transition import record_event
from hotline.web import admin_calendar
from tests import factories
from tests.web.conftest import text_of
from tests.web.report_data import RANGE, make_data


def in_chinese(login, user):
    user.locale = "zh_CN"
    db.session.commit()
    return login(user)


def test_the_excel_report_is_a_report_not_a_whistle_blowing(login, city):
    make_data(city)
    response = in_chinese(login, city.supervisor).get(f"/reports/response-times.xlsx?{RANGE}&group_by=district")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.worksheets[0].title == "报表"
    notes = [(row[0].value, row[1].value) for row in workbook.worksheets[-1].iter_rows()]
    assert notes[0] == ("报表", "热线统计报表")
    assert not any("举报" in str(cell) for note in notes for cell in note)


def test_a_report_ticket_is_still_a_report(login, city):
    ticket = factories.make_ticket(city.operator, type="report")
    page = text_of(in_chinese(login, city.supervisor).get(f"/tickets/{ticket.number}"))
    assert "举报" in page and "报表" not in page.split("<main", 1)[-1]


def test_the_view_log_shows_ip_addresses(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = in_chinese(login, city.supervisor)
    client.get(f"/tickets/{ticket.number}")
    page = text_of(client.get(f"/tickets/{ticket.number}/views"))
    assert "IP 地址" in page and "事发地址" not in page


def test_the_outbox_names_the_recipient(login, city, app, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    factories.make_ticket(city.operator)
    page = text_of(in_chinese(login, city.admin).get("/admin/outbox/"))
    assert "接收号码" in page and "结束日期" not in page


@pytest.mark.parametrize("path", ["/reports/misrouting", "/reports/response-times"])
def test_report_dates_are_from_and_to(login, city, path):
    page = text_of(in_chinese(login, city.supervisor).get(path))
    assert "开始日期" in page and "结束日期" in page and "接收号码" not in page


def test_english_pages_keep_their_words(login, city):
    page = text_of(login(city.supervisor).get("/reports/misrouting"))
    assert ">Reports<" in page and 'for="from">From<' in page and 'for="to">To<' in page


def _figures_as_of(html: str) -> str:
    return html.split('class="figures-as-of">', 1)[1].split("</span>", 1)[0].strip()


def test_the_dashboard_says_when_its_figures_are_from_in_whole_chinese_sentences(login, city):
    make_data(city)
    client = in_chinese(login, city.supervisor)
    note = _figures_as_of(text_of(client.get(f"/reports/response-times?{RANGE}")))
    assert note.startswith("数据截至 ") and "每分钟刷新。" in note
    assert "中位数和分位值与精确值的误差不超过 1 分钟或 1%。" in note
    assert not re.search(r"[;.,()]|\d %", note), note  # no English punctuation, "1%" as the glossary writes it
    report_figures.mark_days([date(2026, 11, 3)])
    db.session.commit()
    note = _figures_as_of(text_of(client.get(f"/reports/response-times?{RANGE}")))
    assert "每分钟刷新；另有 1 天的变动尚未计入。" in note and "待更新" not in note


def test_holiday_names_are_in_the_readers_language(login, city):
    """The package stores English names (National Day), holiday-cn files Chinese ones (国庆节)."""
    chinese = text_of(in_chinese(login, city.admin).get("/admin/calendar/?year=2026"))
    table = chinese[chinese.index('id="calendar-days"') :]
    assert "国庆节" in table and "元旦" in table and "春节" in table
    assert "National Day" not in table and "New Year" not in table
    city.admin.locale = "en"
    db.session.commit()
    english = text_of(login(city.admin).get("/admin/calendar/?year=2026"))
    assert "National Day" in english[english.index('id="calendar-days"') :]


def test_missing_years_are_listed_in_chinese(login, city, holidays, monkeypatch):
    monkeypatch.setattr(admin_calendar, "local_today", lambda: date(2199, 11, 2))
    page = text_of(in_chinese(login, city.admin).get("/tickets"))
    assert "2199和2200" in page and "2199, 2200" not in page


def test_outbox_errors_are_in_the_readers_language(login, city, app, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    held = outbox.for_ticket(factories.make_ticket(city.operator))[0]  # no Twilio here: held
    refused = outbox.for_ticket(factories.make_ticket(city.operator))[0]
    refused.last_error = senders.error_record(
        "provider_answered", status=400, provider_code=21211, provider_text="The 'To' number is not valid."
    )
    older = outbox.for_ticket(factories.make_ticket(city.operator))[0]
    older.last_error = "Twilio reported undelivered (error 30003)"  # stored as text before codes
    db.session.commit()
    page = text_of(in_chinese(login, city.admin).get("/admin/outbox/"))

    def cell(message):
        row = page[page.index(f'id="message-{message.id}"') :]
        return row.split("</tr>", 1)[0]

    assert "未发送：未配置短信发送通道" in cell(held) and "not sent" not in cell(held).lower()
    assert "Twilio 返回 HTTP 状态码 400。Twilio 错误码 21211。Twilio 原文：The 'To' number is not valid." in cell(
        refused
    )
    assert "Twilio reported undelivered (error 30003)" in cell(older)
    assert "全部（3）" in page  # the status filter's counts, in Chinese brackets
    english = text_of(_english(login, city.admin).get("/admin/outbox/"))
    assert "Twilio answered with HTTP status 400. Twilio error code 21211." in english


def _english(login, user):
    user.locale = "en"
    db.session.commit()
    return login(user)


class TestRoutingReasons:
    """Routing runs in a job, in no reader's language: the event keeps codes, and the timeline and
    the API put them into the reader's words."""

    @pytest.fixture
    def routed(self, city):
        rule = routing.save_rule({"department": "water", "priority": 10, "keywords": ["路面"], "name": "路面转水务"})
        ticket = factories.make_routed_ticket(city.operator)
        return ticket, rule

    def test_the_timeline_in_english_and_chinese(self, login, city, routed):
        ticket, rule = routed
        english = text_of(_english(login, city.supervisor).get(f"/tickets/{ticket.number}"))
        assert f"(rule {rule.id} (priority 10) 路面转水务)" in english and "派单规则" not in english
        chinese = text_of(in_chinese(login, city.supervisor).get(f"/tickets/{ticket.number}"))
        assert f"（派单规则 {rule.id}（优先级 10）路面转水务）" in chinese

    def test_the_api_gives_the_reason_in_the_callers_language_beside_its_code(self, city, routed, api):
        ticket, rule = routed
        for language, reason in (
            ("en", f"rule {rule.id} (priority 10) 路面转水务"),
            ("zh-CN", f"派单规则 {rule.id}（优先级 10）路面转水务"),
        ):
            response = api(city.supervisor).get(
                f"/api/v1/tickets/{ticket.number}", headers={"Accept-Language": language}
            )
            routed_event = next(e for e in response.get_json()["events"] if e["kind"] == "routed")
            assert routed_event["data"]["by"] == "rule" and routed_event["data"]["reason"] == reason

    def test_an_event_stored_with_a_text_reason_still_shows_it(self, login, city):
        ticket = factories.make_ticket(city.operator)
        # As an older release wrote it: a text in one language, no code.
        record_event(ticket, None, "routed", Status.NEW, Status.NEW, {"department": "roads", "reason": "旧系统分派"})
        db.session.commit()
        assert "(旧系统分派)" in text_of(_english(login, city.supervisor).get(f"/tickets/{ticket.number}"))


def test_a_persons_name_and_a_unit_of_time(login, city):
    client = in_chinese(login, city.admin)
    users = text_of(client.get("/admin/users/"))
    assert "<th>姓名</th>" in users and "<th>名称</th>" not in users
    policy = text_of(client.get("/admin/sla-policies/new"))
    assert "计时单位" in policy


def test_the_rule_testers_trace_reads_as_chinese(login, city):
    routing.save_rule({"department": "water", "priority": 10, "keywords": ["路灯", "不亮", "灯杆"], "name": "路灯"})
    sample = "category=potholes&district=east&description=路面有坑"
    html = text_of(in_chinese(login, city.admin).get(f"/admin/routing-rules/?{sample}"))
    # Any one keyword matches: the words are alternatives, in Chinese brackets and list marks.
    assert "（规则要求为 路灯、不亮或灯杆）" in html
    assert "路灯, 不亮, or 灯杆" in text_of(_english(login, city.admin).get(f"/admin/routing-rules/?{sample}"))


# ASCII punctuation touching Chinese in a page's visible text: a template that glues a
# translated label to ":" or "(...)" writes English punctuation into a Chinese sentence.
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_ASCII_BESIDE_CJK = re.compile(rf"(?<={_CJK})\s*[,;:?!()]|[,;:?!()]\s*(?={_CJK})|{_CJK}\.(\s|$)")


def _visible_texts(page: str) -> list[str]:
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    return [html.unescape(text).strip() for text in re.split(r"<[^>]+>", page) if text.strip()]


def test_chinese_pages_use_chinese_punctuation(login, city, app, monkeypatch):
    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    make_data(city)
    routing.save_rule({"department": "water", "priority": 10, "keywords": ["路面", "坑"], "name": "路面转水务"})
    ticket = factories.make_routed_ticket(city.operator)
    tester = "/admin/routing-rules/?category=potholes&district=east&description=路面有坑"
    pages = {
        city.supervisor: [
            f"/reports/response-times?{RANGE}",
            f"/reports/response-times?{RANGE}&group_by=category",
            f"/reports/misrouting?{RANGE}",
            f"/reports/tickets?{RANGE}&measure=received",
            f"/tickets/{ticket.number}",
            f"/tickets/{ticket.number}/views",
            "/supervision/overdue",
        ],
        city.admin: ["/admin/outbox/", "/admin/calendar/?year=2026", tester, "/admin/sla-policies/", "/admin/users/"],
        city.operator: ["/tickets/new"],
        city.dispatcher: ["/dispatch"],
        city.roads_staff: ["/tickets", "/tickets?tab=all"],
    }
    problems = []
    for user, paths in pages.items():
        client = in_chinese(login, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            problems += [(path, t) for t in _visible_texts(text_of(response)) if _ASCII_BESIDE_CJK.search(t)]
    assert problems == []


def test_the_excel_headers_read_as_chinese(login, city):
    make_data(city)
    response = in_chinese(login, city.supervisor).get(f"/reports/response-times.xlsx?{RANGE}&group_by=district")
    header = [cell.value for cell in load_workbook(io.BytesIO(response.get_data())).worksheets[0][1]]
    assert any(h.endswith("：中位数") for h in header) and not any(": " in h for h in header)
