from hotline.extensions import db
from tests import factories
from tests.web.conftest import text_of


def test_switching_language_changes_the_page_and_is_remembered(login, city):
    client = login(city.roads_staff)
    assert "Workbench" in text_of(client.get("/tickets"))
    response = client.post("/locale", data={"locale": "zh_CN", "next": "/tickets?tab=all"})
    assert response.status_code == 302
    assert response.location == "/tickets?tab=all"
    html = text_of(client.get("/tickets"))
    assert "工作台" in html and "Workbench" not in html
    db.session.refresh(city.roads_staff)
    assert city.roads_staff.locale == "zh_CN"
    # The choice follows the user to a new session.
    assert "工作台" in text_of(login(city.roads_staff).get("/tickets"))
    client.post("/locale", data={"locale": "en"})
    assert "Workbench" in text_of(client.get("/tickets"))


def test_anonymous_choice_is_kept_in_the_session(client, city):
    client.post("/locale", data={"locale": "en"})
    assert "Wrong username or password." in text_of(client.post("/login", data={"username": "x", "password": "y"}))
    client.post("/locale", data={"locale": "zh_CN"})
    assert "用户名或密码错误。" in text_of(client.post("/login", data={"username": "x", "password": "y"}))


def test_unknown_language_is_ignored(login, city):
    client = login(city.operator)
    response = client.post("/locale", data={"locale": "xx", "next": "https://evil.example/"})
    assert response.location == "/"
    db.session.refresh(city.operator)
    assert city.operator.locale == "en"


def test_service_messages_are_translated(login, city):
    city.operator.locale = "zh_CN"
    db.session.commit()
    client = login(city.operator)
    html = text_of(
        client.post(
            "/tickets/new",
            data={"caller_phone": "12ab", "type": "complaint", "category": "potholes", "description": "x"},
        )
    )
    assert "“12ab”不是有效的电话号码。" in html
    ticket = factories.make_routed_ticket(city.operator)
    html = text_of(client.get(f"/tickets/{ticket.number}"))
    assert "已派单" in html  # the status badge


def test_every_page_renders_in_both_languages(login, city):
    """Translations go through %-formatting in templates: a stray % in one breaks the page."""
    from hotline.services.ticketing import tickets

    routed = factories.make_routed_ticket(city.operator)
    tickets.add_note(city.roads_staff, routed, "备注")
    waiting = factories.make_routed_ticket(city.operator, category="other")
    working = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, working)
    tickets.resolve(city.roads_staff, working, "已修复")
    tickets.return_to_dispatch(city.roads_staff, factories.make_routed_ticket(city.operator), "不属于本单位")
    pages = {
        city.operator: ["/tickets/new?phone=13800138000", "/tickets", f"/tickets/{routed.number}", "/dispatch"],
        city.dispatcher: ["/dispatch", f"/tickets/{waiting.number}", "/tickets?status=pending_dispatch"],
        city.roads_staff: ["/tickets", "/tickets?tab=all", f"/tickets/{routed.number}", f"/tickets/{working.number}"],
        city.supervisor: [
            "/reports/response-times",
            "/reports/response-times?from=bad",
            "/tickets/caller-history?phone=13800138000",
        ],
    }
    expected = {"zh_CN": "退出", "en": "Log out"}
    for user, urls in pages.items():
        client = login(user)
        for locale, marker in expected.items():
            client.post("/locale", data={"locale": locale})
            for url in urls:
                response = client.get(url)
                assert response.status_code in (200, 403), (locale, url)
                if "caller-history" not in url:
                    assert marker in text_of(response), (locale, url)


def test_the_new_pages_render_in_both_languages(login, city, monkeypatch):
    """The routing, dispatch and SLA administration pages, with data on them, in Chinese and English."""
    from datetime import timedelta

    from hotline.models.types import utcnow
    from hotline.services.clocks import policies
    from hotline.services.dispatch import routing, suggestions
    from hotline.services.ticketing import deadlines, merging, returns, tickets
    from hotline.web import admin_calendar

    rule = routing.save_rule(
        {"priority": 5, "name": "路灯", "keywords": ["路灯"], "department": "water", "assisting": ["roads"]}
    )
    policy = policies.create_policy(
        city.admin,
        {
            "category": "infrastructure",
            "urgency": "normal",
            "accept_amount": 2,
            "accept_unit": "working_hours",
            "resolve_amount": 3,
            "resolve_unit": "working_days",
        },
    )
    assisted = factories.make_routed_ticket(city.operator, description="路灯不亮")  # water leads, roads assists
    tickets.accept(city.water_staff, assisted)
    deadlines.request_extension(city.water_staff, assisted, 2, "材料未到")
    late = factories.make_routed_ticket(city.operator)
    late.resolve_due_at = utcnow() - timedelta(hours=5)
    late.dispatched_at -= timedelta(days=20)
    db.session.commit()
    returns.return_to_dispatch(city.roads_staff, late, "不归我们")  # after the window: a request
    waiting = factories.make_routed_ticket(city.operator, category="other")
    child = factories.make_routed_ticket(city.operator, category="other")
    merging.merge_into(city.dispatcher, child, late.number)
    monkeypatch.setattr(suggestions, "suggest", lambda text, limit=3: [suggestions.Suggestion("water", 0.5)])
    monkeypatch.setattr(admin_calendar, "local_today", lambda: utcnow().date().replace(year=2199, month=11))
    pages = {
        city.admin: [
            "/admin/routing-rules/",
            "/admin/routing-rules/?category=potholes&district=east&description=路灯不亮",
            "/admin/routing-rules/new",
            f"/admin/routing-rules/{rule.id}/edit",
            f"/admin/routing-rules/{rule.id}/delete",
            "/admin/sla-policies/",
            "/admin/sla-policies/new",
            f"/admin/sla-policies/{policy.id}/edit",
            f"/admin/sla-policies/{policy.id}/delete",
            "/admin/calendar/",
            "/admin/calendar/?year=2026",
            "/admin/calendar/?year=2190",
            "/reports/misrouting",
        ],
        city.supervisor: ["/supervision/overdue", "/reports/misrouting?from=bad", f"/tickets/{late.number}"],
        city.dispatcher: ["/dispatch", f"/tickets/{child.number}", f"/tickets/{waiting.number}"],
        city.roads_staff: ["/tickets", f"/tickets/{assisted.number}", f"/tickets/{late.number}"],
        city.water_staff: [f"/tickets/{assisted.number}"],
    }
    expected = {"zh_CN": "退出", "en": "Log out"}
    for user, urls in pages.items():
        client = login(user)
        for locale, marker in expected.items():
            client.post("/locale", data={"locale": locale})
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, (locale, url)
                assert marker in text_of(response), (locale, url)
    client = login(city.admin)
    client.post("/locale", data={"locale": "zh_CN"})
    html = text_of(client.get("/admin/routing-rules/"))
    assert "派单规则" in html and "New rule" not in html
    assert "节假日" in text_of(client.get("/admin/calendar/?year=2190"))
