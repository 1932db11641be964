"""Answering a call from the knowledge base in headless Chromium: while the operator describes
the call, the matching article appears beside the form (an expired one never does); one click
fills the direct answer and cites the article, and submitting closes the ticket as a direct
answer. The ticket page cites the article and the article's use count went up.

Same set-up as test_end_to_end (its live server and browser fixtures); no Redis needed.
Screenshots go to pytest's tmp dir.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Article, ArticleUse, Status, Ticket
from hotline.services.knowledge_base import knowledge
from tests.browser.test_end_to_end import browser, live_server, log_in, new_page  # noqa: F401 - fixtures
from tests.knowledge_factories import make_city_articles

pytestmark = [pytest.mark.browser]


def test_an_operator_answers_a_call_with_an_article(app, city, live_server, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    articles = make_city_articles(city)
    water_id, expired_id = articles["water"].id, articles["expired"].id
    question = articles["water"].current_version.question
    answer = articles["water"].current_version.answer
    # Load the word segmenter's dictionary (a moment on a busy machine) before the page waits on it.
    assert knowledge.suggest("停水")
    db.session.commit()
    db.session.close()  # no open read transaction may block the server's writes on SQLite

    page = new_page(browser)
    print(f"screenshots in {tmp_path}")

    page.goto(f"{live_server}/tickets/new?phone=13800138000")
    log_in(page, "operator")
    expect(page).to_have_url(re.compile(r"/tickets/new\?phone=13800138000$"))
    panel = page.locator("#knowledge-suggestions")

    page.fill("#caller_name", "王女士")
    page.select_option("#category", "water-supply")
    # Typed as an operator types: the debounced search runs once the typing pauses.
    page.locator("#description").press_sequentially("市民来电说小区停水了，问哪里能查到停水通知", delay=20)
    suggestion = panel.locator(f"li.knowledge-suggestion[data-article='{water_id}']")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text(question)
    expect(suggestion.locator(".matched")).to_contain_text("停水")
    expect(panel.locator(f"li.knowledge-suggestion[data-article='{expired_id}']")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "01-suggestion.png"), full_page=True)

    # One click: a consultation, its answer filled in, the article cited.
    suggestion.locator("button.answer-with").click()
    expect(page.locator("#type")).to_have_value("consultation")
    expect(page.locator("#direct-answer-group")).to_be_visible()
    expect(page.locator("#direct_answer")).to_have_value(answer)
    expect(page.locator("#article_id")).to_have_value(str(water_id))
    expect(page.locator("#article-citation")).to_contain_text(question)
    page.screenshot(path=str(tmp_path / "02-answer-filled.png"), full_page=True)

    page.click("#intake-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
    number = page.url.rsplit("/", 1)[1]
    citation = page.locator(".timeline-direct_answer .article-citation")
    expect(citation).to_contain_text(question)
    expect(citation.locator("a")).to_have_attribute("href", f"/knowledge/{water_id}")
    page.screenshot(path=str(tmp_path / "03-ticket-cites-article.png"), full_page=True)

    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status == Status.CLOSED and ticket.department_id is None
    assert ticket.resolution == answer
    assert db.session.scalar(select(ArticleUse.ticket_id).where(ArticleUse.article_id == water_id)) == ticket.id
    assert db.session.get(Article, water_id).use_count == 1
    db.session.close()

    # The article's page counts the use and lists the ticket.
    citation.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/knowledge/{water_id}$"))
    expect(page.locator("#use-count")).to_have_text("1")
    expect(page.locator("#citations")).to_contain_text(number)
    page.screenshot(path=str(tmp_path / "04-article.png"), full_page=True)
    page.context.close()


def test_answering_with_an_article_files_the_call_under_its_category(
    app,
    city,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    tmp_path: Path,
):
    """The one-click close needs no category chosen first: the article brings its own."""
    from playwright.sync_api import expect

    water_id = make_city_articles(city)["water"].id
    assert knowledge.suggest("停水")
    db.session.commit()
    db.session.close()

    page = new_page(browser)
    print(f"screenshots in {tmp_path}")
    page.goto(f"{live_server}/tickets/new?phone=13800138000")
    log_in(page, "operator")
    expect(page.locator("#category-search")).to_have_value("")
    page.locator("#description").press_sequentially("小区停水了，哪里能查到停水通知", delay=20)
    suggestion = page.locator(f"li.knowledge-suggestion[data-article='{water_id}']")
    suggestion.locator("button.answer-with").click()
    expect(page.locator("#category")).to_have_value("water-supply")
    expect(page.locator("#category-search")).to_have_value("供水")
    page.screenshot(path=str(tmp_path / "01-category-from-article.png"), full_page=True)

    page.click("#intake-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/tickets/\d{8}-\d+$"))
    number = page.url.rsplit("/", 1)[1]
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert ticket.status == Status.CLOSED and ticket.category.code == "water-supply"
    db.session.close()
    page.context.close()
