"""Screens of every size: each role's main pages, in English and Chinese, on a phone (390 px),
a small laptop (1024 px) and a laptop (1366 px), in headless Chromium.

On each page at each width: nothing overflows the document sideways (wide tables scroll inside
their own `.table-responsive` box), the navbar is one line tall, and no item of the menu wraps
(an expanded menu, or the hamburger's menu opened on the phone). A screenshot of each goes to
the test's output folder (printed). One browser, one signed-in page per role and language,
each page loaded once and resized.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hotline.extensions import db
from hotline.models.types import utcnow
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

WIDTHS = (390, 1024, 1366)
LOCALES = {"en": "en-US", "zh": "zh-CN"}
# A navbar of one line: the brand (or a nav link) and the navbar's padding, well under two lines.
NAVBAR_MAX_HEIGHT = 64

# Everything that sticks out on the right of the viewport, unless a box that scrolls or clips
# sideways holds it (a `.table-responsive`, a `.dropdown-menu`'s own clip, ...), or it is hidden.
OVERFLOWING_JS = """
() => {
  const limit = document.documentElement.clientWidth + 1;
  const clipped = (element) => {
    for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
      const x = getComputedStyle(parent).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden' || x === 'clip') return true;
    }
    return false;
  };
  const name = (element) => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
    + [...element.classList].slice(0, 3).map((c) => '.' + c).join('');
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= limit) continue;
    if (clipped(element)) continue;
    found.push(`${name(element)} right=${Math.round(box.right)}`);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    elements: found.slice(0, 8),
  };
}
"""

# Each visible item of the navbar on one line: the lines its text is laid out on (the tops of its
# text's boxes, a badge beside the words is on the same line), not its height (a flex row stretches it).
WRAPPED_JS = """
() => {
  const found = [];
  const items = document.querySelectorAll(
    '.navbar .navbar-brand, .navbar .nav-link, .navbar .btn, .navbar .navbar-text, .navbar .dropdown-toggle');
  for (const item of items) {
    const box = item.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(item);
    const half = parseFloat(getComputedStyle(item).lineHeight) / 2;
    const tops = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => r.top + r.height / 2);
    tops.sort((a, b) => a - b);
    let lines = tops.length ? 1 : 0;
    for (let i = 1; i < tops.length; i++) if (tops[i] - tops[i - 1] > half) lines++;
    if (lines > 1) found.push(`${item.textContent.trim().replace(/\\s+/g, ' ')} (${lines} lines)`);
  }
  return found;
}
"""

# A table squeezed into the phone's width lays Chinese out one character a line: its rows grow
# tall instead of the table scrolling sideways. A row of a list stays a few lines tall.
TALL_ROWS_JS = """
(limit) => [...document.querySelectorAll('main table tbody tr')]
  .filter((row) => row.getBoundingClientRect().height > limit)
  .slice(0, 3)
  .map((row) => `${row.closest('table').id || row.closest('table').className}: row ${Math.round(row.getBoundingClientRect().height)} px`)
"""
ROW_MAX_HEIGHT = 160


def _pages(city, number: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each role's user and main pages (name, path)."""
    ticket = ("ticket", f"/tickets/{number}")
    tickets = ("tickets", "/tickets")
    search = ("search", "/search?q=%E4%BA%BA%E6%B0%91%E8%B7%AF")  # 人民路
    return {
        "operator": ("operator", [("intake", "/tickets/new"), tickets, ticket, search]),
        "dispatcher": ("dispatcher", [("dispatch", "/dispatch"), tickets, ticket, search]),
        "department": ("roads_staff", [("workbench", "/tickets"), ticket, search]),
        "supervisor": (
            "supervisor",
            [("dashboard", "/reports/response-times"), ("overdue", "/supervision/overdue"), tickets, ticket, search],
        ),
        "admin": ("admin", [("users", "/admin/users/"), ("rules", "/admin/routing-rules/"), tickets, ticket, search]),
    }


def _seed(city) -> str:
    """Tickets with long words for the lists to show: one routed to roads and past its time to
    accept (on the overdue list too), one on the dispatch desk."""
    long_text = "人民路与解放路交叉口路面塌陷，晚上很危险，附近居民多次反映，请尽快派人处理并设置警示标志。" * 3
    routed = factories.make_routed_ticket(
        city.operator, address="东城区人民路与解放路交叉口东南角公交站台旁 12 号", description=long_text
    )
    factories.make_routed_ticket(city.operator, category="other", description="人民路小区门口噪音扰民。" * 5)
    routed.accept_due_at = utcnow() - timedelta(hours=2)
    number = routed.number
    db.session.commit()
    db.session.close()  # no open read transaction may block the server on SQLite
    return number


def test_every_role_page_fits_every_screen(app, city, live_server, browser, monkeypatch, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    monkeypatch.setitem(app.extensions["hotline_jobs"], "queue", None)
    number = _seed(city)
    print(f"screenshots in {tmp_path}")
    problems: list[str] = []
    shots = 0

    for role, (username, pages) in _pages(city, number).items():
        for language, locale in LOCALES.items():
            page = new_page(browser, locale)
            page.goto(f"{live_server}/login")
            log_in(page, username)
            expect(page.locator("form[action='/logout']")).to_have_count(1)
            for name, path in pages:
                page.set_viewport_size({"width": WIDTHS[-1], "height": 900})
                response = page.goto(f"{live_server}{path}")
                assert response is not None and response.ok, f"{role} {path}: {response and response.status}"
                for width in WIDTHS:
                    where = f"{role} {language} {name} {width}px"
                    page.set_viewport_size({"width": width, "height": 900})
                    _check(page, where, problems)
                    page.screenshot(path=str(tmp_path / f"{role}-{language}-{name}-{width}.png"), full_page=True)
                    shots += 1
            # On the phone, the hamburger opens the menu: its items fit the screen, each on one line.
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            page.click(".navbar-toggler")
            expect(page.locator("#main-nav")).to_have_class("navbar-collapse collapse show")
            _check(page, f"{role} {language} menu {WIDTHS[0]}px", problems, menu_open=True)
            page.screenshot(path=str(tmp_path / f"{role}-{language}-menu-{WIDTHS[0]}.png"), full_page=True)
            shots += 1
            page.context.close()

    print(f"{shots} screenshots")
    assert not problems, "\n".join(problems)


def _check(page, where: str, problems: list[str], menu_open: bool = False) -> None:
    overflow = page.evaluate(OVERFLOWING_JS)
    if overflow["scrollWidth"] > overflow["innerWidth"] or overflow["elements"]:
        problems.append(
            f"{where}: document {overflow['scrollWidth']} px wide in a {overflow['innerWidth']} px window; "
            f"sticking out: {', '.join(overflow['elements'])}"
        )
    if not menu_open:
        height = page.locator("nav.navbar").bounding_box()["height"]
        if height > NAVBAR_MAX_HEIGHT:
            problems.append(f"{where}: navbar {height:.0f} px tall (more than one line)")
    tall = page.evaluate(TALL_ROWS_JS, ROW_MAX_HEIGHT)
    if tall:
        problems.append(f"{where}: table rows squeezed tall: {'; '.join(tall)}")
    wrapped = page.evaluate(WRAPPED_JS)
    if wrapped:
        problems.append(f"{where}: navbar items on more than one line: {'; '.join(wrapped)}")
