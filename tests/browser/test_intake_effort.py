"""The operator's minute, in headless Chromium: a standard complaint (a streetlight out) for a
known caller, logged from the keyboard on the demo city's category tree (307 categories, 55 of
them named 其他). The test counts the keystrokes and clicks it takes, prints them, and checks that
the form takes fewer than it did before the category picker.

How effort is counted, the same way for the old form and the new one: the form opens as the
CTI system opens it (/tickets/new?phone=...); the operator moves between fields with Tab, uses
arrow keys in a drop-down list and in the picker, and clicks the submit button. Each key press
is one keystroke; text is typed at one keystroke per character (Chinese committed by the input
method alike: the same texts in both flows); each click is one click.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to the test's output folder (printed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.demo import demo
from hotline.extensions import db
from hotline.models import Category, Status, Ticket
from tests import factories
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser]

# The old form (commit 50ae64c, before the picker), measured by running `old_flow` below in this
# test, with the same city, caller and complaint, against that commit's templates and scripts:
#   caller's name 3 + Tab 1 (channel stays phone) + Tab 1 + 2 arrows to "complaint" + Tab 1,
#   192 arrows down the category list to 城市公共设施 + Tab 1 (urgency stays normal) + Tab 1 +
#   1 arrow to 东城区 + Tab 1 + address 9 + Tab 1 + description 22, and 1 click on submit:
#   236 keystrokes and 1 click.
OLD_KEYSTROKES = 236
OLD_CLICKS = 1

NAME = "王先生"
ADDRESS = "东城区人民路12号"
DESCRIPTION = "人民路12号门口路灯不亮已经三天，晚上很黑。"
TARGET_PATH = ("城乡建设", "城市建设和市政管理", "城市公共设施")


@dataclass
class Effort:
    """The operator's keystrokes and clicks, counted as the flows drive the page."""

    page: object
    keystrokes: int = 0
    clicks: int = 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.keystrokes += 1

    def type(self, text: str) -> None:
        self.page.keyboard.insert_text(text)  # as an input method commits it
        self.keystrokes += len(text)

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.clicks += 1


def demo_categories(city) -> dict[tuple[str, ...], Category]:
    """The demo city's category tree, under the test city's own 城乡建设."""
    nodes: dict[tuple[str, ...], Category] = {("城乡建设",): city.infrastructure}
    for row in demo.load_category_rows():
        parent = None
        for depth in range(1, len(row) + 1):
            path = tuple(row[:depth])
            if path not in nodes:
                nodes[path] = Category(code=f"demo-{len(nodes)}", name=path[-1], parent=parent)
                db.session.add(nodes[path])
            parent = nodes[path]
    db.session.commit()
    return nodes


def to_the_category(effort: Effort) -> None:
    """From the caller's name to the category, alike in both forms."""
    effort.press("Tab")  # channel: phone, as it is
    effort.press("Tab")
    effort.press("ArrowDown", 2)  # type: consultation → help → complaint
    effort.press("Tab")


def after_the_category(effort: Effort) -> None:
    """From the category to the description, alike in both forms."""
    effort.press("Tab")  # urgency: normal
    effort.press("Tab")
    effort.press("ArrowDown")  # district: — none — → 东城区
    effort.press("Tab")
    effort.type(ADDRESS)
    effort.press("Tab")
    effort.type(DESCRIPTION)


def old_flow(effort: Effort, shots: Path, target_code: str) -> None:
    """The form before the picker: every field a plain control, the category a 307-entry list."""
    page = effort.page
    effort.type(NAME)  # the form opens with the focus on the caller's name
    to_the_category(effort)
    position = page.locator("#category option").evaluate_all(
        "(options, code) => options.findIndex((option) => option.value === code)", target_code
    )
    effort.press("ArrowDown", position)  # from "— choose —" down to the category
    after_the_category(effort)
    page.screenshot(path=str(shots / "03-filled-old-form.png"), full_page=True)
    effort.click("#intake-form button[type=submit]")


def new_flow(effort: Effort, shots: Path) -> None:
    """The form with the picker: the caller's name is filled from their last ticket and the
    category is found by its pinyin initials (城市公共设施: csggss)."""
    page = effort.page
    from playwright.sync_api import expect

    expect(page.locator("#caller_name")).to_have_value("王先生")
    expect(page.locator("#caller_name")).to_be_focused()
    to_the_category(effort)
    expect(page.locator("#category-search")).to_be_focused()
    effort.type("csggss")
    expect(page.locator("#category-options .category-option").first).to_contain_text("城市公共设施")
    page.screenshot(path=str(shots / "02-picker.png"), full_page=True)
    effort.press("Enter")
    expect(page.locator("#category-search")).to_have_value(" › ".join(TARGET_PATH))
    after_the_category(effort)
    expect(page.locator("#description-count")).to_contain_text(f"已输入 {len(DESCRIPTION)} 字")
    page.screenshot(path=str(shots / "03-filled.png"), full_page=True)
    effort.click("#intake-form button[type=submit]")


