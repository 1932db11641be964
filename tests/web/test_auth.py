from flask_login import current_user

from hotline.extensions import db
from tests import factories
from tests.web.conftest import text_of, ticket_count

EN = {"Accept-Language": "en"}


def test_login_success_redirects_home(client, city):
    response = client.post("/login", data={"username": "operator", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"
    with client:
        client.get("/tickets")
        assert current_user.username == "operator"


def test_login_failure_rerenders_with_message(client, city):
    response = client.post("/login", data={"username": "operator", "password": "wrong"}, headers=EN)
    assert response.status_code == 200
    assert "Wrong username or password." in text_of(response)
    assert client.get("/tickets").status_code == 302  # still anonymous


def test_unknown_user_and_inactive_user_fail_alike(client, city):
    city.operator.active = False
    db.session.commit()
    for username in ("operator", "nobody"):
        response = client.post("/login", data={"username": username, "password": factories.PASSWORD}, headers=EN)
        assert response.status_code == 200
        assert "Wrong username or password." in text_of(response)


def test_login_follows_a_local_next_only(client, city):
    data = {"username": "dispatcher", "password": factories.PASSWORD}
    response = client.post("/login", data={**data, "next": "/tickets?status=new"})
    assert response.location == "/tickets?status=new"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example"):
        response = client.post("/login", data={**data, "next": evil})
        assert response.location == "/", evil
        client.post("/logout")


def test_anonymous_is_sent_to_login_with_next(client, city):
    response = client.get("/dispatch")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert "dispatch" in response.location


def test_logout(login, city):
    client = login(city.operator)
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/tickets/new").status_code == 302


def test_home_sends_each_role_to_its_desk(login, city):
    desks = {
        city.operator: "/tickets/new",
        city.dispatcher: "/dispatch",
        city.roads_staff: "/tickets",
        city.supervisor: "/reports/response-times",
        city.admin: "/reports/response-times",
    }
    for user, desk in desks.items():
        response = login(user).get("/")
        assert response.status_code == 302
        assert response.location == desk, user.role


def test_csrf_is_required_when_enabled(app, login, city):
    client = login(city.operator)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/tickets/new").get_data(as_text=True)
        assert 'name="csrf_token"' in page
        response = client.post("/tickets/new", data={"caller_phone": "13800138000", "description": "x"})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert ticket_count() == 0


def test_every_post_form_carries_a_csrf_token(app, login, city):
    ticket = factories.make_routed_ticket(city.operator)
    pages = [(login(city.roads_staff), f"/tickets/{ticket.number}"), (login(city.operator), "/tickets/new")]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for client, url in pages:
            html = client.get(url).get_data(as_text=True)
            forms = html.count('method="post"')
            assert forms >= 3  # the page's own forms plus language switch and logout
            assert html.count('name="csrf_token"') == forms, url
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
