"""Open311 GeoReport v2: every endpoint in JSON and XML, the filters, paging and the spec's errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from redis import Redis
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Ticket, TicketEvent
from hotline.services.accounts.users import issue_token
from hotline.services.platform import listing, ratelimit
from hotline.services.ticketing import merging, tickets
from tests import factories

BASE = "/open311/v2"
EN = {"Accept-Language": "en"}


def get(client, path: str, **params):
    return client.get(BASE + path, query_string=params, headers=EN)


def post(client, fmt: str = "json", **fields):
    return client.post(f"{BASE}/requests.{fmt}", data=fields, headers=EN)


def xml(response) -> ET.Element:
    assert response.mimetype == "text/xml", response.get_data(as_text=True)
    return ET.fromstring(response.get_data())


def assert_error(response, status: int, fmt: str = "json", words: str = "") -> str:
    """The spec's error: [{"code", "description"}] or <errors><error><code/><description/></error></errors>."""
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        (entry,) = root.findall("error")
        assert entry.findtext("code") == str(status)
        description = entry.findtext("description")
    else:
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert isinstance(body, list) and len(body) == 1
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description and words in description
    return description


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


def set_created(ticket: Ticket, when: datetime) -> None:
    ticket.created_at = when
    db.session.commit()


@pytest.fixture
def api_key(city) -> str:
    return issue_token(city.operator)


@pytest.fixture
def valid(api_key) -> dict:
    return {
        "api_key": api_key,
        "service_code": "potholes",
        "description": "人民路中段路面塌陷，车辆难以通过。",
        "address_string": "东城区人民路 88 号",
        "phone": "139 0013 9000",
        "first_name": "三",
        "last_name": "张",
        "email": "zhang@example.com",
        "attribute[district]": "east",
    }


# --- discovery and services ---------------------------------------------------------------


