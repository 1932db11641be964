"""Fuzzing /api/v1 against its own OpenAPI description (schemathesis, in-process on the WSGI app).

For every operation, requests generated from the description (valid ones and invalid ones)
are sent as an administrator, then as an operator and as department staff, in a small city
with tickets in several states, a routing rule, an SLA policy and knowledge articles, so that
most numbers and ids in paths name something real. Every answer must be no 5xx, a status
code the description lists, JSON where it says so, and a body its schema accepts.

Bounded and reproducible: a few examples per operation, derandomized (the same cases every run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline.services.accounts.users import issue_token
from hotline.services.citizens import calls
from hotline.services.city import areas
from hotline.services.clocks import policies
from hotline.services.dispatch import routing
from hotline.services.ticketing import attachments, tickets
from tests import attachment_files, factories
from tests.knowledge_factories import make_city_articles

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Generated cases per operation and mode; HOTLINE_FUZZ_EXAMPLES=200 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "5"))
# How path parameters are picked: an existing number or id most of the time, else the generated one.
PICKS = 8


@dataclass
class World:
    token: str
    numbers: list[str]
    ids: dict[str, list[int]]
    statuses: dict[int, int] = field(default_factory=dict)


def _world(role: str) -> World:
    """The city, tickets in the main states, and the `role`'s token."""
    city = factories.make_city()
    new = factories.make_ticket(city.operator)
    desk = factories.make_routed_ticket(city.operator, category="other", description="不知道归谁管的问题")
    dispatched = factories.make_routed_ticket(city.operator)
    working = factories.make_routed_ticket(city.operator, description="路灯不亮了，请尽快修理。")
    tickets.accept(city.roads_staff, working, None)
    confidential = factories.make_routed_ticket(city.operator, confidential=True, caller_phone="13900139000")
    articles = make_city_articles(city)
    photo = attachments.add(city.roads_staff, working, attachment_files.photo_with_location())  # issue 18 item 5
    rule = routing.save_rule({"priority": 5, "name": "路灯", "keywords": ["路灯"], "department": "roads"})
    policy = policies.create_policy(
        city.admin,
        {
            "urgency": "urgent",
            "accept_amount": 30,
            "accept_unit": "calendar_minutes",
            "resolve_amount": 24,
            "resolve_unit": "calendar_hours",
        },
    )
    answered = calls.mark_queued(calls.log_call("CAfuzz1", "13800138000", "12345"))
    calls.end_call(calls.answer_call(city.operator, answered))
    calls.end_call(calls.mark_queued(calls.log_call("CAfuzz2", "13700137000", "12345")))  # the call report's figures
    area = areas.save_area(city.supervisor, "人民路", [[39.905, 116.405], [39.905, 116.415], [39.915, 116.405]])
    user = {"admin": city.admin, "operator": city.operator, "department": city.roads_staff}[role]
    return World(
        token=issue_token(user),
        numbers=[t.number for t in (new, desk, dispatched, working, confidential)],
        ids={
            "rule_id": [rule.id],
            "policy_id": [policy.id],
            "article_id": [article.id for article in articles.values()],
            "attachment_id": [photo.id],
            "area_id": [area.id],  # hotspot areas (issue 18 item 4)
        },
    )


@pytest.mark.parametrize("role", ["admin", "operator", "department"])
def test_api_conforms_to_its_description(app, holidays, role):
    """`holidays` restores the calendar, which the calendar routes change, afterwards."""
    world = _world(role)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        # The description's examples first (real codes: they get past validation), then generated data.
        strategies = [(strategy, "example") for strategy in operation.get_strategies_from_examples()]
        strategies += [(operation.as_strategy(generation_mode=mode), mode.value) for mode in GenerationMode]
        for strategy, kind in strategies:
            try:
                cases += _fuzz(strategy, 1 if kind == "example" else MAX_EXAMPLES, world)
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body): the valid cases covered it
            except (Exception, BaseExceptionGroup) as error:  # one failing operation must not hide the others
                failures.append(f"{operation.label} ({kind}): {error}")
    print(f"{role}: {cases} cases, statuses {dict(sorted(world.statuses.items()))}")
    assert not failures, "\n\n".join(failures)


def _fuzz(strategy, examples: int, world: World) -> int:
    sent = 0

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure shows the request as curl
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, pick=st.integers(min_value=0, max_value=PICKS))
    def run(case, pick):
        nonlocal sent
        for name in list(case.path_parameters or {}):
            known = world.numbers if name == "number" else world.ids.get(name)
            if known and pick < PICKS:
                case.path_parameters[name] = known[pick % len(known)]
        sent += 1
        response = case.call_and_validate(headers={"Authorization": f"Bearer {world.token}"}, checks=CHECKS)
        world.statuses[response.status_code] = world.statuses.get(response.status_code, 0) + 1

    run()
    return sent


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/response-times?from=9999-12-01&to=9999-12-31",
        "/api/v1/reports/response-times?from=0001-01-01&to=0001-01-02&exact=1",
        "/api/v1/reports/misrouting?from=0001-01-01&to=0001-01-02",
        "/api/v1/reports/calls?from=0001-01-01&to=0001-01-02&group_by=hour",
        "/api/v1/search/tickets?q=路面&to=9999-12-31",
        "/api/v1/search/tickets?q=路面&from=0001-01-01",
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_bad_input(api, city, url):
    """Found by the fuzzer: such a day has no UTC bounds (OverflowError), which was a 500."""
    response = api(city.supervisor).get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_input"
    assert response.get_json()["field"] in ("from", "to")
