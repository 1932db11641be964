"""The routing rules form's place condition (issue 18 item 2): the unit handling the gazetteer
place at the ticket's point, chosen on the form, shown in the list, and given over the API."""

import re

from hotline.services.dispatch import routing
from tests import factories
from tests.web.conftest import text_of


def test_the_form_saves_and_shows_the_place_unit(login, city):
    factories.make_department("east-xingfu", "幸福街街道办事处")
    client = login(city.admin)
    form = client.get("/admin/routing-rules/new")
    assert 'name="place_unit"' in form.get_data(as_text=True)
    response = client.post(
        "/admin/routing-rules/new",
        data={
            "priority": "10",
            "name": "幸福街",
            "department": "east-xingfu",
            "place_unit": "east-xingfu",
            "active": "y",
        },
    )
    assert response.status_code == 302
    (rule,) = routing.list_rules()
    assert rule.place_department.code == "east-xingfu"
    page = client.get("/admin/routing-rules/", headers={"Accept-Language": "en"})
    assert re.search(r"Place handled by:</span>\s*幸福街街道办事处", text_of(page))
    edit = client.get(f"/admin/routing-rules/{rule.id}/edit").get_data(as_text=True)
    assert '<option selected value="east-xingfu">' in edit or 'value="east-xingfu" selected' in edit
    refused = client.post(
        "/admin/routing-rules/new", data={"priority": "10", "department": "water", "place_unit": "nowhere"}
    )
    assert refused.status_code == 400 and len(routing.list_rules()) == 1
