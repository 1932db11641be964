from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.services.ticketing import tickets
from tests import factories
from tests.web.conftest import text_of, ticket_count

FORM = {
    "caller_phone": "138 0013 8000",
    "caller_name": "李四",
    "type": "complaint",
    "category": "potholes",
    "district": "east",
    "address": "人民路 12 号",
    "description": "路面塌陷，车辆无法通行。",
    "urgency": "urgent",
    "channel": "phone",
}


def test_form_shows_the_category_tree_and_prefills_the_phone(login, city):
    response = login(city.operator).get("/tickets/new?phone=13800138000")
    html = text_of(response)
    assert response.status_code == 200
    assert 'value="13800138000"' in html
    # The child category is indented under its parent, and the value is the code.
    assert '<option value="infrastructure">城乡建设</option>' in html
    assert '<option value="potholes">\u00a0\u00a0\u00a0\u00a0道路坑洼</option>' in html
    assert html.index('value="infrastructure"') < html.index('value="potholes"')
    assert '<option selected value="phone">' in html


def test_happy_path_creates_the_ticket_and_goes_to_its_page(login, city):
    client = login(city.operator)
    response = client.post("/tickets/new", data=FORM)
    assert response.status_code == 302
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert response.location == f"/tickets/{ticket.number}"
    assert ticket.caller_phone == "+8613800138000"
    assert ticket.category == city.potholes
    assert ticket.district == city.east
    assert ticket.urgency == "urgent"
    assert ticket.created_by == city.operator
    assert ticket.confidential is False
    page = text_of(client.get(response.location))
    assert f"Ticket {ticket.number} logged." in page
    assert "路面塌陷，车辆无法通行。" in page


def test_operator_is_told_when_routing_is_delayed(login, city, monkeypatch):
    from hotline.services.platform import queueing

    client = login(city.operator)
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: False)  # Redis down
    response = client.post("/tickets/new", data=FORM, follow_redirects=True)
    assert "Routing is delayed" in text_of(response)
    monkeypatch.setattr(queueing, "enqueue_intake", lambda ticket_id: True)
    response = client.post("/tickets/new", data=FORM, follow_redirects=True)
    assert "Routing is delayed" not in text_of(response)
    assert [t.status for t in db.session.scalars(db.select(Ticket))] == [Status.NEW, Status.NEW]


def test_direct_answer_closes_a_consultation(login, city):
    data = {**FORM, "type": "consultation", "direct_answer": "携带身份证到社保中心办理。"}
    response = login(city.operator).post("/tickets/new", data=data, follow_redirects=True)
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert ticket.status == Status.CLOSED
    assert ticket.resolution == "携带身份证到社保中心办理。"
    assert "answered directly and closed" in text_of(response)


def test_confidential_checkbox(login, city):
    login(city.operator).post("/tickets/new", data={**FORM, "confidential": "y"})
    assert db.session.scalars(db.select(Ticket)).one().confidential is True


def _field_error(html: str, field: str) -> str:
    """The text of the invalid-feedback right after the field's input."""
    start = html.index(f'id="{field}"')
    feedback = html.index('class="invalid-feedback', start)
    return html[feedback : html.index("</div>", feedback)]


def test_unparsable_phone(login, city):
    response = login(city.operator).post("/tickets/new", data={**FORM, "caller_phone": "12ab"})
    html = text_of(response)
    assert response.status_code == 200
    assert "“12ab” is not a valid phone number." in _field_error(html, "caller_phone")
    # Everything typed stays in the form.
    assert "路面塌陷，车辆无法通行。" in html
    assert 'value="人民路 12 号"' in html
    assert '<option selected value="potholes">' in html
    assert ticket_count() == 0


def test_unknown_category(login, city):
    response = login(city.operator).post("/tickets/new", data={**FORM, "category": "no-such"})
    assert response.status_code == 200
    assert "Unknown category “no-such”." in _field_error(text_of(response), "category")
    assert ticket_count() == 0