def test_discovery_json_and_xml(client):
    body = get(client, "/discovery.json").get_json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["url"] == "http://localhost/open311/v2"
    assert set(body["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    assert body["changeset"] and body["contact"] and body["key_service"]
    root = xml(get(client, "/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == "http://localhost/open311/v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert client.get(BASE + "/", headers=EN).get_json() == body


def test_links_use_the_public_url_behind_a_proxy(client, app, valid, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_PUBLIC_URL", "https://hotline.example.gov/")
    assert get(client, "/discovery.json").get_json()["endpoints"][0]["url"] == "https://hotline.example.gov/open311/v2"
    notice = post(client, **valid).get_json()[0]["service_notice"]
    assert "https://hotline.example.gov/status" in notice


def test_services_are_the_leaf_categories_grouped_by_first_level(client, city):
    services = get(client, "/services.json").get_json()
    by_code = {s["service_code"]: s for s in services}
    # "infrastructure" has a sub-category, so it is a group, not a service.
    assert set(by_code) == {"potholes", "water-supply", "other"}
    assert by_code["potholes"] == {
        "service_code": "potholes",
        "service_name": "道路坑洼",
        "description": "城乡建设 / 道路坑洼",
        "metadata": True,
        "type": "realtime",
        "keywords": "城乡建设, 道路坑洼",
        "group": "城乡建设",
    }
    assert by_code["water-supply"]["group"] == "供水"
    root = xml(get(client, "/services.xml"))
    assert root.tag == "services"
    potholes = next(s for s in root.findall("service") if s.findtext("service_code") == "potholes")
    assert potholes.findtext("metadata") == "true"
    assert potholes.findtext("group") == "城乡建设"
    assert potholes.findtext("type") == "realtime"


def test_a_deeper_tree_names_services_below_their_group(client, city):
    branch = factories.make_category("safety", None, city.infrastructure, name="安全生产")
    factories.make_category("safety-accidents", None, branch, name="事故处理")
    by_code = {s["service_code"]: s for s in get(client, "/services.json").get_json()}
    assert "safety" not in by_code
    assert by_code["safety-accidents"]["service_name"] == "安全生产 / 事故处理"
    assert by_code["safety-accidents"]["group"] == "城乡建设"


def test_service_definition_offers_district_and_kind(client, city):
    body = get(client, "/services/potholes.json").get_json()
    assert body["service_code"] == "potholes"
    district, kind = body["attributes"]
    assert district["code"] == "district" and district["datatype"] == "singlevaluelist"
    assert district["variable"] is True and district["required"] is False and district["order"] == 1
    assert district["values"] == [{"key": "east", "name": "东城区"}, {"key": "west", "name": "西城区"}]
    assert kind["code"] == "type"
    assert {v["key"] for v in kind["values"]} == {"consultation", "help", "complaint", "report", "suggestion", "praise"}
    root = xml(get(client, "/services/potholes.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "potholes"
    first = root.find("attributes/attribute")
    assert first.findtext("code") == "district" and first.findtext("required") == "false"
    assert [v.findtext("key") for v in first.findall("values/value")] == ["east", "west"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["nothing", "infrastructure"])
def test_unknown_services_and_groups_are_404(client, city, fmt, code):
    assert_error(get(client, f"/services/{code}.{fmt}"), 404, fmt, code)


# --- filing a request ---------------------------------------------------------------------


def test_post_files_an_ordinary_open311_ticket(client, city, valid):
    response = post(client, **valid)
    assert response.status_code == 200, response.get_data(as_text=True)
    (answer,) = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == answer["service_request_id"]))
    assert ticket.channel == "open311"
    assert ticket.caller_phone == "+8613900139000"
    assert ticket.caller_name == "张三"
    assert ticket.type == "help" and ticket.urgency == "normal"
    assert ticket.category == city.potholes and ticket.district == city.east
    assert ticket.address == "东城区人民路 88 号"
    assert ticket.description == valid["description"]
    assert ticket.created_by == city.operator
    assert [event.kind for event in ticket.events] == ["created"]
    assert ticket.number in answer["service_notice"] and "/status" in answer["service_notice"]


def test_post_in_xml_with_kind_and_coordinates(client, city, valid):
    del valid["address_string"], valid["attribute[district]"]
    valid.update({"lat": "39.9087", "long": "116.3975", "attribute[type]": "complaint", "first_name": "Ann"})
    valid.update({"last_name": "Lee"})
    root = xml(post(client, "xml", **valid))
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert root.find("request/account_id") is not None and root.findtext("request/account_id") == ""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.address == "39.908700, 116.397500"
    assert ticket.type == "complaint" and ticket.district is None
    assert ticket.caller_name == "Ann Lee"


def test_post_works_without_a_csrf_token(client, app, valid, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post(client, **valid).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"api_key": None}, "api_key is required"),
        ({"api_key": "not-a-token"}, "not valid"),
    ],
)
def test_post_without_a_valid_api_key_is_403(client, city, valid, fmt, change, words):
    valid.update(change)
    fields = {k: v for k, v in valid.items() if v is not None}
    assert_error(post(client, fmt, **fields), 403, fmt, words)
    assert ticket_count() == 0


def test_post_by_a_role_that_does_not_log_calls_is_403(client, city, valid):
    valid["api_key"] = issue_token(city.roads_staff)
    assert_error(post(client, **valid), 403, words="may not file requests")
    assert ticket_count() == 0


def test_an_inactive_users_key_is_refused(client, city, valid):
    city.operator.active = False
    db.session.commit()
    assert_error(post(client, **valid), 403, words="not valid")


def test_api_key_in_the_query_string_is_accepted(client, city, valid):
    key = valid.pop("api_key")
    response = client.post(f"{BASE}/requests.json?api_key={key}", data=valid, headers=EN)
    assert response.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"phone": None}, "phone is required"),
        ({"phone": "12"}, "not a valid phone number"),
        ({"service_code": None}, "service_code is required"),
        ({"service_code": "nothing"}, "No service “nothing”"),
        ({"service_code": "infrastructure"}, "No service “infrastructure”"),
        ({"description": "   "}, "description is required"),
        ({"description": "x" * 5001}, "longer than 5000"),
        ({"address_string": None}, "A location is required"),
        ({"address_string": None, "lat": "39.9"}, "lat and long go together"),
        ({"lat": "north", "long": "116.4"}, "lat must be a number"),
        ({"lat": "91", "long": "116.4"}, "lat must be a number"),
        ({"lat": "nan", "long": "nan"}, "lat must be a number"),
        ({"attribute[district]": "atlantis"}, "Unknown district"),
        ({"attribute[colour]": "red"}, "Unknown attribute “colour”"),
        ({"attribute[type]": "rant"}, "Unknown ticket type"),
    ],
)
def test_bad_requests_are_400_and_file_nothing(client, city, valid, fmt, change, words):
    valid.update(change)
    fields = {k: v for k, v in valid.items() if v is not None}
    assert_error(post(client, fmt, **fields), 400, fmt, words)
    assert ticket_count() == 0


