from datetime import timedelta

from hotline.extensions import db
from hotline.models import Status, TicketEvent
from hotline.models.types import utcnow
from hotline.services.ticketing import tickets
from tests import factories
from tests.web.conftest import reload, text_of, version_on_page


def _events(ticket) -> list[str]:
    events = db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    return [e.kind for e in db.session.scalars(events)]


def test_workbench_shows_own_department_only_and_masks_the_phone(login, city):
    roads = factories.make_routed_ticket(city.operator, description="人民路有坑")
    water = factories.make_routed_ticket(city.operator, category="water-supply", description="小区停水")
    html = text_of(login(city.roads_staff).get("/tickets"))
    assert roads.number in html
    assert water.number not in html
    assert "138****8000" in html
    assert "13800138000" not in html


def test_workbench_sorts_by_deadline_and_marks_the_overdue(login, city):
    later = factories.make_routed_ticket(city.operator)
    overdue = factories.make_routed_ticket(city.operator)
    overdue.resolve_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    html = text_of(login(city.roads_staff).get("/tickets"))
    assert html.index(overdue.number) < html.index(later.number)
    row = html[html.rindex("<tr", 0, html.index(overdue.number)) : html.index(overdue.number)]
    assert "table-danger" in row
    assert "Overdue" in html


def test_workbench_tabs_filter_by_status(login, city):
    waiting = factories.make_routed_ticket(city.operator)
    working = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, working)
    client = login(city.roads_staff)
    to_accept = text_of(client.get("/tickets?tab=dispatched"))
    assert waiting.number in to_accept and working.number not in to_accept
    in_progress = text_of(client.get("/tickets?tab=in_progress"))
    assert working.number in in_progress and waiting.number not in in_progress
    assert client.get("/tickets?tab=bogus").status_code == 200


def test_ticket_list_for_other_roles_filters_and_searches(login, city):
    roads = factories.make_routed_ticket(city.operator)
    water = factories.make_routed_ticket(city.operator, category="water-supply", caller_phone="13912345678")
    client = login(city.dispatcher)
    html = text_of(client.get("/tickets"))
    assert roads.number in html and water.number in html
    assert "13800138000" in html  # not masked for the call centre
    by_department = text_of(client.get("/tickets?department=water"))
    assert water.number in by_department and roads.number not in by_department
    by_phone = text_of(client.get("/tickets?q=139 1234 5678"))
    assert water.number in by_phone and roads.number not in by_phone
    by_status = text_of(client.get("/tickets?status=resolved"))
    assert roads.number not in by_status and water.number not in by_status
    assert client.get("/tickets?page=abc&status=bogus").status_code == 200


