"""The server-wide body limit (HOTLINE_MAX_REQUEST_BYTES, Flask's MAX_CONTENT_LENGTH): a body over
it is refused with a 413 before anything reads it (the CSRF check reads a page's whole form before
any view), in each surface's form: the error page, the API's JSON error body, Open311's; nothing
is saved. A view may lower the limit for its request (the API's 256 KiB), never raise it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from config import Config
from hotline.extensions import db
from hotline.models import Ticket
from hotline.services.accounts.users import issue_token
from hotline.services.ticketing import attachments
from tests.api.test_create import CALL
from tests.web.test_intake import FORM

EN = {"Accept-Language": "en"}
LIMIT = 4096
OVER = "坑" * 3000  # 9,000 bytes of UTF-8: over LIMIT, far under the API's and Open311's own limits


@pytest.fixture
def small_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", LIMIT)


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def test_the_default_limit_is_the_largest_legitimate_form_and_the_setting_changes_it(app, monkeypatch):
    most = max(app.config["HOTLINE_INTAKE_MAX_FILES"], app.config["HOTLINE_REPORT_MAX_PHOTOS"])
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["HOTLINE_MAX_REQUEST_BYTES"]
    assert attachments.request_limit(most) < app.config["MAX_CONTENT_LENGTH"] <= 2 * 1024 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == most * app.config["HOTLINE_ATTACHMENT_MAX_BYTES"] + 1024 * 1024
    monkeypatch.setenv("HOTLINE_MAX_REQUEST_BYTES", "123456")
    assert Config().MAX_CONTENT_LENGTH == 123456


def test_a_page_form_over_the_limit_is_413_before_the_csrf_check_reads_it(login, city, app, monkeypatch, small_limit):
    client = login(city.operator)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production: the check reads the form first
    response = client.post("/tickets/new", data={**FORM, "description": OVER}, headers=EN)
    assert response.status_code == 413
    assert response.mimetype == "text/html" and "提交的文件或表单过大。" in response.get_data(as_text=True)
    assert ticket_count() == 0


def test_an_api_body_over_the_limit_is_the_apis_413_even_under_its_own_limit(api, city, small_limit):
    response = api(city.operator).post("/api/v1/tickets", json={**CALL, "description": OVER}, headers=EN)
    assert response.status_code == 413, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "payload_too_large" and body["detail"] == "The request body is too large."
    assert ticket_count() == 0


def test_an_open311_body_over_the_limit_is_open311s_413(client, city, small_limit):
    fields = {
        "api_key": issue_token(city.operator),
        "service_code": "potholes",
        "description": OVER,
        "address_string": "东城区人民路 88 号",
        "phone": "139 0013 9000",
        "attribute[district]": "east",
    }
    response = client.post("/open311/v2/requests.json", data=fields, headers=EN)
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.get_json() == [{"code": 413, "description": "The request body is too large."}]
    assert ticket_count() == 0


def test_a_body_within_the_limit_still_goes_through(api, city, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    response = api(city.operator).post("/api/v1/tickets", json={**CALL, "description": OVER}, headers=EN)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert ticket_count() == 1


def test_the_citizens_report_over_the_limit_is_413_not_500(client, city, app, monkeypatch, small_limit):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/report", data={"description": OVER, "phone": "139 0013 9000"}, headers=EN)
    assert response.status_code == 413
    assert ticket_count() == 0