def test_one_value_per_attribute(client, city, valid):
    response = client.post(
        f"{BASE}/requests.json",
        data={**valid, "attribute[district]": ["east", "west"]},
        headers=EN,
    )
    assert_error(response, 400, words="takes one value")


def test_nul_and_oversized_bodies_are_refused(client, city, valid):
    valid["description"] = "坑\x00"
    assert_error(post(client, **valid), 400, words="NUL")
    valid["description"] = "坑" * 200_000
    assert_error(post(client, **valid), 413)
    assert ticket_count() == 0


# --- reading requests ---------------------------------------------------------------------


def test_a_request_reads_back_in_json_and_xml(client, city, valid):
    number = post(client, **valid).get_json()[0]["service_request_id"]
    ticket = tickets.route(db.session.scalar(select(Ticket.id).where(Ticket.number == number)))
    (body,) = get(client, f"/requests/{number}.json").get_json()
    assert body["service_request_id"] == number
    assert body["status"] == "open" and body["status_notes"] is None
    assert body["service_code"] == "potholes" and body["service_name"] == "道路坑洼"
    assert body["description"] == valid["description"]
    assert body["agency_responsible"] == "道路管理局"
    assert body["address"] == "东城区人民路 88 号"
    assert body["requested_datetime"].endswith("+08:00")
    requested = datetime.fromisoformat(body["requested_datetime"])
    assert abs(requested - ticket.created_at) < timedelta(seconds=1)
    assert datetime.fromisoformat(body["updated_datetime"]) >= requested
    assert datetime.fromisoformat(body["expected_datetime"]) == ticket.resolve_due_at.replace(microsecond=0)
    for key in ("address_id", "zipcode", "lat", "long", "media_url", "service_notice"):
        assert body[key] is None
    raw = get(client, f"/requests/{number}.json").get_data(as_text=True)
    for private in ("13900139000", "139 0013 9000", "张三", "zhang@example.com"):
        assert private not in raw
    root = xml(get(client, f"/requests/{number}.xml"))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == number
    assert root.findtext("request/status") == "open"
    assert root.findtext("request/agency_responsible") == "道路管理局"


def test_closed_resolved_and_merged_requests(client, city):
    resolved = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, resolved)
    tickets.resolve(city.roads_staff, resolved, "已填平。如有问题请致电 13800138000 联系张三。")
    duplicate = factories.make_ticket(city.operator, caller_phone="13700137000")
    merging.merge_into(city.dispatcher, duplicate, resolved.number)
    body = {r["service_request_id"]: r for r in get(client, "/requests.json").get_json()}
    assert body[resolved.number]["status"] == "closed"
    # The reply is published with the caller's name and phone masked.
    assert body[resolved.number]["status_notes"] == "已填平。如有问题请致电 *** 联系***。"
    assert body[resolved.number]["expected_datetime"] is None
    assert body[duplicate.number]["status"] == "closed"
    assert resolved.number in body[duplicate.number]["status_notes"]
    assert datetime.fromisoformat(body[resolved.number]["updated_datetime"]) >= datetime.fromisoformat(
        body[resolved.number]["requested_datetime"]
    )


def test_internal_notes_do_not_touch_the_public_update_time(client, city):
    ticket = factories.make_routed_ticket(city.operator)
    before = get(client, f"/requests/{ticket.number}.json").get_json()[0]["updated_datetime"]
    later = datetime.now(UTC) + timedelta(hours=1)
    db.session.add(TicketEvent(ticket=ticket, kind="note", at=later, data={"text": "内部讨论"}))
    db.session.commit()
    after = get(client, f"/requests/{ticket.number}.json").get_json()[0]
    assert after["updated_datetime"] == before
    assert "内部讨论" not in str(after)
    # A step that changes what the public sees (here: a later deadline) does move it.
    db.session.add(TicketEvent(ticket=ticket, kind="extension_approved", at=later, data={}))
    db.session.commit()
    moved = get(client, f"/requests/{ticket.number}.json").get_json()[0]["updated_datetime"]
    assert datetime.fromisoformat(moved) == later.replace(microsecond=0)