def test_a_standard_complaint_takes_fewer_keystrokes_and_clicks(app, city, live_server, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    nodes = demo_categories(city)
    target = nodes[TARGET_PATH]
    assert len(nodes) + 3 >= 307  # the demo tree, as the walk-through saw it
    # A known caller: two earlier tickets, the latest under his name.
    earlier = factories.make_ticket(city.operator, caller_name="王", category="water-supply")
    earlier.created_at -= timedelta(days=30)
    factories.make_ticket(city.dispatcher, caller_name=NAME, category="other", description="咨询旅游投诉渠道")
    target_code = target.code
    db.session.commit()
    db.session.close()  # no open read transaction may block the server's writes on SQLite

    page = new_page(browser)
    print(f"screenshots in {tmp_path}")
    page.goto(f"{live_server}/tickets/new?phone=13800138000")
    log_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/tickets/new\?phone=13800138000$"))
    page.screenshot(path=str(tmp_path / "01-form.png"), full_page=True)

    effort = Effort(page)
    new_flow(effort, tmp_path)
    expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
    page.screenshot(path=str(tmp_path / "04-ticket.png"), full_page=True)
    number = page.url.rsplit("/", 1)[1]
    print(
        f"intake effort: {effort.keystrokes} keystrokes and {effort.clicks} clicks "
        f"(before the picker: {OLD_KEYSTROKES} keystrokes and {OLD_CLICKS} clicks)"
    )

    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.category.code == target_code and ticket.type == "complaint"
    assert ticket.caller_name == NAME and ticket.district.code == "east"
    assert ticket.description == DESCRIPTION and ticket.status in (Status.NEW, Status.PENDING_DISPATCH)
    assert effort.keystrokes + effort.clicks < OLD_KEYSTROKES + OLD_CLICKS
    assert effort.keystrokes < OLD_KEYSTROKES and effort.clicks <= OLD_CLICKS
    page.context.close()


def test_the_picker_from_the_keyboard_alone(app, city, live_server, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    older = factories.make_ticket(city.operator, category="potholes")
    older.created_at -= timedelta(hours=1)
    factories.make_ticket(city.operator, category="water-supply")  # the operator's latest choice
    db.session.commit()
    db.session.close()

    page = new_page(browser)
    print(f"screenshots in {tmp_path}")
    page.goto(f"{live_server}/tickets/new")
    log_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/tickets/new$"))
    # An empty form: every field's error at once, the category's beside the picker.
    page.click("#intake-form button[type=submit]")
    expect(page.locator(".invalid-feedback:visible")).to_have_count(3)
    expect(page.locator("#category-search")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator(".category-field .invalid-feedback")).to_be_visible()
    expect(page.locator(".category-field .invalid-feedback")).to_have_text("请选择诉求分类。")
    page.screenshot(path=str(tmp_path / "every-error-at-once.png"), full_page=True)
    search, options = page.locator("#category-search"), page.locator("#category-options")
    expect(page.locator("label[for='category-search']")).to_have_text("诉求分类")
    search.focus()
    # Nothing typed yet: the operator's recent categories, the latest first.
    expect(options).to_be_visible()
    expect(options.locator(".category-options-head")).to_have_text("最近选用的分类")
    expect(options.locator(".category-option")).to_have_text(["供水", "城乡建设 › 道路坑洼"])
    expect(options.locator(".category-option.active")).to_have_text("供水")
    page.keyboard.press("ArrowDown")
    expect(options.locator(".category-option.active")).to_have_text("城乡建设 › 道路坑洼")
    page.keyboard.press("Enter")
    expect(options).to_be_hidden()
    expect(page.locator("#category")).to_have_value("potholes")
    expect(search).to_have_value("城乡建设 › 道路坑洼")
    expect(page).to_have_url(re.compile(r"/tickets/new$"))  # Enter chose; it did not submit
    # Pinyin initials find a category; Esc closes the list and keeps the choice.
    search.press("Control+a")
    page.keyboard.type("qt")
    expect(options.locator(".category-option").first).to_have_text("其他")
    page.screenshot(path=str(tmp_path / "picker-pinyin.png"), full_page=True)
    page.keyboard.press("Escape")
    expect(options).to_be_hidden()
    expect(search).to_have_value("城乡建设 › 道路坑洼")
    expect(page.locator("#category")).to_have_value("potholes")
    page.keyboard.type("zzzz")
    expect(options).to_contain_text("没有匹配的分类。")
    page.keyboard.press("Tab")  # leaving without a choice keeps the one made
    expect(search).to_have_value("城乡建设 › 道路坑洼")

    # The description's counter, live, against the server's limit.
    counter = page.locator("#description-count")
    expect(counter).to_have_text("已输入 0 字，最多 5000 字")
    page.locator("#description").fill("灯" * 5003)
    expect(counter).to_have_text("已输入 5003 字，超出上限 5000 字 3 字。")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    page.screenshot(path=str(tmp_path / "counter-over.png"), full_page=True)
    page.context.close()

    # Without scripts the form is the plain one: the list of categories, indented.
    plain = new_page(browser, java_script_enabled=False)
    plain.goto(f"{live_server}/tickets/new")
    log_in(plain, "operator")
    expect(plain.locator("#category")).to_be_visible()
    expect(plain.locator("#category-search")).to_have_count(0)
    plain.context.close()
