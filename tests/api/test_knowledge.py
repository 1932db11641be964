"""The knowledge base over the API: articles in force, one article, and `article_id` on POST /tickets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Article, Status
from hotline.services.knowledge_base import knowledge
from tests.api.helpers import assert_error, ticket_count
from tests.knowledge_factories import make_article, make_city_articles

CALL = {
    "caller_phone": "13800138000",
    "type": "consultation",
    "category": "water-supply",
    "description": "咨询停水通知",
}


class TestArticles:
    def test_lists_the_articles_in_force_only(self, api, city):
        articles = make_city_articles(city)
        make_article(city.water_staff)  # a draft
        knowledge.retire(city.supervisor, articles["english"])
        body = api(city.operator).get("/api/v1/knowledge/articles").get_json()
        assert [a["id"] for a in body["articles"]] == [articles["noise"].id, articles["water"].id]
        assert body["total"] == 2 and body["pages"] == 1
        first = body["articles"][0]
        assert first["question"] == articles["noise"].current_version.question
        assert (first["category"], first["department"], first["version"]) == ("potholes", "roads", 1)
        assert first["in_force"] is True and first["validity"] == "in_force"

    def test_search_in_chinese_and_english(self, api, city):
        articles = make_city_articles(city)
        client = api(city.dispatcher)
        found = client.get("/api/v1/knowledge/articles", query_string={"q": "小区停水"}).get_json()["articles"]
        assert [a["id"] for a in found] == [articles["water"].id]
        assert found[0]["matched"] == ["小区停水"] and found[0]["score"] > 0
        found = client.get("/api/v1/knowledge/articles", query_string={"q": "street light"}).get_json()["articles"]
        assert [a["id"] for a in found] == [articles["english"].id]

    def test_category_keeps_that_branch_of_the_tree(self, api, city):
        articles = make_city_articles(city)
        client = api(city.operator)
        found = client.get("/api/v1/knowledge/articles", query_string={"category": "infrastructure"}).get_json()
        assert {a["id"] for a in found["articles"]} == {articles["noise"].id, articles["english"].id}
        found = client.get("/api/v1/knowledge/articles", query_string={"q": "噪音", "category": "water-supply"})
        assert found.get_json()["articles"] == []

    def test_paging(self, api, city):
        for n in range(3):
            make_article(city.water_staff, city.supervisor, question=f"停水问题{n}？")
        body = api(city.operator).get("/api/v1/knowledge/articles?per_page=2&page=2").get_json()
        assert (len(body["articles"]), body["total"], body["pages"], body["page"]) == (1, 3, 2, 2)

    def test_bad_parameters(self, api, city):
        client = api(city.operator)
        assert_error(client.get("/api/v1/knowledge/articles?category=nope"), 400, "invalid_input", "category")
        assert_error(client.get("/api/v1/knowledge/articles?page=0"), 400, "invalid_input", "page")
        assert_error(client.get("/api/v1/knowledge/articles", query_string={"q": "x" * 3000}), 400, "invalid_input")
        assert_error(client.get("/api/v1/knowledge/articles?q=%00"), 400, "invalid_input")

    def test_needs_a_token(self, client, city):
        assert_error(client.get("/api/v1/knowledge/articles"), 401, "unauthorized")

    def test_one_article_expired_ones_marked(self, api, city):
        articles = make_city_articles(city)
        client = api(city.operator)
        body = client.get(f"/api/v1/knowledge/articles/{articles['water'].id}").get_json()
        assert body["answer"] == articles["water"].current_version.answer and body["in_force"] is True
        body = client.get(f"/api/v1/knowledge/articles/{articles['expired'].id}").get_json()
        assert (body["in_force"], body["validity"], body["valid_until"]) == (False, "expired", "2020-12-31")

    def test_drafts_and_unknown_ids_are_not_found(self, api, city):
        draft = make_article(city.water_staff)
        assert_error(api(city.operator).get(f"/api/v1/knowledge/articles/{draft.id}"), 404, "not_found")
        assert_error(api(city.supervisor).get(f"/api/v1/knowledge/articles/{draft.id}"), 404, "not_found")
        assert_error(api(city.operator).get("/api/v1/knowledge/articles/99999999999"), 404, "not_found")


class TestTicketsCitingAnArticle:
    def test_article_id_closes_the_consultation_citing_it(self, api, city):
        article = make_city_articles(city)["water"]
        response = api(city.operator).post("/api/v1/tickets", json={**CALL, "article_id": article.id})
        assert response.status_code == 201, response.get_data(as_text=True)
        body = response.get_json()
        assert body["status"] == Status.CLOSED and body["department"] is None
        assert body["resolution"] == article.current_version.answer
        event = body["events"][-1]
        assert event["kind"] == "direct_answer"
        assert event["data"]["article"] == {
            "id": article.id,
            "version": 1,
            "question": article.current_version.question,
        }
        db.session.expire_all()
        assert db.session.get(Article, article.id).use_count == 1

    def test_with_the_operators_own_wording(self, api, city):
        article = make_city_articles(city)["water"]
        body = {**CALL, "article_id": article.id, "direct_answer": "已告知市民查询渠道。"}
        response = api(city.operator).post("/api/v1/tickets", json=body)
        assert response.get_json()["resolution"] == "已告知市民查询渠道。"

    @pytest.mark.parametrize("value", ["1", 0, -3, True, 1.5, 2**40])
    def test_article_id_must_be_a_positive_integer(self, api, city, value):
        response = api(city.operator).post("/api/v1/tickets", json={**CALL, "article_id": value})
        assert_error(response, 400, "invalid_input", "article_id")
        assert ticket_count() == 0

    def test_expired_unknown_or_not_a_consultation_is_refused(self, api, city):
        articles = make_city_articles(city)
        client = api(city.operator)
        body = assert_error(
            client.post("/api/v1/tickets", json={**CALL, "article_id": articles["expired"].id}),
            400,
            "invalid_input",
            "article_id",
        )
        assert "2020-12-31" in body["detail"]
        assert_error(client.post("/api/v1/tickets", json={**CALL, "article_id": 99999}), 400, "invalid_input")
        assert_error(
            client.post("/api/v1/tickets", json={**CALL, "type": "complaint", "article_id": articles["water"].id}),
            400,
            "invalid_input",
            "article_id",
        )
        assert ticket_count() == 0

    def test_without_article_id_nothing_changes(self, api, city):
        response = api(city.operator).post("/api/v1/tickets", json={**CALL, "direct_answer": "已解答"})
        assert response.status_code == 201
        assert "article" not in response.get_json()["events"][-1]["data"]
        assert db.session.scalars(select(Article)).first() is None