def test_texts_mask_phone_numbers_and_the_callers_name(client, city):
    ticket = factories.make_ticket(
        city.operator,
        description="我是张三，电话 138-0013-8000 或 01065123456，身份证 11010519491231002X；见 20261125-000001。",
        address="人民路 12 号，联系人张三",
    )
    (body,) = get(client, f"/requests/{ticket.number}.json").get_json()
    assert body["description"] == "我是***，电话 *** 或 ***，身份证 ***；见 20261125-000001。"
    assert body["address"] == "人民路 12 号，联系人***"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_phone_numbers_however_written_are_masked_whole(client, city, fmt):
    ticket = factories.make_ticket(
        city.operator,
        description=(
            "座机010-6552 1234；联系 139.0013.8000；139 00 13 90 00；(010)65521234；０１０－６５５２１２３４；"
            "2026-11-25 14:30 罚款1500元，见工单20261125-000042。"
        ),
        address="12号楼3单元502室，电话 138 0013 8000",
    )
    tickets.route(ticket.id)
    tickets.accept(city.roads_staff, ticket)
    tickets.resolve(city.roads_staff, ticket, "已处理，如有疑问请致电（010）6552-1234。")
    response = get(client, f"/requests/{ticket.number}.{fmt}")
    if fmt == "xml":
        found = xml(response).find("request")
        body = {field: found.findtext(field) for field in ("description", "address", "status_notes")}
    else:
        (body,) = response.get_json()
    assert (
        body["description"] == "座机***；联系 ***；***；***；***；2026-11-25 14:30 罚款1500元，见工单20261125-000042。"
    )
    assert body["address"] == "12号楼3单元502室，电话 ***"
    assert body["status_notes"] == "已处理，如有疑问请致电***。"


def test_confidential_tickets_are_not_published(client, city):
    secret = factories.make_ticket(city.operator, confidential=True, type="report")
    public = factories.make_ticket(city.operator)
    listed = [r["service_request_id"] for r in get(client, "/requests.json").get_json()]
    assert listed == [public.number]
    assert get(client, "/requests.json").headers["X-Total-Count"] == "1"
    assert_error(get(client, f"/requests/{secret.number}.json"), 404)
    assert_error(get(client, f"/tokens/{secret.number}.json"), 404)
    assert get(client, "/requests.json", service_request_id=secret.number).get_json() == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_404(client, city, fmt):
    assert_error(get(client, f"/requests/20991231-000001.{fmt}"), 404, fmt, "20991231-000001")


def test_tokens_are_the_request_ids(client, city):
    ticket = factories.make_ticket(city.operator)
    assert get(client, f"/tokens/{ticket.number}.json").get_json() == [
        {"token": ticket.number, "service_request_id": ticket.number}
    ]
    root = xml(get(client, f"/tokens/{ticket.number}.xml"))
    assert root.findtext("request/token") == ticket.number
    assert root.findtext("request/service_request_id") == ticket.number
    assert_error(get(client, "/tokens/abc123.xml"), 404, "xml")


# --- filters and paging -------------------------------------------------------------------


@pytest.fixture
def spread(city):
    """Five tickets over time: two potholes (one resolved), water, other, and one 200 days old."""
    now = datetime.now(UTC)
    made = {
        "pothole_open": factories.make_routed_ticket(city.operator),
        "pothole_done": factories.make_routed_ticket(city.operator),
        "water": factories.make_routed_ticket(city.operator, category="water-supply"),
        "other": factories.make_routed_ticket(city.operator, category="other"),
        "old": factories.make_routed_ticket(city.operator),
    }
    tickets.accept(city.roads_staff, made["pothole_done"])
    tickets.resolve(city.roads_staff, made["pothole_done"], "已处理")
    for name, days in (("pothole_open", 1), ("pothole_done", 2), ("water", 10), ("other", 40), ("old", 200)):
        set_created(made[name], now - timedelta(days=days))
    return made


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    if response.mimetype == "text/xml":
        return [r.findtext("service_request_id") for r in xml(response).findall("request")]
    return [r["service_request_id"] for r in response.get_json()]


