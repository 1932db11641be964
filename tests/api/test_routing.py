"""Routing over the API: dispatch with assisting departments and reassignment, the rule catalogue
(派单目录) and its tester, learned suggestions, return reasons and the misrouting report."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Status
from hotline.services.dispatch import routing, suggestions
from hotline.services.ticketing import tickets
from tests import factories
from tests.api.helpers import assert_error, snapshot

RULES = "/api/v1/routing-rules"
TEST = "/api/v1/routing-rules/test"
POTHOLE_RULE = {
    "priority": 10,
    "category": "potholes",
    "district": "east",
    "type": "complaint",
    "urgency": "normal",
    "keywords": ["大坑", "塌陷"],
    "department": "water",
    "assisting": ["police"],
}


def url(ticket, action: str) -> str:
    return f"/api/v1/tickets/{ticket.number}/{action}"


@pytest.fixture
def police():
    return factories.make_department("police", "公安局")


@pytest.fixture
def pending(city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    assert ticket.status == Status.PENDING_DISPATCH
    return ticket


@pytest.fixture
def saved(api, city, police) -> dict:
    response = api(city.admin).post(RULES, json={**POTHOLE_RULE, "name": "坑洼转水务"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def stored_rules() -> list[dict]:
    """Every rule as the database has it, to check that a failure changed nothing."""
    db.session.expire_all()
    return [routing.rule_json(rule) for rule in routing.list_rules()]


class TestDispatch:
    def test_dispatch_with_assisting_departments(self, api, city, pending, police):
        response = api(city.dispatcher).post(
            url(pending, "dispatch"), json={"department": "roads", "assisting": ["water", "police", "water"]}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["status"], body["department"], body["routed_by"], body["routing_rule"]) == (
            "dispatched",
            "roads",
            "dispatcher",
            None,
        )
        assert body["assisting"] == [
            {"department": "police", "status": "open", "reply": "", "done_at": None},
            {"department": "water", "status": "open", "reply": "", "done_at": None},
        ]
        event = body["events"][-1]
        assert (event["kind"], event["data"]["assisting"]) == ("dispatched", ["water", "police"])

    @pytest.mark.parametrize("accepted", [False, True])
    def test_a_dispatcher_reassigns_a_ticket_a_department_holds(self, api, city, routed, accepted):
        if accepted:
            tickets.accept(city.roads_staff, routed)
        seen = routed.version
        response = api(city.dispatcher).post(url(routed, "dispatch"), json={"department": "water", "version": seen})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["status"], body["department"], body["accepted_at"]) == ("dispatched", "water", None)
        assert body["routed_by"] == "dispatcher" and body["version"] > seen
        event = body["events"][-1]
        assert (event["kind"], event["from_status"], event["to_status"]) == (
            "reassigned",
            "in_progress" if accepted else "dispatched",
            "dispatched",
        )
        assert (event["data"]["from_department"], event["data"]["department"]) == ("roads", "water")
        # Roads no longer holds it, nor sees it; water does.
        assert_error(api(city.roads_staff).get(f"/api/v1/tickets/{routed.number}"), 404, "not_found")
        assert api(city.water_staff).get(f"/api/v1/tickets/{routed.number}").status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"department": "roads"}, "department"),  # it is with roads already
            ({"department": "water", "assisting": "roads"}, "assisting"),
            ({"department": "water", "assisting": [7]}, "assisting"),
            ({"department": "water", "assisting": ["nowhere"]}, "assisting"),
            ({"department": "water", "assisting": ["water"]}, "assisting"),  # the lead cannot also assist
            ({"department": "water", "assisting": ["ro\x00ads"]}, "assisting"),
            ({"department": "water", "helpers": ["roads"]}, "helpers"),
        ],
    )
    def test_bad_dispatches_are_400s_and_change_nothing(self, api, city, routed, body, field):
        before = snapshot(routed.number)
        assert_error(api(city.dispatcher).post(url(routed, "dispatch"), json=body), 400, "invalid_input", field)
        assert snapshot(routed.number) == before

    @pytest.mark.parametrize("who", ["operator", "roads_staff", "water_staff"])
    def test_only_dispatchers_supervisors_and_admins_dispatch(self, api, city, routed, who):
        before = snapshot(routed.number)
        response = api(getattr(city, who)).post(url(routed, "dispatch"), json={"department": "water"})
        assert_error(response, 403, "forbidden")
        assert snapshot(routed.number) == before

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_admins_reassign_too(self, api, city, routed, who):
        response = api(getattr(city, who)).post(url(routed, "dispatch"), json={"department": "water"})
        assert response.status_code == 200
        assert snapshot(routed.number)[2] == "water"


class TestRuleCatalogue:
    def test_create_read_and_route_by_it(self, api, city, saved):
        assert saved == {"id": saved["id"], "name": "坑洼转水务", "active": True, "place_unit": None, **POTHOLE_RULE}
        assert api(city.admin).get(RULES).get_json() == [saved]
        one = api(city.admin).get(f"{RULES}/{saved['id']}")
        assert one.status_code == 200 and one.get_json() == saved

        ticket = factories.make_routed_ticket(city.operator)  # a pothole with a 大坑 in the east
        body = api(city.dispatcher).get(f"/api/v1/tickets/{ticket.number}").get_json()
        assert (body["department"], body["routed_by"], body["routing_rule"]) == ("water", "rule", saved["id"])
        assert [a["department"] for a in body["assisting"]] == ["police"]
        assert body["events"][-1]["data"]["rule"] == {"id": saved["id"], "priority": 10, "name": "坑洼转水务"}

    def test_the_location_names_the_new_rule(self, api, city, police):
        response = api(city.admin).post(RULES, json=POTHOLE_RULE)
        assert response.headers["Location"].endswith(f"{RULES}/{response.get_json()['id']}")

    def test_every_condition_is_optional(self, api, city):
        response = api(city.admin).post(RULES, json={"department": "water", "district": None, "id": 999})
        assert response.status_code == 201
        body = response.get_json()
        assert body == {
            "id": body["id"],  # a given id is ignored: the rule gets its own
            "priority": 100,
            "name": "",
            "category": None,
            "district": None,
            "type": None,
            "urgency": None,
            "keywords": [],
            "department": "water",
            "assisting": [],
            "active": True,
            "place_unit": None,
        }
        # No conditions: it matches everything, before the category's default.
        assert factories.make_routed_ticket(city.operator).department == city.water

    def test_rules_are_listed_by_priority(self, api, city):
        admin = api(city.admin)
        for priority in (30, 10, 20):
            admin.post(RULES, json={"priority": priority, "department": "water"})
        assert [r["priority"] for r in admin.get(RULES).get_json()] == [10, 20, 30]

    def test_put_changes_only_the_fields_given(self, api, city, saved):
        response = api(city.admin).put(f"{RULES}/{saved['id']}", json={"priority": 5, "active": False})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {**saved, "priority": 5, "active": False}
        assert stored_rules() == [response.get_json()]

    def test_put_null_restores_a_default_and_lifts_a_condition(self, api, city, saved):
        body = {"district": None, "keywords": [], "assisting": None, "priority": None, "name": None, "id": saved["id"]}
        response = api(city.admin).put(f"{RULES}/{saved['id']}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        expected = {**saved, "district": None, "keywords": [], "assisting": [], "priority": 100, "name": ""}
        assert response.get_json() == expected
        assert stored_rules() == [expected]

    def test_put_the_whole_rule_as_read(self, api, city, saved):
        changed = {**saved, "department": "roads", "assisting": [], "keywords": ["路面"]}
        response = api(city.admin).put(f"{RULES}/{saved['id']}", json=changed)
        assert response.status_code == 200 and response.get_json() == changed

    def test_put_with_another_id_is_400(self, api, city, saved):
        before = stored_rules()
        response = api(city.admin).put(f"{RULES}/{saved['id']}", json={"id": saved["id"] + 1, "priority": 1})
        assert_error(response, 400, "invalid_input", "id")
        assert stored_rules() == before

    def test_delete(self, api, city, saved):
        ticket = factories.make_routed_ticket(city.operator)
        response = api(city.admin).delete(f"{RULES}/{saved['id']}")
        assert response.status_code == 204 and response.get_data() == b""
        assert stored_rules() == []
        assert_error(api(city.admin).get(f"{RULES}/{saved['id']}"), 404, "not_found")
        assert_error(api(city.admin).delete(f"{RULES}/{saved['id']}"), 404, "not_found")
        # The ticket it routed stays where it was sent.
        assert api(city.admin).get(f"/api/v1/tickets/{ticket.number}").get_json()["department"] == "water"

    @pytest.mark.parametrize("rule_id", ["0", "abc", "99999", "1.5", "-1", "99999999999", "١"])
    @pytest.mark.parametrize("method", ["get", "put", "delete"])
    def test_no_such_rule_is_404(self, api, city, saved, rule_id, method):
        before = stored_rules()
        call = getattr(api(city.admin), method)
        response = call(f"{RULES}/{rule_id}", json={"priority": 1}) if method == "put" else call(f"{RULES}/{rule_id}")
        assert_error(response, 404, "not_found")
        assert stored_rules() == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "department"),
            ({"department": None}, "department"),
            ({"department": "nowhere"}, "department"),
            ({"department": ["water"]}, "department"),
            ({"priority": "high"}, "priority"),
            ({"priority": True}, "priority"),
            ({"priority": 1.5}, "priority"),
            ({"priority": 10**7}, "priority"),
            ({"priority": -(10**7)}, "priority"),
            ({"keywords": "燃气"}, "keywords"),
            ({"keywords": ["燃气", 1]}, "keywords"),
            ({"keywords": ["燃\x00气"]}, "keywords"),
            ({"keywords": ["\ud800"]}, "keywords"),
            ({"assisting": ["ro\x00ads"]}, "assisting"),
            ({"category": "nope"}, "category"),
            ({"category": 3}, "category"),
            ({"district": "north"}, "district"),
            ({"type": "gossip"}, "type"),
            ({"urgency": "soon"}, "urgency"),
            ({"assisting": ["water"]}, "assisting"),  # the lead cannot assist
            ({"assisting": "roads"}, "assisting"),
            ({"assisting": ["nowhere"]}, "assisting"),
            ({"active": "yes"}, "active"),
            ({"name": 5}, "name"),
            ({"id": "7"}, "id"),
            ({"keyword": ["燃气"]}, "keyword"),
        ],
    )
    def test_invalid_rules_are_400s_and_store_nothing(self, api, city, saved, body, field):
        before = stored_rules()
        fields = body if field == "department" else {"department": "water", **body}
        assert_error(api(city.admin).post(RULES, json=fields), 400, "invalid_input", field)
        put = {k: v for k, v in fields.items() if field == "department" or k != "department"}
        if put:  # an empty PUT is a valid "change nothing"
            assert_error(api(city.admin).put(f"{RULES}/{saved['id']}", json=put), 400, "invalid_input", field)
        assert stored_rules() == before

    def test_a_body_that_is_not_json_is_refused(self, api, city):
        response = api(city.admin).post(RULES, data="department=water", content_type="text/plain")
        assert_error(response, 415, "unsupported_media_type")
        assert_error(api(city.admin).post(RULES, data=b"[]", content_type="application/json"), 400, "invalid_json")
        assert stored_rules() == []

    @pytest.mark.parametrize("who", ["dispatcher", "supervisor", "admin"])
    def test_dispatchers_supervisors_and_admins_read_the_catalogue(self, api, city, saved, who):
        client = api(getattr(city, who))
        assert client.get(RULES).get_json() == [saved]
        assert client.get(f"{RULES}/{saved['id']}").status_code == 200

    @pytest.mark.parametrize("who", ["operator", "roads_staff"])
    def test_operators_and_departments_may_not_read_it(self, api, city, saved, who):
        assert_error(api(getattr(city, who)).get(RULES), 403, "forbidden")
        assert_error(api(getattr(city, who)).get(f"{RULES}/{saved['id']}"), 403, "forbidden")

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor"])
    def test_only_admins_change_it(self, api, city, saved, who):
        before = stored_rules()
        client = api(getattr(city, who))
        assert_error(client.post(RULES, json={"department": "water"}), 403, "forbidden")
        assert_error(client.put(f"{RULES}/{saved['id']}", json={"priority": 1}), 403, "forbidden")
        assert_error(client.delete(f"{RULES}/{saved['id']}"), 403, "forbidden")
        assert stored_rules() == before

    def test_no_token_is_401(self, client, city, saved):
        for response in (
            client.get(RULES),
            client.post(RULES, json={"department": "water"}),
            client.put(f"{RULES}/{saved['id']}", json={"priority": 1}),
            client.delete(f"{RULES}/{saved['id']}"),
            client.post(TEST, json={"sample": {"category": "potholes"}}),
        ):
            assert_error(response, 401, "unauthorized")
        assert len(stored_rules()) == 1


class TestTester:
    SAMPLE = {"category": "potholes", "district": "east", "description": "小区里燃气泄漏"}

    def test_against_the_saved_rules(self, api, city, saved):
        sample = {**self.SAMPLE, "description": "路面塌陷了", "type": "complaint", "urgency": "normal"}
        response = api(city.dispatcher).post(TEST, json={"sample": sample})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["by"] == "rule" and body["department"] == "water" and body["assisting"] == ["police"]
        assert body["rule"] == {"id": saved["id"], "priority": 10, "name": "坑洼转水务"}
        assert body["confidence"] is None and "坑洼转水务" in body["reason"]
        assert body["trace"] == [{"rule": saved["id"], "priority": 10, "matched": True, "failed": None}]

    def test_a_rule_that_fails_says_which_condition(self, api, city, saved):
        body = api(city.supervisor).post(TEST, json={"sample": self.SAMPLE}).get_json()
        assert (body["by"], body["department"], body["rule"]) == ("category_default", "roads", None)
        assert body["trace"] == [{"rule": saved["id"], "priority": 10, "matched": False, "failed": "keywords"}]

    def test_against_an_unsaved_rule_set(self, api, city, saved):
        rules = [
            {"priority": 5, "keywords": ["路灯"], "department": "water", "id": 1},
            {"priority": 1, "keywords": ["燃气"], "department": "water", "name": "gas", "assisting": ["roads"]},
            {"priority": 9, "department": "roads", "id": 3},
        ]
        body = api(city.admin).post(TEST, json={"sample": self.SAMPLE, "rules": rules}).get_json()
        assert (body["by"], body["department"], body["assisting"]) == ("rule", "water", ["roads"])
        assert body["rule"] == {"id": None, "priority": 1, "name": "gas"}
        assert body["trace"] == [{"rule": None, "priority": 1, "matched": True, "failed": None}]
        rules[1]["keywords"] = ["煤气"]
        body = api(city.admin).post(TEST, json={"sample": self.SAMPLE, "rules": rules}).get_json()
        assert [(s["rule"], s["failed"]) for s in body["trace"]] == [(None, "keywords"), (1, "keywords"), (3, None)]
        assert body["department"] == "roads"
        assert len(stored_rules()) == 1  # trying saves nothing

    def test_an_empty_rule_set_leaves_the_category_default(self, api, city, saved):
        body = api(city.admin).post(TEST, json={"sample": {"category": "potholes"}, "rules": []}).get_json()
        assert (body["by"], body["department"], body["trace"]) == ("category_default", "roads", [])

    def test_no_rule_and_no_default(self, api, city):
        body = api(city.admin).post(TEST, json={"sample": {"category": "other", "description": "?"}}).get_json()
        assert (body["by"], body["department"], body["assisting"], body["rule"]) == ("none", None, [], None)
        assert body["reason"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "sample"),
            ({"sample": None}, "sample"),
            ({"sample": "potholes"}, "sample"),
            ({"sample": {}}, "category"),
            ({"sample": {"category": "nope"}}, "category"),
            ({"sample": {"category": "potholes", "district": "north"}}, "district"),
            ({"sample": {"category": "potholes", "colour": "red"}}, "sample.colour"),
            ({"sample": {"category": "potholes", "description": 5}}, "sample.description"),
            ({"sample": {"category": "potholes", "description": "a\x00b"}}, "sample.description"),
            ({"sample": {"category": "pot\x00holes"}}, "sample.category"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "wa\x00ter"}]}, "rules[0].department"),
            ({"sample": {"category": "potholes", "type": "gossip"}}, "sample.type"),
            ({"sample": {"category": "potholes", "urgency": "soon"}}, "sample.urgency"),
            ({"sample": {"category": "potholes"}, "rules": {"department": "water"}}, "rules"),
            ({"sample": {"category": "potholes"}, "rules": ["water"]}, "rules[0]"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "water"}, {}]}, "department"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "nowhere"}]}, "department"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "water", "prio": 1}]}, "rules[0].prio"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "water", "priority": "1"}]}, "rules[0].priority"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "water", "keywords": [None]}]}, "rules[0].keywords"),
            ({"sample": {"category": "potholes"}, "rules": [{"department": "water", "id": True}]}, "rules[0].id"),
            ({"sample": {"category": "potholes"}, "rule": []}, "rule"),
        ],
    )  # fmt: skip
    def test_bad_tests_are_400s(self, api, city, saved, body, field):
        assert_error(api(city.admin).post(TEST, json=body), 400, "invalid_input", field)
        assert stored_rules() == [saved]

    @pytest.mark.parametrize("who", ["operator", "roads_staff"])
    def test_operators_and_departments_may_not_try(self, api, city, who):
        assert_error(api(getattr(city, who)).post(TEST, json={"sample": {"category": "potholes"}}), 403, "forbidden")

    def test_get_on_the_tester_is_not_a_rule(self, api, city):
        assert_error(api(city.admin).get(TEST), 404, "not_found")


class TestSuggestions:
    @pytest.fixture
    def model(self, monkeypatch):
        asked = []

        def suggest(text, limit=3):
            asked.append((text, limit))
            found = [suggestions.Suggestion("water", 0.81234), suggestions.Suggestion("roads", 0.1)]
            return found[:limit]

        monkeypatch.setattr(suggestions, "suggest", suggest)
        return asked

    @pytest.mark.parametrize("who", ["dispatcher", "supervisor", "admin"])
    def test_the_most_likely_departments(self, api, city, pending, model, who):
        response = api(getattr(city, who)).get(url(pending, "suggestions"))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == [
            {"department": "water", "confidence": 0.812},
            {"department": "roads", "confidence": 0.1},
        ]
        assert model == [(pending.description, 3)]

    def test_a_limit(self, api, city, pending, model):
        assert len(api(city.dispatcher).get(url(pending, "suggestions") + "?limit=1").get_json()) == 1
        api(city.dispatcher).get(url(pending, "suggestions") + "?limit=500")
        assert [limit for _text, limit in model] == [1, 10]  # capped
        assert_error(api(city.dispatcher).get(url(pending, "suggestions") + "?limit=0"), 400, "invalid_input", "limit")

    def test_without_a_model_there_are_none(self, api, city, pending, monkeypatch):
        monkeypatch.setattr(suggestions, "suggest", lambda text, limit=3: [])
        assert api(city.dispatcher).get(url(pending, "suggestions")).get_json() == []

    @pytest.mark.parametrize("who", ["operator", "roads_staff"])
    def test_only_for_dispatching_roles(self, api, city, routed, model, who):
        assert_error(api(getattr(city, who)).get(url(routed, "suggestions")), 403, "forbidden")

    def test_an_unknown_ticket_is_404(self, api, city, model):
        assert_error(api(city.dispatcher).get("/api/v1/tickets/20990101-000001/suggestions"), 404, "not_found")


@pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff", "supervisor", "admin"])
def test_return_reasons_for_everyone(api, city, who):
    response = api(getattr(city, who)).get("/api/v1/return-reasons")
    assert response.status_code == 200
    reasons = response.get_json()
    assert {"code": "not_our_remit", "name": "不属于本单位职责"} in reasons
    assert {"code": "other", "name": "其他"} in reasons
    assert all(set(reason) == {"code", "name"} for reason in reasons)


def test_return_reasons_need_a_token(client, city):
    assert_error(client.get("/api/v1/return-reasons"), 401, "unauthorized")


class TestMisroutingReport:
    URL = "/api/v1/reports/misrouting"

    def test_returns_and_reassignments_per_rule_and_category(self, api, city):
        made = routing.save_rule({"category": "potholes", "department": "roads", "name": "坑洼规则"})
        factories.make_routed_ticket(city.operator)  # kept
        returned = factories.make_routed_ticket(city.operator)
        tickets.return_to_dispatch(city.roads_staff, returned, "not ours")
        tickets.dispatch(city.dispatcher, returned, "water")
        reassigned = factories.make_routed_ticket(city.operator, category="water-supply")
        tickets.dispatch(city.dispatcher, reassigned, "roads")

        response = api(city.supervisor).get(self.URL)  # the last 30 days by default
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"rules", "categories"}
        rules = {row["key"]: row for row in body["rules"]}
        assert rules[f"rule:{made.id}"] == {
            "key": f"rule:{made.id}",
            "label": "坑洼规则",
            "routed": 2,
            "returned": 1,
            "reassigned": 0,
            "ping_pong": 0,
            "misrouting_rate": 0.5,
        }
        assert (rules["category_default"]["routed"], rules["category_default"]["reassigned"]) == (1, 1)
        assert (rules["dispatcher"]["routed"], rules["dispatcher"]["misrouting_rate"]) == (2, 0)
        categories = {row["key"]: row for row in body["categories"]}
        assert (categories["potholes"]["label"], categories["potholes"]["routed"]) == (
            "城乡建设 / 道路坑洼",
            3,
        )  # the full path (issue 16): 其他 alone says nothing
        assert categories["potholes"]["returned"] == 1
        assert categories["water-supply"]["reassigned"] == 1

    def test_an_empty_range(self, api, city):
        factories.make_routed_ticket(city.operator)
        response = api(city.admin).get(f"{self.URL}?from=2020-01-01&to=2020-01-31")
        assert response.get_json() == {"rules": [], "categories": []}

    @pytest.mark.parametrize(
        ("query", "field"),
        [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-02-01&to=2026-01-01", "from"),
         ("from=2020-01-01&to=2026-01-01", "from")],
    )  # fmt: skip
    def test_bad_dates_are_400s(self, api, city, query, field):
        assert_error(api(city.supervisor).get(f"{self.URL}?{query}"), 400, "invalid_input", field)

    @pytest.mark.parametrize("who", ["operator", "dispatcher", "roads_staff"])
    def test_for_supervisors_and_admins(self, api, city, who):
        assert_error(api(getattr(city, who)).get(self.URL), 403, "forbidden")
