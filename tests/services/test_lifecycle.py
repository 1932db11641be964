"""The lifecycle table (`services/ticketing/lifecycle.py`) is what the rest reads: every action is taken
by a route (or a job), each route has a row in the authorisation matrix, each event a label on
the timeline in both languages; the page's action cards and the API's `actions` come from it;
and nothing but the lifecycle module writes a ticket's state."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from hotline.labels import EVENT_LABELS
from hotline.models import Role, Status
from hotline.services.errors import Conflict, PermissionDenied
from hotline.services.ticketing import assists, deadlines, lifecycle, tickets
from hotline.services.ticketing.lifecycle import ACTIONS
from tests import factories
from tests.test_authorization_matrix import DEPARTMENTS, MATRIX

PACKAGE = Path(__file__).resolve().parents[2] / "hotline"
CHINESE = re.compile("[\u4e00-\u9fff]")
# The matrix's callers by the role they hold (two department users: the holding one and another).
MATRIX_ROLES = {"operator": Role.OPERATOR, "dispatcher": Role.DISPATCHER, "supervisor": Role.SUPERVISOR}
MATRIX_ROLES |= {"admin": Role.ADMIN} | dict.fromkeys(DEPARTMENTS, Role.DEPARTMENT)


class TestTheTable:
    def test_every_action_is_taken_by_a_route_or_a_job(self, app: Flask):
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
        for action in ACTIONS.values():
            assert action.routes or action.job, f"{action.name}: no route or job takes it"
            for endpoint in action.routes:
                assert endpoint in endpoints, f"{action.name}: no route {endpoint}"
            if action.job:
                module, function = action.job.rsplit(".", 1)
                assert callable(getattr(importlib.import_module(module), function)), action.name
            if action.roles:  # a person takes it: on a page or through the API
                assert any(e.startswith(("tickets.", "api.", "intake.")) for e in action.routes), action.name

    def test_every_route_of_an_action_has_a_row_in_the_matrix_that_agrees_with_the_roles(self):
        for action in ACTIONS.values():
            for endpoint in action.routes:
                rows = [row for row in MATRIX if row.endpoint == endpoint and row.method == "POST"]
                assert rows, f"{action.name}: no row for {endpoint} in the authorisation matrix"
                if not action.roles or any(row.kind not in ("web", "api") for row in rows):
                    continue  # the system's (webhooks sign, they do not log in)
                for row in rows:
                    roles = {MATRIX_ROLES[caller] for caller in row.allow}
                    assert roles <= set(action.roles), f"{action.name}: {endpoint} lets {roles - set(action.roles)} in"

    def test_every_event_has_a_label_on_the_timeline_in_both_languages(self, app: Flask):
        for action in ACTIONS.values():
            assert action.event_kind in EVENT_LABELS, f"{action.name}: no label for {action.event_kind}"
            label = EVENT_LABELS[action.event_kind]
            with app.test_request_context():
                with force_locale("en"):
                    english = str(label)
                with force_locale("zh_CN"):
                    chinese = str(label)
            assert english and not CHINESE.search(english), action.name
            assert CHINESE.search(chinese) and chinese != english, f"{action.event_kind}: not translated"

    def test_states_and_moves_are_known_states(self):
        for action in ACTIONS.values():
            assert set(action.from_states) <= set(Status.ALL), action.name
            assert action.to_state is None or action.to_state in Status.ALL, action.name
            assert action.clocks in ("", *lifecycle.CLOCK_EFFECTS), action.name

    def test_nothing_but_the_lifecycle_writes_a_tickets_state(self):
        write = re.compile(r"\bticket\.status\s*=(?!=)|\bupdate\(Ticket\)[^;]*?\.values\([^)]*\bstatus=", re.S)
        writers = [
            str(path.relative_to(PACKAGE))
            for path in PACKAGE.rglob("*.py")
            if path.name != "lifecycle.py" and write.search(path.read_text(encoding="utf-8"))
        ]
        assert writers == []
        assert write.search((PACKAGE / "services" / "ticketing" / "lifecycle.py").read_text(encoding="utf-8"))

    def test_derived_data_is_kept_in_step_by_calls_not_by_listeners_on_the_session(self):
        hooks = re.compile(r"(listens_for|event\.listen)\(\s*(Session|db\.session|scoped_session)")
        hooked = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if hooks.search(p.read_text("utf-8"))]
        assert hooked == []
        # Nor imported for their side effects (as `create_app` once imported `report_figures`).
        unused = re.compile(r"import [^\n]*\b(report_figures|ticket_search|derived)\b[^\n]*# noqa: F401")
        assert [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if unused.search(p.read_text("utf-8"))] == []


def dispatched(city):
    ticket = factories.make_ticket(city.operator)
    return tickets.dispatch(city.dispatcher, ticket, "roads")


class TestAllowed:
    def test_the_actions_follow_the_state_the_role_and_the_relation(self, city):
        ticket = dispatched(city)
        contact = ["contact", "call_citizen", "reveal_phone"]  # contact with the citizen (issue 17)
        assert lifecycle.allowed(city.roads_staff, ticket) == ["accept", "return", "extend", "notes", *contact]
        assert lifecycle.allowed(city.water_staff, ticket) == []  # not theirs: not even a note
        assert lifecycle.allowed(city.operator, ticket) == ["notes"]
        assert lifecycle.allowed(city.dispatcher, ticket) == ["reassign", "notes", "merge"]
        assert lifecycle.allowed(city.supervisor, ticket) == ["reassign", "urge", "notes", "merge"]
        tickets.accept(city.roads_staff, ticket)
        assert lifecycle.allowed(city.roads_staff, ticket) == ["resolve", "return", "wait", "extend", "notes", *contact]
        deadlines.request_extension(city.roads_staff, ticket, 2, "需要协调")
        assert "extend" not in lifecycle.allowed(city.roads_staff, ticket)
        assert lifecycle.allowed(city.supervisor, ticket) == [
            "reassign",
            "approve_extension",
            "refuse_extension",
            "urge",
            "notes",
            "merge",
        ]

    def test_a_new_ticket_offers_what_dispatchers_do(self, city):
        ticket = factories.make_ticket(city.operator)
        assert lifecycle.allowed(city.dispatcher, ticket) == ["dispatch", "notes", "merge"]
        assert lifecycle.allowed(city.operator, ticket) == ["notes"]

    def test_the_services_refuse_what_the_table_does_not_allow(self, city):
        ticket = dispatched(city)
        with pytest.raises(Conflict):
            tickets.resolve(city.roads_staff, ticket, "已修复。")  # not accepted yet
        assert ticket.status == Status.DISPATCHED

    def test_move_refuses_a_state_the_action_does_not_start_from(self, city):
        ticket = dispatched(city)
        with pytest.raises(ValueError):
            lifecycle.move(ticket, "resolve")
        assert ticket.status == Status.DISPATCHED


class TestRequire:
    """`require` is the one check of rights the services make: it agrees with what `allowed` offers."""

    def test_it_lets_in_exactly_whom_the_table_offers_the_action(self, city):
        ticket = tickets.dispatch(city.dispatcher, factories.make_ticket(city.operator), "roads", assisting=["water"])
        tickets.accept(city.roads_staff, ticket)
        people = (city.operator, city.dispatcher, city.roads_staff, city.water_staff, city.supervisor, city.admin)
        for actor in people:
            offered = lifecycle.allowed(actor, ticket)
            for name, action in ACTIONS.items():
                if not action.roles or ticket.status not in action.from_states:
                    continue
                try:
                    lifecycle.require(actor, ticket, name)
                    passed = True
                except PermissionDenied:
                    passed = False
                # `needs` (a request waiting) is a matter of state, not of rights: not asked here.
                if action.listed and not action.needs:
                    assert passed == (name in offered), (actor.username, name)
                else:
                    assert passed == (actor.role in action.roles and actor is not city.water_staff), name

    def test_the_services_refuse_with_the_same_words(self, city):
        ticket = tickets.dispatch(city.dispatcher, factories.make_ticket(city.operator), "roads", assisting=["water"])
        with force_locale("en"):
            with pytest.raises(PermissionDenied, match="Only the department that holds"):
                tickets.accept(city.water_staff, ticket)
            with pytest.raises(PermissionDenied, match="Your role may not"):
                tickets.dispatch(city.operator, ticket, "water")
            with pytest.raises(PermissionDenied, match="Your department does not assist"):
                assists.mark_done(city.roads_staff, ticket, "做完了")
            with pytest.raises(PermissionDenied, match="Only an assisting department"):
                assists.mark_done(city.supervisor, ticket, "做完了")
        assert ticket.status == Status.DISPATCHED

    def test_no_person_takes_the_systems_own_actions(self, city):
        ticket = dispatched(city)
        for name in ("route", "rate", "close", "reopen"):
            with pytest.raises(PermissionDenied):
                lifecycle.require(city.admin, ticket, name)


class TestApply:
    def test_it_checks_the_right_moves_the_state_starts_the_clocks_and_writes_the_event(self, city):
        ticket = dispatched(city)
        version = ticket.version
        with pytest.raises(PermissionDenied):
            lifecycle.apply(city.water_staff, ticket, "accept", expected_version=version)
        with pytest.raises(Conflict):
            lifecycle.apply(city.roads_staff, ticket, "resolve", expected_version=version)
        assert ticket.status == Status.DISPATCHED and ticket.accepted_at is None
        event = lifecycle.apply(city.roads_staff, ticket, "accept", expected_version=version)
        assert (event.kind, event.from_status, event.to_status, event.actor) == (
            "accepted",
            Status.DISPATCHED,
            Status.IN_PROGRESS,
            city.roads_staff,
        )
        assert ticket.status == Status.IN_PROGRESS and ticket.accepted_at == event.at
        assert ticket.version == version + 1  # committed
        with pytest.raises(Conflict):  # the version it saw is gone
            lifecycle.apply(city.roads_staff, ticket, "wait", expected_version=version)
        event = lifecycle.apply(city.roads_staff, ticket, "wait", data={"reason": "缺照片"})
        assert ticket.paused_at == event.at and event.data == {"reason": "缺照片"}
        event = lifecycle.apply(None, ticket, "resume")  # the system: the citizen's text
        assert event.actor is None and "paused_working_minutes" in event.data and ticket.paused_at is None


class TestWhatTheUserIsOffered:
    def test_the_api_lists_the_actions(self, city, api):
        ticket = dispatched(city)
        body = api(city.roads_staff).get(f"/api/v1/tickets/{ticket.number}").get_json()
        # contact, call_citizen, reveal_phone: contact with the citizen (issue 17)
        assert body["actions"] == ["accept", "return", "extend", "notes", "contact", "call_citizen", "reveal_phone"]
        listed = api(city.roads_staff).get("/api/v1/tickets").get_json()["tickets"]
        assert [t["actions"] for t in listed if t["number"] == ticket.number] == [body["actions"]]
        answer = api(city.roads_staff).post(f"/api/v1/tickets/{ticket.number}/accept", json={"version": ticket.version})
        assert answer.status_code == 200
        assert answer.get_json()["actions"] == [
            *["resolve", "return", "wait", "extend", "notes"],
            *["contact", "call_citizen", "reveal_phone"],  # issue 17
        ]

    def test_the_page_shows_the_cards_of_the_allowed_actions(self, city, login):
        ticket = dispatched(city)
        page = login(city.roads_staff).get(f"/tickets/{ticket.number}").get_data(as_text=True)
        assert f"/tickets/{ticket.number}/accept" in page and f"/tickets/{ticket.number}/return" in page
        assert f"/tickets/{ticket.number}/resolve" not in page
        assert f"/tickets/{ticket.number}/dispatch" not in page
        page = login(city.dispatcher).get(f"/tickets/{ticket.number}").get_data(as_text=True)
        assert f"/tickets/{ticket.number}/dispatch" in page and f"/tickets/{ticket.number}/merge" in page
        assert f"/tickets/{ticket.number}/accept" not in page