def test_default_is_the_last_90_days_newest_first(client, spread):
    expected = [spread[k].number for k in ("pothole_open", "pothole_done", "water", "other")]
    assert numbers(get(client, "/requests.json")) == expected
    assert numbers(get(client, "/requests.xml")) == expected


def test_filter_by_service_code_and_status(client, spread):
    s = spread
    assert numbers(get(client, "/requests.json", service_code="potholes")) == [
        s["pothole_open"].number,
        s["pothole_done"].number,
    ]
    assert numbers(get(client, "/requests.json", service_code="potholes,water-supply", status="open")) == [
        s["pothole_open"].number,
        s["water"].number,
    ]
    assert numbers(get(client, "/requests.xml", status="closed")) == [s["pothole_done"].number]
    assert len(numbers(get(client, "/requests.json", status="open,closed"))) == 4
    assert numbers(get(client, "/requests.json", service_code="nothing")) == []


def test_filter_by_dates(client, spread):
    now = datetime.now(UTC)
    start = (now - timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=1, hours=12)).astimezone().isoformat()
    assert numbers(get(client, "/requests.json", start_date=start, end_date=end)) == [
        spread["pothole_done"].number,
        spread["water"].number,
    ]
    # An explicit range reaches further back than the default 90 days.
    old_start = (now - timedelta(days=250)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    old_end = (now - timedelta(days=170)).strftime("%Y-%m-%d")
    assert numbers(get(client, "/requests.json", start_date=old_start, end_date=old_end)) == [spread["old"].number]
    # start alone runs to now
    recent_start = (now - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert len(numbers(get(client, "/requests.json", start_date=recent_start))) == 4
    # A "+" that the client forgot to encode arrives as a space: still understood.
    response = client.get(f"{BASE}/requests.json?start_date={recent_start}", headers=EN)
    assert len(numbers(response)) == 4


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_no_range_spans_more_than_90_days(client, spread, fmt):
    now = datetime.now(UTC)

    def day(days_ago: float) -> str:
        return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    words = "at most 90 days"
    assert_error(get(client, f"/requests.{fmt}", start_date=day(300), end_date=day(100)), 400, fmt, words)
    # start_date alone runs to now: 91 days is one too many.
    assert_error(get(client, f"/requests.{fmt}", start_date=day(91)), 400, fmt, words)
    assert_error(get(client, f"/requests.{fmt}", start_date="2000-01-01"), 400, fmt, words)
    # Exactly 90 days is allowed; end_date alone reads the 90 days before it.
    assert len(numbers(get(client, f"/requests.{fmt}", start_date=day(90), end_date=day(0)))) == 4
    assert numbers(get(client, f"/requests.{fmt}", end_date=day(150))) == [spread["old"].number]
    assert numbers(get(client, f"/requests.{fmt}", end_date=day(300))) == []
    # A start in the future is an empty range, not an error.
    assert numbers(get(client, f"/requests.{fmt}", start_date=day(-5))) == []


def test_service_request_id_list_overrides_the_other_filters(client, spread):
    wanted = [spread["old"].number, spread["water"].number, "20991231-000001", spread["old"].number]
    assert numbers(get(client, "/requests.json", service_request_id=",".join(wanted), status="closed")) == [
        spread["old"].number,
        spread["water"].number,
    ]


def test_paging(client, spread):
    first = get(client, "/requests.json", page_size=3)
    assert first.headers["X-Total-Count"] == "4"
    assert numbers(first) == [spread[k].number for k in ("pothole_open", "pothole_done", "water")]
    assert "page=2" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    second = get(client, "/requests.json", page_size=3, page=2)
    assert numbers(second) == [spread["other"].number]
    assert "Link" not in second.headers
    assert numbers(get(client, "/requests.json", page_size=3, page=3)) == []
    # Too big a page is capped, not refused.
    assert len(numbers(get(client, "/requests.json", page_size=10**6))) == 4


def test_total_count_is_bounded(client, spread, monkeypatch):
    """Counted up to listing.COUNT_CAP, as the workbench's totals ("10000+"), or as far as the
    page asked for: not every request of the 90 days on every list request."""
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    first = get(client, "/requests.json", page_size=1)
    assert first.headers["X-Total-Count"] == "2+"
    assert numbers(first) == [spread["pothole_open"].number] and 'rel="next"' in first.headers["Link"]
    # A page past the cap counts up to itself, so that it still knows a next page follows.
    third = get(client, "/requests.json", page_size=1, page=3)
    assert third.headers["X-Total-Count"] == "3+" and 'rel="next"' in third.headers["Link"]
    last = get(client, "/requests.json", page_size=3, page=2)
    assert last.headers["X-Total-Count"] == "4" and "Link" not in last.headers


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"page": "0"}, "page must be"),
        ({"page_size": "ten"}, "page_size must be"),
        ({"status": "pending"}, "status must be open or closed"),
        ({"start_date": "yesterday"}, "start_date must be a W3C date"),
        ({"end_date": "0001-01-01T00:00:00+08:00"}, "end_date must be a W3C date"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date is before start_date"),
        ({"service_request_id": ",".join(str(i) for i in range(201))}, "at most 200"),
        ({"service_code": "a\x00b"}, "NUL"),
    ],
)
def test_bad_filters_are_400(client, city, fmt, params, words):
    assert_error(get(client, f"/requests.{fmt}", **params), 400, fmt, words)