def test_no_category_chosen(login, city):
    response = login(city.operator).post("/tickets/new", data={**FORM, "category": ""})
    assert response.status_code == 200
    assert "Choose a category." in _field_error(text_of(response), "category")
    assert ticket_count() == 0


def test_empty_description(login, city):
    response = login(city.operator).post("/tickets/new", data={**FORM, "description": "   "})
    assert response.status_code == 200
    assert "Describe what the caller reports." in _field_error(text_of(response), "description")
    assert ticket_count() == 0


def test_direct_answer_on_a_complaint_is_refused(login, city):
    response = login(city.operator).post("/tickets/new", data={**FORM, "direct_answer": "已答复"})
    assert response.status_code == 200
    assert "Only a consultation" in _field_error(text_of(response), "direct_answer")
    assert ticket_count() == 0


def test_caller_history_lists_earlier_tickets(login, city):
    mine = factories.make_ticket(city.operator, caller_phone="13800138000")
    other = factories.make_ticket(city.operator, caller_phone="13912345678")
    client = login(city.operator)
    for spelling in ("13800138000", "+86 138-0013-8000"):
        html = text_of(client.get("/tickets/caller-history", query_string={"phone": spelling}))
        assert mine.number in html
        assert other.number not in html
    # The intake form opened by the CTI system shows it at once.
    assert mine.number in text_of(client.get("/tickets/new?phone=13800138000"))


def test_caller_history_is_empty_for_partial_or_unknown_numbers(login, city):
    ticket = factories.make_ticket(city.operator)
    client = login(city.operator)
    for phone in ("", "138", "not a number", "13700137000"):
        response = client.get("/tickets/caller-history", query_string={"phone": phone})
        assert response.status_code == 200
        assert ticket.number not in response.get_data(as_text=True)
    assert "No earlier tickets" in text_of(client.get("/tickets/caller-history?phone=13700137000"))


def test_likely_duplicates_while_typing(login, city):
    same_caller = factories.make_routed_ticket(city.operator, description="人民路有个坑")
    same_place = factories.make_routed_ticket(
        city.operator, caller_phone="13912345678", address="东城区人民路 12 号", description="车开过去很颠"
    )
    elsewhere = factories.make_routed_ticket(
        city.operator, category="water-supply", caller_phone="13700000000", description="小区停水"
    )
    client = login(city.operator)
    answer = client.post(
        "/tickets/likely-duplicates",
        data={"caller_phone": "138 0013 8000", "category": "potholes", "address": "人民路 12 号", "description": "坑"},
    ).get_json()
    assert answer["searched"] is True
    numbers = {d["number"]: d for d in answer["duplicates"]}
    assert set(numbers) == {same_caller.number, same_place.number}
    assert elsewhere.number not in numbers
    assert numbers[same_caller.number]["reasons"][0] == "same caller"
    assert numbers[same_place.number]["reasons"] == ["same category and place"]
    assert numbers[same_caller.number]["url"] == f"/tickets/{same_caller.number}"
    assert numbers[same_caller.number]["status_label"] == "Dispatched"


def test_likely_duplicates_need_a_phone_or_a_category(login, city):
    factories.make_routed_ticket(city.operator)
    client = login(city.operator)
    for data in ({}, {"caller_phone": "12ab", "category": "", "description": "人民路路面有一个大坑"}):
        answer = client.post("/tickets/likely-duplicates", data=data).get_json()
        assert answer == {"searched": False, "duplicates": []}
    # An unknown category and a half-typed number are no error: they only narrow the search.
    answer = client.post("/tickets/likely-duplicates", data={"caller_phone": "1380", "category": "bogus"}).get_json()
    assert answer["duplicates"] == []


def test_likely_duplicates_role_check(login, client, city):
    assert client.post("/tickets/likely-duplicates", data={"caller_phone": "13800138000"}).status_code == 302
    assert login(city.roads_staff).post("/tickets/likely-duplicates", data={}).status_code == 403


def test_the_form_has_the_duplicates_box(login, city):
    html = text_of(login(city.operator).get("/tickets/new"))
    assert 'id="likely-duplicates"' in html
    assert 'data-url="/tickets/likely-duplicates"' in html