def test_ticket_page_shows_fields_timeline_and_masks_for_departments(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.add_note(city.roads_staff, ticket, "已联系来电人")
    html = text_of(login(city.roads_staff).get(f"/tickets/{ticket.number}"))
    assert "138****8000" in html and "13800138000" not in html
    assert "道路管理局" in html
    assert "城乡建设 / 道路坑洼" in html
    for label in ("Logged", "Routed", "Note"):
        assert label in html
    assert "已联系来电人" in html
    assert "/accept" in html and "/return" in html
    assert "/resolve" not in html  # only once accepted
    assert "/dispatch" not in html
    operator_view = text_of(login(city.operator).get(f"/tickets/{ticket.number}"))
    assert "13800138000" in operator_view
    assert "/accept" not in operator_view  # the call centre does not sign for tickets


def test_confidential_caller_name_is_hidden_from_departments(login, city):
    ticket = factories.make_routed_ticket(city.operator, confidential=True)
    html = text_of(login(city.roads_staff).get(f"/tickets/{ticket.number}"))
    assert "张三" not in html
    assert "张三" in text_of(login(city.operator).get(f"/tickets/{ticket.number}"))


def test_accept_then_resolve_through_the_forms(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.roads_staff)
    page = text_of(client.get(f"/tickets/{ticket.number}"))
    response = client.post(f"/tickets/{ticket.number}/accept", data={"version": version_on_page(page, "accept")})
    assert response.status_code == 302
    assert response.location == f"/tickets/{ticket.number}"
    assert reload(ticket).status == Status.IN_PROGRESS
    page = text_of(client.get(f"/tickets/{ticket.number}"))
    assert f"Ticket {ticket.number} accepted." in page
    response = client.post(
        f"/tickets/{ticket.number}/resolve",
        data={"version": version_on_page(page, "resolve"), "resolution": "已修复路面。"},
        follow_redirects=True,
    )
    ticket = reload(ticket)
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution == "已修复路面。"
    assert f"Ticket {ticket.number} resolved." in text_of(response)
    assert _events(ticket)[-2:] == ["accepted", "resolved"]


def test_resolve_without_a_reply_changes_nothing(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/resolve", data={"version": ticket.version, "resolution": " "}, follow_redirects=True
    )
    assert "Write the reply to the citizen." in text_of(response)
    assert reload(ticket).status == Status.IN_PROGRESS


def test_stale_version_is_a_conflict_and_changes_nothing(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.roads_staff)
    seen = version_on_page(text_of(client.get(f"/tickets/{ticket.number}")), "return")
    # A colleague accepts the ticket in the meantime.
    colleague = factories.make_user("department", city.roads)
    tickets.accept(colleague, ticket)
    response = client.post(
        f"/tickets/{ticket.number}/return", data={"version": seen, "reason": "不归我们管"}, follow_redirects=True
    )
    html = text_of(response)
    assert f"Ticket {ticket.number} was changed by someone else meanwhile; reload it and try again." in html
    ticket = reload(ticket)
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.department == city.roads
    assert "returned" not in _events(ticket)


def test_missing_or_garbled_version_changes_nothing(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.roads_staff)
    for version in ("", "abc"):
        response = client.post(f"/tickets/{ticket.number}/accept", data={"version": version}, follow_redirects=True)
        assert "The form is out of date" in text_of(response)
    assert reload(ticket).status == Status.DISPATCHED


def test_action_not_possible_in_this_state(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/resolve",
        data={"version": ticket.version, "resolution": "好了"},
        follow_redirects=True,
    )
    assert "this action is not possible now" in text_of(response)
    assert reload(ticket).status == Status.DISPATCHED


def test_return_with_reason_goes_back_to_the_workbench(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.roads_staff)
    response = client.post(f"/tickets/{ticket.number}/return", data={"version": ticket.version, "reason": "属于水务局"})
    assert response.status_code == 302
    assert response.location == "/tickets"
    ticket = reload(ticket)
    assert ticket.status == Status.PENDING_DISPATCH
    assert ticket.department is None
    assert client.get(f"/tickets/{ticket.number}").status_code == 404  # no longer theirs


def test_return_without_reason_is_refused(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/return", data={"version": ticket.version, "reason": ""}, follow_redirects=True
    )
    assert "Say why the ticket is returned." in text_of(response)
    assert reload(ticket).status == Status.DISPATCHED


def test_note_through_the_form(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    client = login(city.operator)
    response = client.post(
        f"/tickets/{ticket.number}/notes", data={"version": ticket.version, "text": "来电人再次来电催促"}
    )
    assert response.status_code == 302
    assert "来电人再次来电催促" in text_of(client.get(f"/tickets/{ticket.number}"))
    response = client.post(
        f"/tickets/{ticket.number}/notes", data={"version": ticket.version, "text": ""}, follow_redirects=True
    )
    assert "The note is empty." in text_of(response)
    assert _events(reload(ticket)).count("note") == 1


def test_dispatch_through_the_form(login, city):
    ticket = factories.make_routed_ticket(city.operator, category="other")
    assert ticket.status == Status.PENDING_DISPATCH
    client = login(city.dispatcher)
    page = text_of(client.get(f"/tickets/{ticket.number}"))
    version = version_on_page(page, "dispatch")
    response = client.post(
        f"/tickets/{ticket.number}/dispatch", data={"version": version, "department": "nowhere"}, follow_redirects=True
    )
    assert "Unknown department “nowhere”." in text_of(response)
    assert reload(ticket).status == Status.PENDING_DISPATCH
    response = client.post(f"/tickets/{ticket.number}/dispatch", data={"version": version, "department": "water"})
    assert response.location == f"/tickets/{ticket.number}"
    ticket = reload(ticket)
    assert ticket.status == Status.DISPATCHED
    assert ticket.department == city.water
    # The same (now stale) form again: a conflict, nothing changes.
    response = client.post(
        f"/tickets/{ticket.number}/dispatch", data={"version": version, "department": "roads"}, follow_redirects=True
    )
    assert "changed by someone else meanwhile" in text_of(response)
    assert reload(ticket).department == city.water


def test_other_departments_ticket_is_not_found(login, city):
    ticket = factories.make_routed_ticket(city.operator)  # held by roads
    client = login(city.water_staff)
    assert client.get(f"/tickets/{ticket.number}").status_code == 404
    for action, data in {
        "accept": {},
        "return": {"reason": "x"},
        "notes": {"text": "x"},
        "resolve": {"resolution": "x"},
    }.items():
        response = client.post(f"/tickets/{ticket.number}/{action}", data={"version": ticket.version, **data})
        assert response.status_code == 404, action
    ticket = reload(ticket)
    assert ticket.status == Status.DISPATCHED
    assert _events(ticket) == ["created", "routed"]


def test_unknown_ticket_is_404(login, city):
    assert login(city.operator).get("/tickets/20000101-999999").status_code == 404


def test_dispatcher_reassigns_with_an_assisting_department(login, city):
    ticket = factories.make_routed_ticket(city.operator)  # with roads
    client = login(city.dispatcher)
    page = text_of(client.get(f"/tickets/{ticket.number}"))
    assert "Reassign" in page
    response = client.post(
        f"/tickets/{ticket.number}/dispatch",
        data={"version": version_on_page(page, "dispatch"), "department": "water", "assisting": ["roads"]},
        follow_redirects=True,
    )
    html = text_of(response)
    ticket = reload(ticket)
    assert ticket.department == city.water
    assert "From 道路管理局" in html and "To 水务局" in html and "Assisting: 道路管理局" in html


def test_return_after_the_window_waits_for_a_supervisor(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    ticket.dispatched_at = ticket.dispatched_at - timedelta(days=20)  # long past the return window
    db.session.commit()
    department = login(city.roads_staff)
    page = text_of(department.get(f"/tickets/{ticket.number}"))
    assert '<option value="not_our_remit">不属于本单位职责</option>' in page
    response = department.post(
        f"/tickets/{ticket.number}/return",
        data={"version": version_on_page(page, "return"), "reason_code": "not_our_remit", "reason": "应由水务局办理"},
        follow_redirects=True,
    )
    html = text_of(response)
    assert "waits for a supervisor" in html
    assert "应由水务局办理" in html
    assert reload(ticket).department == city.roads  # still theirs until decided
    supervisor = login(city.supervisor)
    page = text_of(supervisor.get(f"/tickets/{ticket.number}"))
    supervisor.post(
        f"/tickets/{ticket.number}/return/approve", data={"version": version_on_page(page, "return/approve")}
    )
    ticket = reload(ticket)
    assert ticket.status == Status.PENDING_DISPATCH
    assert ticket.department is None


def test_unknown_return_reason_changes_nothing(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    response = login(city.roads_staff).post(
        f"/tickets/{ticket.number}/return",
        data={"version": ticket.version, "reason_code": "bogus", "reason": "x"},
        follow_redirects=True,
    )
    assert "Unknown return reason “bogus”." in text_of(response)
    assert reload(ticket).status == Status.DISPATCHED


def test_merged_ticket_shows_its_parent_and_the_parent_its_children(login, city):
    from hotline.services.ticketing import merging

    parent = factories.make_routed_ticket(city.operator)
    child = factories.make_routed_ticket(city.operator, category="other", description="同一个坑，再次反映")
    merging.merge_into(city.dispatcher, child, parent.number)
    client = login(city.dispatcher)
    html = text_of(client.get(f"/tickets/{child.number}"))
    banner = html[html.index("merged-into") :]
    assert f'href="/tickets/{parent.number}"' in banner[:600]
    assert "Merged" in html and f'Into <a href="/tickets/{parent.number}">{parent.number}</a>' in html
    assert "/merge" not in html and "/dispatch" not in html.split("<main")[1]  # a merged ticket takes no action
    html = text_of(client.get(f"/tickets/{parent.number}"))
    children = html[html.index('id="children"') :]
    assert f'href="/tickets/{child.number}"' in children and "同一个坑，再次反映" in children
    assert (
        f'Duplicate <a href="/tickets/{child.number}">{child.number}</a>' in html
    )  # the timeline's merge_received event


def test_merge_from_the_ticket_page(login, city):
    parent = factories.make_routed_ticket(city.operator)
    child = factories.make_routed_ticket(city.operator)
    client = login(city.dispatcher)
    page = text_of(client.get(f"/tickets/{child.number}"))
    response = client.post(
        f"/tickets/{child.number}/merge",
        data={"version": version_on_page(page, "merge"), "into": f" {parent.number} "},
        follow_redirects=True,
    )
    assert f"Ticket {child.number} merged into {parent.number}." in text_of(response)
    assert reload(child).status == Status.MERGED
    assert "/merge" not in text_of(login(city.roads_staff).get(f"/tickets/{parent.number}"))


def test_assisting_department_marks_its_part_done(login, city):
    ticket = factories.make_routed_ticket(city.operator)  # roads leads
    tickets.dispatch(city.dispatcher, ticket, "water", assisting=["roads"])  # water leads, roads assists
    lead, helper = login(city.water_staff), login(city.roads_staff)
    html = text_of(lead.get(f"/tickets/{ticket.number}"))
    assists = html[html.index('id="assists"') :]
    assert 'data-department="roads"' in assists and "Working on it" in assists
    assert "/assist-done" not in html  # the lead department resolves; it has no part to mark
    page = text_of(helper.get(f"/tickets/{ticket.number}"))
    assert "/assist-done" in page
    assert "/accept" not in page and "/return" not in page  # the lead's actions are not theirs
    response = helper.post(
        f"/tickets/{ticket.number}/assist-done", data={"version": ticket.version, "reply": " "}, follow_redirects=True
    )
    assert "Write what your department did." in text_of(response)
    response = helper.post(
        f"/tickets/{ticket.number}/assist-done",
        data={"version": version_on_page(page, "assist-done"), "reply": "已安排人员清理路面"},
        follow_redirects=True,
    )
    html = text_of(response)
    assert f"Your department’s part of ticket {ticket.number} is marked done." in html
    assists = html[html.index('id="assists"') :]
    assert "Done" in assists and "已安排人员清理路面" in assists
    assert "/assist-done" not in html
    assert reload(ticket).status == Status.DISPATCHED  # the ticket itself does not move
    assert "Assisting part done" in text_of(lead.get(f"/tickets/{ticket.number}"))
    # Only a department that assists may mark a part done.
    response = lead.post(f"/tickets/{ticket.number}/assist-done", data={"version": ticket.version, "reply": "x"})
    assert response.status_code == 302
    assert login(city.dispatcher).post(f"/tickets/{ticket.number}/assist-done", data={"reply": "x"}).status_code == 403


def test_sla_block_explains_the_deadlines(login, city):
    from hotline.services.clocks import policies
    from hotline.services.ticketing import deadlines

    policies.create_policy(
        city.admin,
        {
            "category": "infrastructure",
            "urgency": "normal",
            "accept_amount": 2,
            "accept_unit": "working_hours",
            "resolve_amount": 3,
            "resolve_unit": "working_days",
            "max_extension_days": 6,
        },
    )
    ticket = factories.make_routed_ticket(city.operator)
    html = text_of(login(city.supervisor).get(f"/tickets/{ticket.number}"))
    block = html[html.index('id="sla"') :]
    block = block[: block.index('id="timeline"') if 'id="timeline"' in block else len(block)]
    assert "Accept by" in block and "Resolve by" in block
    assert "Policy of the category 城乡建设" in block
    assert "Accept within 2 working hours; resolve within 3 working days." in block
    assert "of the time to resolve used" in block and "progress-bar bg-success" in block
    assert "at most 6 working days in all" in block
    assert "A return goes straight back to the dispatcher until" in block
    tickets.accept(city.roads_staff, ticket)
    deadlines.request_extension(city.roads_staff, ticket, 2, "材料未到")
    deadlines.approve_extension(city.supervisor, ticket)
    deadlines.request_extension(city.roads_staff, ticket, 1, "还需一天")
    deadlines.wait_on_citizen(city.roads_staff, ticket, "请补充门牌号")
    html = text_of(login(city.roads_staff).get(f"/tickets/{ticket.number}"))
    block = html[html.index('id="sla"') :]
    assert "(extended by 2 working days)" in block
    assert "1 more working day asked for, waiting for a supervisor." in block
    assert "waiting on the citizen: the clocks stand still" in block
    assert "Accept by" not in block  # accepted: that clock no longer runs


def test_sla_block_of_an_overdue_ticket_and_the_defaults(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    ticket.resolve_due_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    html = text_of(login(city.supervisor).get(f"/tickets/{ticket.number}"))
    block = html[html.index('id="sla"') :]
    assert "Built-in defaults" in block and "Accept within 4 working hours; resolve within 5 working days." in block
    assert "progress-bar bg-danger" in block and "overdue" in block and " left" not in block
    assert "Overdue" in block


def test_workbench_colours_by_sla_level_and_shows_the_time_left(login, city):
    soon = factories.make_routed_ticket(city.operator)
    soon.accepted_at = soon.dispatched_at  # accepted: the resolve clock is the one that runs
    soon.resolve_amber_at = utcnow() - timedelta(minutes=5)
    soon.resolve_due_at = utcnow() + timedelta(hours=2)
    fine = factories.make_routed_ticket(city.operator)
    db.session.commit()
    html = text_of(login(city.roads_staff).get("/tickets"))
    assert html.index(soon.number) < html.index(fine.number)
    row = html[html.rindex("<tr", 0, html.index(soon.number)) :]
    row = row[: row.index("</tr>")]
    assert 'data-level="amber"' in row and "table-warning" in row
    assert "of working time left" in row
    row = html[html.rindex("<tr", 0, html.index(fine.number)) :]
    assert 'data-level=""' in row[:200] and "Accept by" in row[: row.index("</tr>")]


def test_workbench_marks_the_tickets_the_department_assists_on(login, city):
    ticket = factories.make_routed_ticket(city.operator)
    tickets.dispatch(city.dispatcher, ticket, "water", assisting=["roads"])
    html = text_of(login(city.roads_staff).get("/tickets"))
    row = html[html.rindex("<tr", 0, html.index(ticket.number)) :]
    assert "Your department assists; the lead department is 水务局." in row[: row.index("</tr>")]
    own = text_of(login(city.water_staff).get("/tickets"))
    assert "Your department assists" not in own


def test_timeline_shows_the_citizens_rating(login, city):
    from hotline.services.citizens import survey

    ticket = factories.make_routed_ticket(city.operator)
    tickets.accept(city.roads_staff, ticket)
    tickets.resolve(city.roads_staff, ticket, "已修复")
    survey.record_rating(ticket, "basically_satisfied")
    html = text_of(login(city.supervisor).get(f"/tickets/{ticket.number}"))
    timeline = html[html.index("timeline-rated") :]
    assert "Rated by the citizen" in timeline and "Basically satisfied · SMS" in timeline


def test_the_header_shows_the_state_the_timeline_shows(login, city):
    """A worker routes a new ticket within a second of its intake: here, right after the page
    found the ticket by its number. The header and the timeline must agree."""
    from sqlalchemy import event as orm_event
    from sqlalchemy import update

    from hotline.models import Ticket, TicketEvent
    from hotline.models.types import utcnow

    ticket = factories.make_ticket(city.operator)
    ticket_id, number, roads_id = ticket.id, ticket.number, city.roads.id
    client = login(city.operator)
    db.session.commit()
    db.session.close()
    state = {"found": False, "routed": False}

    def route_meanwhile(conn, cursor, statement, parameters, context, executemany):
        if state["routed"]:
            return
        if not state["found"]:
            state["found"] = "ticket.number =" in statement  # the look-up by number
            return
        state["routed"] = True
        with db.engine.begin() as other:  # the worker's own connection and transaction
            other.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(status=Status.DISPATCHED, department_id=roads_id, version=Ticket.version + 1)
            )
            other.execute(
                TicketEvent.__table__.insert().values(
                    ticket_id=ticket_id,
                    kind="routed",
                    from_status=Status.NEW,
                    to_status=Status.DISPATCHED,
                    data={"department": "roads"},
                    at=utcnow(),
                )
            )

    orm_event.listen(db.engine, "before_cursor_execute", route_meanwhile)
    try:
        html = text_of(client.get(f"/tickets/{number}"))
    finally:
        orm_event.remove(db.engine, "before_cursor_execute", route_meanwhile)
    assert state["routed"]
    start = html.index("<h1")
    header = html[start : html.index("</div>", start)]
    fields = html[html.index("ticket-fields") : html.index('class="list-unstyled timeline"')]
    assert "timeline-routed" in html  # read after the routing, as the page is now
    assert "Dispatched" in header and "New" not in header
    assert "道路管理局" in fields