# --- reads are rate-limited per address, as the status page's look-ups ------------------------

READ_PATHS = ["/discovery.{fmt}", "/services.{fmt}", "/services/potholes.{fmt}", "/requests.{fmt}"]


def read(client, path: str, ip: str = "198.51.100.1"):
    return client.get(BASE + path, headers=EN, environ_base={"REMOTE_ADDR": ip})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_public_reads_are_limited_per_address_in_redis(client, app, city, valid, redis_url, monkeypatch, fmt):
    ticket = factories.make_ticket(city.operator)
    paths = [p.format(fmt=fmt) for p in READ_PATHS] + [
        f"/requests/{ticket.number}.{fmt}",
        f"/tokens/{ticket.number}.{fmt}",
    ]
    monkeypatch.setitem(app.config, "HOTLINE_OPEN311_READS", len(paths))
    for path in paths:  # every read counts against the same limit
        assert read(client, path).status_code == 200, path
    for path in paths:
        refused = read(client, path)
        assert_error(refused, 429, fmt, "Too many requests")
        assert 0 < int(refused.headers["Retry-After"]) <= 600
    # The counts are in Redis, shared by every process: a process with no counts of its own
    # (here: this one, its counter cleared) still refuses.
    assert list(Redis.from_url(redis_url).scan_iter(f"{ratelimit.PREFIX}:open311-ip:*"))
    ratelimit.local_counter().clear()
    assert read(client, paths[0]).status_code == 429
    # Another address is not held back, and filing (with an api_key) is not a read.
    assert read(client, paths[0], ip="198.51.100.2").status_code == 200
    filed = post(client, fmt, **valid)
    assert filed.status_code == 200, filed.get_data(as_text=True)


def test_the_read_limit_and_its_window_are_settings(client, app, city, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_OPEN311_READS", 1)
    monkeypatch.setitem(app.config, "HOTLINE_OPEN311_WINDOW_SECONDS", 60)
    assert read(client, "/services.json").status_code == 200
    refused = read(client, "/services.json")
    assert_error(refused, 429, "json", "1 minute")
    assert 0 < int(refused.headers["Retry-After"]) <= 60


# --- the rest of the spec's error handling ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("/nothing.xml", "xml"), ("/services.csv", "json"), ("/requests/a/b.json", "json"), ("/discovery", "json")],
)
def test_unknown_paths_answer_in_the_spec_format(client, path, fmt):
    assert_error(get(client, path), 404, fmt)


def test_wrong_method_is_405_in_the_spec_format(client):
    response = client.post(f"{BASE}/services.xml", headers=EN)
    assert_error(response, 405, "xml")
    assert "GET" in response.headers["Allow"]


def test_jurisdiction_id_is_accepted_and_ignored(client, city):
    assert get(client, "/services.json", jurisdiction_id="city.example").status_code == 200


def test_the_staff_pages_and_api_keep_their_own_errors(client):
    assert client.get("/api/v1/nothing").get_json()["error"] == "not_found"
    assert "<html" in client.get("/nothing", headers=EN).get_data(as_text=True)