def test_a_nul_character_is_no_server_error(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.dispatcher)
    assert client.get("/tickets?q=2026%00").status_code == 400
    assert client.get("/tickets/20260101-000001%00").status_code == 400
    answer = client.post(
        "/tickets/likely-duplicates",
        data={"caller_phone": "13800138000\x00", "category": "potholes\x00", "address": "东城区人民路 12 号\x00"},
    ).get_json()
    assert [d["number"] for d in answer["duplicates"]] == [ticket.number]
    response = client.post(
        f"/tickets/{ticket.number}/merge", data={"version": ticket.version, "into": "\x00"}, follow_redirects=True
    )
    assert "Give the number of the ticket to merge into." in text_of(response)
    response = client.post("/tickets/new", data={**FORM, "description": "路面\x00塌陷"})
    assert response.status_code == 302
    assert db.session.scalars(db.select(Ticket).order_by(Ticket.id.desc())).first().description == "路面塌陷"


def _field_errors(html: str) -> dict[str, str]:
    """Each invalid field's id and its message (the feedback right after it)."""
    found = {}
    for field in ("caller_phone", "type", "category", "district", "description", "direct_answer"):
        start = html.index(f'id="{field}"')
        tag = html[html.rindex("<", 0, start) : html.index(">", start)]
        if "is-invalid" in tag:
            found[field] = _field_error(html, field)
    return found


def test_an_empty_form_reports_every_field_at_once(login, city):
    response = login(city.operator).post("/tickets/new", data={"type": "complaint", "description": " "})
    assert response.status_code == 200
    errors = _field_errors(text_of(response))
    assert set(errors) == {"caller_phone", "category", "description"}
    assert "The caller's phone number is required." in errors["caller_phone"]
    assert "Choose a category." in errors["category"]
    assert "Describe what the caller reports." in errors["description"]
    assert ticket_count() == 0


def test_every_wrong_field_is_reported_with_its_own_message(login, city):
    data = {**FORM, "caller_phone": "12ab", "category": "no-such", "district": "nowhere", "direct_answer": "已答复"}
    errors = _field_errors(text_of(login(city.operator).post("/tickets/new", data=data)))
    assert set(errors) == {"caller_phone", "category", "district", "direct_answer"}
    assert "Unknown category “no-such”." in errors["category"]
    assert ticket_count() == 0


def test_the_api_still_names_the_first_wrong_field(api, city):
    response = api(city.operator).post(
        "/api/v1/tickets", json={"caller_phone": "", "type": "complaint", "category": "", "description": ""}
    )
    assert response.status_code == 400
    body = response.get_json()
    assert (body["error"], body["field"]) == ("invalid_input", "description")  # the first checked, as before


def test_a_known_caller_is_greeted_by_the_name_they_gave_last(login, city):
    factories.make_ticket(city.operator, caller_name="")
    factories.make_ticket(city.operator, caller_name="王先生")
    factories.make_ticket(city.operator, caller_name="")  # the latest, without a name
    client = login(city.operator)
    html = text_of(client.get("/tickets/new?phone=13800138000"))
    assert 'name="caller_name" type="text" value="王先生"' in html
    assert 'data-caller-name="王先生"' in text_of(client.get("/tickets/caller-history?phone=13800138000"))
    html = text_of(client.get("/tickets/new?phone=13700137000"))  # a new caller
    assert 'name="caller_name" type="text" value=""' in html


def test_the_description_shows_the_limit_the_server_enforces(login, city):
    html = text_of(login(city.operator).get("/tickets/new"))
    assert f'data-max="{tickets.DESCRIPTION_MAX}"' in html
    assert 'id="description-count"' in html
    too_long = "路" * (tickets.DESCRIPTION_MAX + 1)
    response = login(city.operator).post("/tickets/new", data={**FORM, "description": too_long})
    assert f"longer than {tickets.DESCRIPTION_MAX} characters" in _field_error(text_of(response), "description")
