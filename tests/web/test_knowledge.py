"""The knowledge-base pages: the list and its filters, an article, the forms, the approval queue,
the suggestions for the intake form, and answering a call with an article."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Article, ArticleUse, Status, Ticket, VersionState
from hotline.services.knowledge_base import knowledge
from hotline.services.ticketing import tickets
from tests.knowledge_factories import make_article, make_city_articles
from tests.web.conftest import text_of, ticket_count

ARTICLE_FORM = {
    "question": "社保卡丢失后如何补办？",
    "answer": "携带身份证到社保经办机构或合作银行网点办理挂失和补办，约7个工作日可领取新卡。",
    "category": "infrastructure",
    "tags": "社保卡，补办",
    "valid_from": "",
    "valid_until": "",
}
INTAKE_FORM = {
    "caller_phone": "13800138000",
    "caller_name": "王女士",
    "type": "consultation",
    "category": "water-supply",
    "district": "east",
    "address": "",
    "description": "来电咨询小区停水通知在哪里查询",
    "urgency": "normal",
    "channel": "phone",
}


def article_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Article))


class TestList:
    def test_operators_see_approved_articles_only_with_flags(self, login, city):
        articles = make_city_articles(city)
        draft = make_article(city.water_staff, question="草稿中的问题？")
        html = text_of(login(city.operator).get("/knowledge/"))
        assert articles["water"].current_version.question in html
        assert "草稿中的问题？" not in html
        row = html[html.index(f'id="article-{articles["expired"].id}"') :]
        assert 'data-flag="expired"' in row[: row.index("</tr>")]
        assert f'id="article-{draft.id}"' not in html

    def test_department_staff_see_their_drafts_and_supervisors_all(self, login, city):
        make_article(city.water_staff, question="水务草稿？")
        make_article(city.roads_staff, question="道路草稿？", category="potholes")
        water = text_of(login(city.water_staff).get("/knowledge/"))
        assert "水务草稿？" in water and "道路草稿？" not in water
        everything = text_of(login(city.supervisor).get("/knowledge/"))
        assert "水务草稿？" in everything and "道路草稿？" in everything

    def test_search_finds_two_character_words_best_first(self, login, city):
        articles = make_city_articles(city)
        html = text_of(login(city.operator).get("/knowledge/", query_string={"q": "停水"}))
        assert f'id="article-{articles["water"].id}"' in html
        assert f'id="article-{articles["expired"].id}"' in html  # listed, flagged, not offered
        assert f'id="article-{articles["noise"].id}"' not in html

    def test_search_finds_drafts_by_their_text_for_their_authors(self, login, city):
        draft = make_article(city.water_staff, question="水表读数异常怎么办？", tags=[])
        html = text_of(login(city.water_staff).get("/knowledge/", query_string={"q": "水表"}))
        assert f'id="article-{draft.id}"' in html

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            ({"department": "water"}, {"water", "expired"}),
            ({"category": "infrastructure"}, {"noise", "english"}),  # potholes is below it
            ({"flag": "expired"}, {"expired"}),
            ({"flag": "stale"}, {"expired"}),
            ({"state": "approved"}, {"water", "noise", "english", "expired"}),
            ({"state": "retired"}, set()),
            ({"state": "pending", "department": "roads"}, set()),
        ],
    )
    def test_filters(self, login, city, args, expected):
        articles = make_city_articles(city)
        html = text_of(login(city.supervisor).get("/knowledge/", query_string=args))
        shown = {name for name, article in articles.items() if f'id="article-{article.id}"' in html}
        assert shown == expected

    def test_work_in_progress_is_shown_to_its_authors_and_reviewers_only(self, login, city):
        article = make_article(city.water_staff, city.supervisor)
        knowledge.edit_article(city.water_staff, article, _text(answer="修改中"))
        knowledge.submit(city.water_staff, article)
        for user, shown in (
            (city.supervisor, True),
            (city.water_staff, True),
            (city.roads_staff, False),
            (city.operator, False),
        ):
            html = text_of(login(user).get("/knowledge/", query_string={"state": "pending"}))
            assert (f'id="article-{article.id}"' in html) is shown, user
        html = text_of(login(city.operator).get("/knowledge/"))
        assert f'id="article-{article.id}"' in html and 'data-state="pending"' not in html

    def test_most_used_first(self, login, city):
        articles = make_city_articles(city)
        tickets.answer_with(city.operator, _consultation(), articles["noise"].id)
        html = text_of(login(city.operator).get("/knowledge/", query_string={"sort": "uses"}))
        assert html.index(f'id="article-{articles["noise"].id}"') < html.index(f'id="article-{articles["water"].id}"')

    def test_unknown_filters_and_nul_are_harmless(self, login, city):
        make_city_articles(city)
        client = login(city.operator)
        response = client.get("/knowledge/", query_string={"category": "nope", "state": "x", "flag": "y", "page": "0"})
        assert response.status_code == 200
        assert client.get("/knowledge/?q=%00").status_code == 400


class TestArticlePage:
    def test_shows_the_current_answer_versions_and_citations(self, login, city):
        article = make_city_articles(city)["water"]
        ticket = tickets.answer_with(city.operator, _consultation(), article.id).ticket
        knowledge.edit_article(city.water_staff, article, _text(answer="第二版：请关注水务集团公众号。"))
        html = text_of(login(city.supervisor).get(f"/knowledge/{article.id}"))
        assert article.current_version.answer in html
        assert 'id="working-version"' in html and "<ins>" in html  # the draft, marked against version 1
        assert ticket.number in html[html.index('id="citations"') :]
        assert 'id="use-count">1<' in html

    def test_operators_see_no_drafts_or_review_forms(self, login, city):
        article = make_city_articles(city)["water"]
        knowledge.edit_article(city.water_staff, article, _text(answer="草稿答案"))
        knowledge.submit(city.water_staff, article)
        html = text_of(login(city.operator).get(f"/knowledge/{article.id}"))
        assert "草稿答案" not in html
        assert "/approve" not in html and "/edit" not in html

    def test_drafts_of_others_are_not_found(self, login, city):
        draft = make_article(city.water_staff)
        assert login(city.roads_staff).get(f"/knowledge/{draft.id}").status_code == 404
        assert login(city.operator).get(f"/knowledge/{draft.id}").status_code == 404
        assert login(city.operator).get("/knowledge/99999999999").status_code == 404

    def test_expired_article_is_flagged(self, login, city):
        article = make_city_articles(city)["expired"]
        html = text_of(login(city.operator).get(f"/knowledge/{article.id}"))
        assert "Expired on 2020-12-31" in html


class TestForms:
    def test_department_staff_write_a_draft_and_submit_it(self, login, city):
        client = login(city.water_staff)
        assert client.get("/knowledge/new").status_code == 200
        response = client.post("/knowledge/new", data={**ARTICLE_FORM, "send": "1"})
        assert response.status_code == 302
        article = db.session.scalars(select(Article)).one()
        assert article.department == city.water
        assert article.versions[0].state == VersionState.PENDING
        assert article.versions[0].tags == ["社保卡", "补办"]

    def test_staff_cannot_write_for_another_department(self, login, city):
        response = login(city.water_staff).post("/knowledge/new", data={**ARTICLE_FORM, "department": "roads"})
        assert response.status_code == 400
        assert "own department only" in text_of(response)
        assert article_count() == 0

    def test_supervisors_choose_the_department(self, login, city):
        client = login(city.supervisor)
        response = client.post("/knowledge/new", data=ARTICLE_FORM)
        assert response.status_code == 400 and "department is required" in text_of(response)
        response = client.post("/knowledge/new", data={**ARTICLE_FORM, "department": "roads", "save": "1"})
        assert response.status_code == 302
        assert db.session.scalars(select(Article)).one().versions[0].state == VersionState.DRAFT

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"question": ""}, "Write the question"),
            ({"answer": " "}, "Write the answer"),
            ({"category": ""}, "category is required"),
            ({"valid_until": "31/12/2026"}, "YYYY-MM-DD"),
            ({"valid_from": "2026-06-02", "valid_until": "2026-06-01"}, "before"),
        ],
    )
    def test_bad_input_is_shown_on_the_form(self, login, city, change, message):
        response = login(city.water_staff).post("/knowledge/new", data={**ARTICLE_FORM, **change})
        assert response.status_code == 400
        assert message in text_of(response)
        assert article_count() == 0

    def test_operators_and_other_departments_may_not_write_or_edit(self, login, city):
        article = make_article(city.water_staff, city.supervisor)
        assert login(city.operator).get("/knowledge/new").status_code == 403
        assert login(city.operator).post("/knowledge/new", data=ARTICLE_FORM).status_code == 403
        assert login(city.roads_staff).get(f"/knowledge/{article.id}/edit").status_code == 403
        assert login(city.operator).post(f"/knowledge/{article.id}/retire").status_code == 302
        assert not db.session.get(Article, article.id).is_retired

    def test_edit_prefills_and_saves_a_new_version(self, login, city):
        article = make_article(city.water_staff, city.supervisor)
        client = login(city.water_staff)
        html = text_of(client.get(f"/knowledge/{article.id}/edit"))
        assert article.current_version.answer in html
        response = client.post(f"/knowledge/{article.id}/edit", data={**ARTICLE_FORM, "category": "water-supply"})
        assert response.status_code == 302
        db.session.expire_all()
        assert [(v.number, v.state) for v in db.session.get(Article, article.id).versions] == [
            (1, "approved"),
            (2, "draft"),
        ]

    def test_the_form_needs_its_csrf_token(self, app, login, city, monkeypatch):
        client = login(city.water_staff)
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        response = client.post("/knowledge/new", data=ARTICLE_FORM)
        assert response.status_code == 400
        assert article_count() == 0


class TestApproval:
    def test_the_queue_approves_and_rejects(self, login, city):
        first = make_article(city.water_staff)
        second = make_article(city.roads_staff, category="potholes", question="路灯不亮找谁？")
        knowledge.submit(city.water_staff, first)
        knowledge.submit(city.roads_staff, second)
        client = login(city.supervisor)
        html = text_of(client.get("/knowledge/pending"))
        assert html.index(f'href="/knowledge/{first.id}"') < html.index(f'href="/knowledge/{second.id}"')
        response = client.post(
            f"/knowledge/{first.id}/approve", data={"number": "1", "note": "", "next": "/knowledge/pending"}
        )
        assert response.status_code == 302 and response.location == "/knowledge/pending"
        response = client.post(f"/knowledge/{second.id}/reject", data={"number": "1", "note": ""})
        assert "Say why" in text_of(client.get(response.location))
        client.post(f"/knowledge/{second.id}/reject", data={"number": "1", "note": "责任部门不对"})
        db.session.expire_all()
        assert db.session.get(Article, first.id).current_version.number == 1
        assert db.session.get(Article, second.id).versions[0].state == VersionState.REJECTED
        assert "Nothing is waiting for approval." in text_of(client.get("/knowledge/pending"))
        # The authors see the note.
        assert "责任部门不对" in text_of(login(city.roads_staff).get(f"/knowledge/{second.id}"))

    def test_a_stale_approval_is_refused_with_a_message(self, login, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        client = login(city.supervisor)
        response = client.post(f"/knowledge/{article.id}/approve", data={"number": "2"}, follow_redirects=True)
        assert "not waiting for approval" in text_of(response)
        response = client.post(f"/knowledge/{article.id}/approve", data={"number": "x"}, follow_redirects=True)
        assert "Approved" in text_of(response)

    def test_only_supervisors_and_admins_review(self, login, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        for user in (city.water_staff, city.operator, city.dispatcher):
            client = login(user)
            assert client.get("/knowledge/pending").status_code == 403
            assert client.post(f"/knowledge/{article.id}/approve", data={"number": "1"}).status_code == 403

    def test_submit_and_retire_from_the_article_page(self, login, city):
        article = make_article(city.water_staff)
        client = login(city.water_staff)
        client.post(f"/knowledge/{article.id}/submit")
        login(city.admin).post(f"/knowledge/{article.id}/approve", data={"number": "1"})
        client.post(f"/knowledge/{article.id}/retire")
        db.session.expire_all()
        assert db.session.get(Article, article.id).is_retired


class TestSuggestions:
    def test_suggestions_for_the_intake_form(self, login, city):
        articles = make_city_articles(city)
        response = login(city.operator).get("/knowledge/suggest", query_string={"q": "楼下施工噪音太大了"})
        found = response.get_json()
        assert found["searched"] is True
        first = found["articles"][0]
        assert first["id"] == articles["noise"].id
        assert any("噪音" in words for words in first["matched"])
        assert first["answer"] == articles["noise"].current_version.answer
        assert first["department"] == city.roads.name

    def test_expired_articles_are_never_offered(self, login, city):
        articles = make_city_articles(city)
        found = login(city.operator).get("/knowledge/suggest", query_string={"q": "防冻补贴"}).get_json()
        assert articles["expired"].id not in [a["id"] for a in found["articles"]]

    def test_empty_query_and_bad_input(self, login, city):
        client = login(city.operator)
        assert client.get("/knowledge/suggest").get_json() == {"searched": False, "articles": []}
        assert client.get("/knowledge/suggest", query_string={"q": "x" * 10000, "category": "nope"}).status_code == 200

    def test_department_staff_do_not_log_calls(self, login, city):
        assert login(city.water_staff).get("/knowledge/suggest?q=停水").status_code == 403


class TestIntake:
    def test_the_form_has_the_panel(self, login, city):
        html = text_of(login(city.operator).get("/tickets/new"))
        assert 'id="knowledge-suggestions"' in html and 'name="article_id"' in html
        assert "knowledge.js" in html

    def test_answering_with_an_article_closes_the_ticket_citing_it(self, login, city):
        article = make_city_articles(city)["water"]
        client = login(city.operator)
        answer = article.current_version.answer
        response = client.post("/tickets/new", data={**INTAKE_FORM, "direct_answer": answer, "article_id": article.id})
        assert response.status_code == 302
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.status == Status.CLOSED and ticket.department is None
        assert ticket.events[-1].data["article"]["id"] == article.id
        html = text_of(client.get(response.location))
        assert f'href="/knowledge/{article.id}"' in html and article.current_version.question in html
        assert db.session.scalar(select(func.count()).select_from(ArticleUse)) == 1

    def test_the_article_answer_is_used_when_none_is_typed(self, login, city):
        article = make_city_articles(city)["water"]
        login(city.operator).post("/tickets/new", data={**INTAKE_FORM, "article_id": str(article.id)})
        assert db.session.scalars(select(Ticket)).one().resolution == article.current_version.answer

    @pytest.mark.parametrize("article_id", ["abc", "99999", "-1", "1" * 12])
    def test_a_bad_article_is_refused_and_nothing_is_logged(self, login, city, article_id):
        make_city_articles(city)
        response = login(city.operator).post("/tickets/new", data={**INTAKE_FORM, "article_id": article_id})
        assert response.status_code == 200
        assert "No approved article" in text_of(response)
        assert ticket_count() == 0

    def test_an_expired_article_or_a_complaint_is_refused(self, login, city):
        articles = make_city_articles(city)
        client = login(city.operator)
        response = client.post("/tickets/new", data={**INTAKE_FORM, "article_id": articles["expired"].id})
        assert "expired on 2020-12-31" in text_of(response)
        response = client.post(
            "/tickets/new", data={**INTAKE_FORM, "type": "complaint", "article_id": articles["water"].id}
        )
        assert "Only a consultation" in text_of(response)
        assert f'name="article_id" id="article_id" value="{articles["water"].id}"' in text_of(response)
        assert ticket_count() == 0


def _consultation():
    from tests import factories

    return factories.intake(type="consultation", category="water-supply", description="咨询")


def _text(**overrides):
    from tests.knowledge_factories import text

    return text(**overrides)


def test_nav_link_for_everyone(login, city):
    for user in (city.operator, city.water_staff):
        assert 'href="/knowledge/"' in text_of(login(user).get("/tickets"))


def test_stale_days_come_from_the_config(app, login, city, monkeypatch):
    article = make_article(city.water_staff, city.supervisor)
    monkeypatch.setitem(app.config, "HOTLINE_KNOWLEDGE_STALE_DAYS", 0)
    assert "stale" in knowledge.flags(article, now=article.current_version.reviewed_at + timedelta(seconds=1))
