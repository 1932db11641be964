"""The dispatcher's desk in headless Chromium (issue 16, item 4):

- ping-pong: choosing the department that returned a ticket shows a warning and makes the
  reason required; the reason is on the timeline and the misrouting report counts it; without
  JavaScript the warning and the field show and the server refuses a dispatch without reason;
- merging: the desk proposes the ticket to keep (the older one) with a hint, the merge form
  preselected, and one click merges the newer duplicate into it;
- assisting departments: a searchable multi-select (type, Enter, chips), the plain multiple
  select without JavaScript.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to the test's output folder (printed).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from hotline.extensions import db
from hotline.models import Status, Ticket
from hotline.services.ticketing import assists, tickets
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.browser.test_screens import OVERFLOWING_JS

pytestmark = [pytest.mark.browser]


def _seed(city) -> dict[str, Ticket]:
    """On the desk: a pothole that roads returned, a ticket with no department for the
    assisting list, and two duplicates of one streetlight call (the older logged 5 hours before)."""
    factories.make_department("gas", "燃气公司")
    factories.make_department("city-management", "城市管理局")
    returned = factories.make_routed_ticket(city.operator, caller_phone="13900000001")
    tickets.return_to_dispatch(city.roads_staff, returned, "路面属城管局管，请改派")
    helped = factories.make_routed_ticket(
        city.operator,
        category="other",
        caller_phone="13900000002",
        address="西城区解放路 8 号",
        description="燃气管道施工后路面未恢复。",
    )
    older = factories.make_routed_ticket(
        city.operator, category="other", caller_phone="13900000003", description="小区门口路灯不亮，晚上很黑。"
    )
    newer = factories.make_routed_ticket(
        city.operator, category="other", caller_phone="13900000003", description="小区门口的路灯坏了，晚上很黑。"
    )
    older.created_at = newer.created_at - timedelta(hours=5)
    helped.created_at = newer.created_at - timedelta(hours=4)
    returned.created_at = newer.created_at - timedelta(hours=6)
    db.session.commit()
    found = {"returned": returned, "helped": helped, "older": older, "newer": newer}
    numbers = {name: ticket.number for name, ticket in found.items()}
    db.session.close()  # no open read transaction may block the server on SQLite
    return numbers


def _ticket(number: str) -> Ticket:
    db.session.expire_all()
    return db.session.scalar(db.select(Ticket).where(Ticket.number == number))


def test_the_dispatchers_desk(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    numbers = _seed(city)
    print(f"screenshots in {tmp_path}")

    def shot(page, name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    page = new_page(browser, "en-US")
    page.goto(f"{live_server}/dispatch")
    log_in(page, "dispatcher")
    expect(page.locator(".desk-ticket")).to_have_count(4)
    shot(page, "01-desk")
    # On a phone: the warning, the search field and its chips fit the screen.
    page.set_viewport_size({"width": 390, "height": 900})
    phone_card = page.locator(f"#waiting-{numbers['returned']}")
    phone_card.locator("select[name=department]").select_option("roads")
    phone_card.locator(".multiselect-search").fill("局")
    overflow = page.evaluate(OVERFLOWING_JS)
    assert overflow["scrollWidth"] <= overflow["innerWidth"] and not overflow["elements"], overflow
    shot(page, "01-desk-390")
    phone_card.locator(".multiselect-search").fill("")
    phone_card.locator("select[name=department]").select_option("")
    page.set_viewport_size({"width": 1366, "height": 900})

    # --- ping-pong -------------------------------------------------------------------------
    card = page.locator(f"#waiting-{numbers['returned']}")
    block = card.locator(".ping-pong")
    expect(block).to_be_hidden()  # no department chosen yet: nothing to warn about
    card.locator("select[name=department]").select_option("roads")
    expect(block).to_be_visible()
    expect(block.locator(".ping-pong-warning")).to_contain_text(
        "Returned by 道路管理局. Dispatching it back to them needs a reason."
    )
    reason = block.locator("textarea[name=reason]")
    expect(reason).to_have_attribute("required", "")
    card.get_by_role("button", name="Dispatch").click()  # the browser asks for the reason first
    assert reason.evaluate("(field) => !field.validity.valid")
    assert _ticket(numbers["returned"]).status == Status.PENDING_DISPATCH
    shot(page, "02-ping-pong-warning")
    card.locator("select[name=department]").select_option("water")
    expect(block).to_be_hidden()  # another department: no reason needed
    card.locator("select[name=department]").select_option("roads")
    reason.fill("现场核实：塌陷在机动车道上，属道路管理局。")
    card.get_by_role("button", name="Dispatch").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Ticket {numbers['returned']} dispatched to 道路管理局.")
    event = _ticket(numbers["returned"]).events[-1]
    assert (event.data["reason"], event.data["ping_pong"]) == ("现场核实：塌陷在机动车道上，属道路管理局。", True)

    # --- assisting departments: search, choose, drop ---------------------------------------
    card = page.locator(f"#waiting-{numbers['helped']}")
    card.locator("select[name=department]").select_option("water")
    search = card.locator(".multiselect-search")
    expect(card.locator("select[name=assisting]")).to_be_hidden()
    options = card.locator(".multiselect-option")
    search.fill("水务")  # the lead cannot also assist: not offered
    expect(options).to_have_count(0)
    expect(card.locator(".multiselect-options")).to_contain_text("No department matches.")
    search.fill("燃气")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("燃气公司")
    search.press("Enter")
    search.fill("city")  # by code too
    expect(options).to_have_count(1)
    search.press("Enter")
    search.fill("道路")
    search.press("Enter")
    chips = card.locator(".multiselect-chip")
    expect(chips).to_have_count(3)
    shot(page, "03-assisting-search")
    chips.filter(has_text="道路管理局").get_by_role("button").click()  # dropped again
    expect(chips).to_have_count(2)
    card.locator("select[name=department]").select_option("gas")  # a helper made lead leaves the helpers
    expect(chips).to_have_count(1)
    card.locator("select[name=department]").select_option("water")
    search.fill("gas")
    search.press("Enter")
    expect(chips).to_have_count(2)
    selected = card.locator("select[name=assisting]").evaluate(
        "(select) => [...select.selectedOptions].map((option) => option.value)"
    )
    assert sorted(selected) == ["city-management", "gas"]
    search.press("Escape")
    card.get_by_role("button", name="Dispatch").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Ticket {numbers['helped']} dispatched to 水务局.")
    helped = _ticket(numbers["helped"])
    assert sorted(a.department.code for a in assists.of_ticket(helped)) == ["city-management", "gas"]

    # --- merging: keep the older one -------------------------------------------------------
    newer_card = page.locator(f"#waiting-{numbers['newer']}")
    hint = f"Suggested: keep {numbers['older']} (logged earlier) and merge this ticket into it."
    expect(newer_card.locator(".merge-form + div .merge-hint")).to_have_text(hint)
    expect(newer_card.locator(".merge-form input[name=into]")).to_have_value(numbers["older"])
    older_card = page.locator(f"#waiting-{numbers['older']}")
    proposed = older_card.locator(".merge-into-this.proposed")
    expect(proposed).to_have_text("Merge it into this ticket")
    expect(older_card.locator(".merge-hint").first).to_have_text(
        f"Suggested: keep this ticket (logged earlier) and merge {numbers['newer']} into it."
    )
    older_card.scroll_into_view_if_needed()
    shot(page, "04-merge-proposal")
    proposed.click()
    expect(page.locator(".alert-success")).to_contain_text(f"Ticket {numbers['newer']} merged into {numbers['older']}.")
    assert _ticket(numbers["newer"]).status == Status.MERGED
    expect(page.locator(".desk-ticket")).to_have_count(1)  # the older one still waits
    shot(page, "05-desk-after")

    # The reason on the ticket's timeline, and the count in the misrouting report.
    page.goto(f"{live_server}/tickets/{numbers['returned']}")
    expect(page.locator(".dispatch-reason")).to_contain_text("Back to a department that returned it")
    expect(page.locator(".dispatch-reason")).to_contain_text("现场核实：塌陷在机动车道上，属道路管理局。")
    shot(page, "06-timeline-reason")
    page.context.close()

    page = new_page(browser, "zh-CN")
    page.goto(f"{live_server}/reports/misrouting")
    log_in(page, "supervisor")
    expect(page.locator("#by-rule thead")).to_contain_text("派回退单单位")
    expect(page.locator("#by-rule tr[data-key='dispatcher'] td.ping-pong")).to_have_text("1")
    expect(page.locator("#by-category tr[data-key='potholes'] td.ping-pong")).to_have_text("1")
    shot(page, "07-misrouting-ping-pong-zh")
    page.context.close()


def test_the_desk_without_javascript(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    """Progressive enhancement: the plain multiple select and the reason field work without JS,
    and the server refuses the dispatch back to the returner without a reason."""
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    numbers = _seed(city)
    print(f"screenshots in {tmp_path}")
    page = new_page(browser, "zh-CN", java_script_enabled=False)
    page.goto(f"{live_server}/dispatch")
    log_in(page, "dispatcher")
    card = page.locator(f"#waiting-{numbers['returned']}")
    expect(card.locator(".ping-pong-warning")).to_be_visible()  # always shown without JS
    expect(card.locator(".ping-pong-warning")).to_contain_text("道路管理局曾退回此工单。")
    expect(card.locator(".multiselect-search")).to_have_count(0)
    expect(card.locator("select[name=assisting]")).to_be_visible()
    card.locator("select[name=department]").select_option("roads")
    card.locator("select[name=assisting]").select_option(["gas", "water"])  # a plain multiple select
    page.screenshot(path=str(tmp_path / "01-desk-no-js-zh.png"), full_page=True)
    card.locator("button[type=submit]", has_text="派单").click()
    expect(page.locator(".alert-danger")).to_have_text(re.compile("道路管理局曾退回此工单：再次派给该单位须填写理由。"))
    assert _ticket(numbers["returned"]).status == Status.PENDING_DISPATCH
    page.screenshot(path=str(tmp_path / "02-refused-no-js-zh.png"), full_page=True)
    card.locator("select[name=department]").select_option("roads")
    card.locator("select[name=assisting]").select_option(["gas", "water"])
    card.locator("textarea[name=reason]").fill("协调会确认由道路管理局牵头")
    card.locator("button[type=submit]", has_text="派单").click()
    expect(page.locator(".alert-success")).to_be_visible()
    ticket = _ticket(numbers["returned"])
    assert ticket.status == Status.DISPATCHED and ticket.department.code == "roads"
    assert sorted(a.department.code for a in assists.of_ticket(ticket)) == ["gas", "water"]
    page.context.close()
