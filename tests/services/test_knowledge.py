"""The knowledge base: versions and approval, who may write what, validity on the hotline's
local date, matching Chinese and English, counting uses, and the citation on the ticket."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Article, ArticleUse, ArticleVersion, Status, Ticket, VersionState
from hotline.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.services.knowledge_base import knowledge, knowledge_index
from hotline.services.ticketing import tickets
from tests import factories
from tests.knowledge_factories import make_article, make_city_articles, text


def states(article: Article) -> list[tuple[int, str]]:
    db.session.refresh(article)
    return [(v.number, v.state) for v in article.versions]


def consultation(**overrides) -> tickets.Intake:
    values = {"type": "consultation", "category": "water-supply", "description": "市民来电咨询小区停水通知。"}
    values.update(overrides)
    return factories.intake(**values)


class TestVersionsAndApproval:
    def test_a_new_article_is_a_draft_of_its_authors_department(self, city):
        article = make_article(city.water_staff)
        assert article.department == city.water
        assert article.current_version is None
        assert states(article) == [(1, VersionState.DRAFT)]
        assert article.versions[0].author == city.water_staff
        assert article.category == city.water_supply

    def test_submit_approve_makes_it_current(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        assert states(article) == [(1, VersionState.PENDING)]
        version = knowledge.approve(city.supervisor, article, 1, note="好")
        assert article.current_version == version
        assert (version.state, version.reviewed_by, version.reviewer_note) == ("approved", city.supervisor, "好")
        assert version.submitted_by == city.water_staff and version.submitted_at is not None

    def test_an_edit_is_a_new_draft_and_the_approved_version_stays_current(self, city):
        article = make_article(city.water_staff, city.supervisor)
        first = article.current_version
        draft = knowledge.edit_article(city.water_staff, article, text(answer="新的答复：请关注水务集团公众号。"))
        assert draft.number == 2 and draft.state == VersionState.DRAFT
        assert article.current_version == first  # operators still see version 1
        # Editing again changes the same draft rather than piling up versions.
        again = knowledge.edit_article(city.water_staff, article, text(answer="再改一次。"))
        assert again.id == draft.id and again.answer == "再改一次。"
        knowledge.submit(city.water_staff, article)
        knowledge.approve(city.admin, article, 2)
        assert states(article) == [(1, VersionState.SUPERSEDED), (2, VersionState.APPROVED)]
        assert article.current_version.answer == "再改一次。"
        assert first.question == text().question  # the superseded text is kept as it was

    def test_editing_a_pending_version_sends_it_back_to_draft(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        knowledge.edit_article(city.water_staff, article, text(question="改过的问题？"))
        assert states(article) == [(1, VersionState.DRAFT)]
        assert article.versions[0].submitted_at is None
        with pytest.raises(Conflict):
            knowledge.approve(city.supervisor, article, 1)

    def test_reject_needs_a_note_and_keeps_the_version(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        with pytest.raises(InvalidInput) as error:
            knowledge.reject(city.supervisor, article, 1, "  ")
        assert error.value.field == "note"
        knowledge.reject(city.supervisor, article, 1, "热线号码写错了")
        assert states(article) == [(1, VersionState.REJECTED)]
        assert article.versions[0].reviewer_note == "热线号码写错了"
        # The department writes the next version.
        assert knowledge.edit_article(city.water_staff, article, text()).number == 2

    def test_submit_twice_or_with_nothing_to_submit_is_a_conflict(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        with pytest.raises(Conflict):
            knowledge.submit(city.water_staff, article)
        knowledge.approve(city.supervisor, article)
        with pytest.raises(Conflict):
            knowledge.submit(city.water_staff, article)

    def test_approve_names_the_version_it_saw(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        with pytest.raises(Conflict):
            knowledge.approve(city.supervisor, article, 2)

    def test_retire_stops_offering_and_a_new_approval_brings_it_back(self, city):
        article = make_article(city.water_staff, city.supervisor)
        assert [s.article for s in knowledge.suggest("停水")] == [article]
        knowledge.retire(city.water_staff, article)
        assert knowledge.suggest("停水") == []
        with pytest.raises(Conflict):
            knowledge.retire(city.supervisor, article)
        knowledge.edit_article(city.water_staff, article, text())
        knowledge.submit(city.water_staff, article)
        knowledge.approve(city.supervisor, article)
        assert [s.article for s in knowledge.suggest("停水")] == [article]

    def test_approval_queue_oldest_first(self, city):
        first = make_article(city.water_staff)
        second = make_article(city.roads_staff, category="potholes")
        knowledge.submit(city.roads_staff, second)
        knowledge.submit(city.water_staff, first)
        assert [v.article for v in knowledge.pending_versions()] == [second, first]


class TestRights:
    def test_department_staff_edit_only_their_own_departments_articles(self, city):
        article = make_article(city.water_staff)
        with pytest.raises(PermissionDenied):
            knowledge.edit_article(city.roads_staff, article, text())
        with pytest.raises(PermissionDenied):
            knowledge.submit(city.roads_staff, article)
        with pytest.raises(PermissionDenied):
            knowledge.retire(city.roads_staff, article)
        with pytest.raises(PermissionDenied):
            knowledge.create_article(city.roads_staff, text(department="water"))

    def test_operators_and_dispatchers_do_not_write(self, city):
        for user in (city.operator, city.dispatcher):
            with pytest.raises(PermissionDenied):
                knowledge.create_article(user, text(department="water"))

    def test_only_supervisors_and_admins_approve(self, city):
        article = make_article(city.water_staff)
        knowledge.submit(city.water_staff, article)
        for user in (city.water_staff, city.operator, city.dispatcher):
            with pytest.raises(PermissionDenied):
                knowledge.approve(user, article)
            with pytest.raises(PermissionDenied):
                knowledge.reject(user, article, 1, "no")

    def test_supervisors_write_for_any_department_and_must_name_it(self, city):
        with pytest.raises(InvalidInput) as error:
            knowledge.create_article(city.supervisor, text())
        assert error.value.field == "department"
        article = knowledge.create_article(city.supervisor, text(department="roads"))
        assert article.department == city.roads
        knowledge.edit_article(city.admin, article, text(answer="管理员修改"))

    def test_drafts_are_seen_by_their_department_and_supervisors_only(self, city):
        draft = make_article(city.water_staff)
        approved = make_article(city.roads_staff, city.supervisor, category="potholes")
        for user in (city.water_staff, city.supervisor, city.admin):
            assert knowledge.get_article(user, draft.id) == draft
        for user in (city.roads_staff, city.operator, city.dispatcher):
            with pytest.raises(NotFound):
                knowledge.get_article(user, draft.id)
            assert knowledge.get_article(user, approved.id) == approved
        with pytest.raises(NotFound):
            knowledge.get_article(city.operator, 2**40)

    def test_others_see_only_approved_and_superseded_versions(self, city):
        article = make_article(city.water_staff, city.supervisor)
        knowledge.edit_article(city.water_staff, article, text(answer="草稿"))
        assert [v.number for v in knowledge.visible_versions(city.operator, article)] == [1]
        assert [v.number for v in knowledge.visible_versions(city.water_staff, article)] == [1, 2]


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"question": " "}, "question"),
            ({"question": "问" * 501}, "question"),
            ({"answer": ""}, "answer"),
            ({"answer": "答" * 5001}, "answer"),
            ({"category": ""}, "category"),
            ({"category": "nope"}, "category"),
            ({"valid_from": "2026-13-01"}, "valid_from"),
            ({"valid_until": "tomorrow"}, "valid_until"),
            ({"valid_from": "2026-05-02", "valid_until": "2026-05-01"}, "valid_until"),
            ({"tags": ["x" * 41]}, "tags"),
            ({"tags": [str(n) for n in range(21)]}, "tags"),
        ],
    )
    def test_bad_input_names_its_field(self, city, overrides, field):
        with pytest.raises(InvalidInput) as error:
            knowledge.create_article(city.water_staff, text(**overrides))
        assert error.value.field == field
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0

    def test_tags_typed_as_text_are_split_and_deduplicated(self, city):
        article = make_article(city.water_staff, tags="停水，供水、停水\n 水费 ")
        assert article.versions[0].tags == ["停水", "供水", "水费"]


class TestValidity:
    def test_valid_dates_are_inclusive_local_dates(self, city):
        article = make_article(city.water_staff, city.supervisor, valid_from="2026-05-01", valid_until="2026-05-31")
        version = article.current_version
        assert knowledge.validity(version, date(2026, 4, 30)) == knowledge.NOT_YET_VALID
        assert knowledge.validity(version, date(2026, 5, 1)) == knowledge.IN_FORCE
        assert knowledge.validity(version, date(2026, 5, 31)) == knowledge.IN_FORCE
        assert knowledge.validity(version, date(2026, 6, 1)) == knowledge.EXPIRED

    def test_today_is_the_hotlines_date_not_utcs(self, app, city, monkeypatch):
        # 2026-05-31 20:00 UTC is already 2026-06-01 04:00 in Shanghai.
        monkeypatch.setattr(knowledge, "utcnow", lambda: datetime(2026, 5, 31, 20, 0, tzinfo=UTC))
        assert app.config["HOTLINE_TIMEZONE"] == "Asia/Shanghai"
        assert knowledge.local_today() == date(2026, 6, 1)

    def test_expired_and_future_articles_are_never_offered_but_flagged(self, city):
        today = knowledge.local_today()
        expired = make_article(city.water_staff, city.supervisor, valid_until=today - timedelta(days=1))
        future = make_article(city.water_staff, city.supervisor, valid_from=today + timedelta(days=1))
        current = make_article(city.water_staff, city.supervisor, valid_until=today)
        assert [s.article for s in knowledge.suggest("停水通知")] == [current]
        assert knowledge.flags(expired) == ["expired", "stale"]
        assert knowledge.flags(future) == ["not_yet_valid"]
        assert knowledge.flags(current) == []
        assert knowledge.in_force() == [current]
        assert [s.article for s in knowledge.search_in_force("停水")] == [current]

    def test_an_article_not_used_for_the_stale_period_is_flagged(self, app, city, monkeypatch):
        article = make_article(city.water_staff, city.supervisor)
        later = datetime.now(UTC) + timedelta(days=knowledge.DEFAULT_STALE_DAYS + 1)
        assert knowledge.flags(article, now=later) == ["unused", "stale"]
        monkeypatch.setitem(app.config, "HOTLINE_KNOWLEDGE_STALE_DAYS", 400)
        assert knowledge.flags(article, now=later) == []

    def test_a_draft_only_article_has_no_answer(self, city):
        assert knowledge.flags(make_article(city.water_staff)) == ["no_answer"]


class TestMatching:
    def test_two_character_chinese_words_are_found(self, city):
        articles = make_city_articles(city)
        found = knowledge.suggest("我家小区今天突然停水了")
        assert [s.article for s in found] == [articles["water"]]  # the expired one is not offered
        assert "停水" in found[0].matched
        found = knowledge.suggest("楼下工地晚上噪音很大")
        assert [s.article for s in found][0] == articles["noise"]
        assert "噪音" in found[0].matched

    def test_english_words_and_plurals(self, city):
        articles = make_city_articles(city)
        found = knowledge.suggest("Caller reports broken street lights on Main Road")
        assert found[0].article == articles["english"]
        assert {"street", "light", "broken"} <= set(found[0].matched)

    def test_longer_matches_are_shown_whole(self, city):
        make_article(city.water_staff, city.supervisor, question="社保卡丢失了怎么补办？", tags=[])
        found = knowledge.suggest("市民的社保卡找不到了，想补办")
        assert found and {"社保卡", "补办"} <= set(found[0].matched)

    def test_nothing_in_common_finds_nothing(self, city):
        make_city_articles(city)
        assert knowledge.suggest("") == []
        assert knowledge.suggest("请问怎么") == []  # only how one asks, not what about
        assert knowledge.suggest("公交车改线") == []

    def test_the_chosen_category_ranks_its_articles_first(self, city):
        water = make_article(city.water_staff, city.supervisor, question="停水怎么办？", tags=[])
        roads = make_article(
            city.roads_staff, city.supervisor, question="施工停水怎么办？", tags=[], category="potholes"
        )
        ranked = [s.article for s in knowledge.suggest("施工停水")]
        assert ranked[0] == roads
        # The parent category of potholes counts too; water is still shown, second.
        assert [s.article for s in knowledge.suggest("停水", category="infrastructure")] == [roads, water]
        assert [s.article for s in knowledge.suggest("停水", category="water-supply")][0] == water

    def test_the_index_is_rebuilt_when_an_approval_changes_the_revision(self, city):
        make_city_articles(city)
        before = knowledge_index.current()
        assert knowledge_index.current() is before  # cached while nothing changed
        token = knowledge_index.current_token()
        article = make_article(city.water_staff, city.supervisor, question="水费怎么缴纳？", tags=["水费"])
        assert knowledge_index.current_token() != token
        assert [s.article for s in knowledge.suggest("水费")] == [article]

    def test_limit(self, city):
        for n in range(7):
            make_article(city.water_staff, city.supervisor, question=f"停水问题{n}")
        assert len(knowledge.suggest("停水", limit=3)) == 3


class TestAnsweringWithAnArticle:
    def test_the_ticket_is_an_ordinary_direct_answer_citing_the_article(self, city):
        article = make_city_articles(city)["water"]
        ticket = tickets.answer_with(city.operator, consultation(), article.id).ticket
        assert ticket.status == Status.CLOSED and ticket.department is None
        assert ticket.resolution == article.current_version.answer
        event = ticket.events[-1]
        assert event.kind == "direct_answer"
        assert event.data["article"] == {"id": article.id, "version": 1, "question": article.current_version.question}
        use = db.session.scalars(select(ArticleUse)).one()
        assert (use.article, use.version, use.ticket, use.operator) == (
            article,
            article.current_version,
            ticket,
            city.operator,
        )
        db.session.refresh(article)
        assert article.use_count == 1 and article.last_used_at is not None

    def test_the_operator_may_word_the_answer_and_each_use_counts(self, city):
        article = make_city_articles(city)["water"]
        for _ in range(3):
            tickets.create_ticket(
                city.operator, consultation(direct_answer="按知识库答复：请关注官网通知。", article_id=article.id)
            )
        db.session.refresh(article)
        assert article.use_count == 3
        assert db.session.scalar(select(func.count()).select_from(ArticleUse)) == 3
        assert {t.resolution for t in db.session.scalars(select(Ticket))} == {"按知识库答复：请关注官网通知。"}

    def test_the_citation_names_the_version_that_was_current(self, city):
        article = make_city_articles(city)["water"]
        knowledge.edit_article(city.water_staff, article, text(answer="第二版答复"))
        knowledge.submit(city.water_staff, article)
        knowledge.approve(city.supervisor, article)
        ticket = tickets.answer_with(city.operator, consultation(), article.id).ticket
        assert ticket.resolution == "第二版答复"
        assert ticket.events[-1].data["article"]["version"] == 2

    @pytest.mark.parametrize("which", ["expired", "retired", "draft", "missing"])
    def test_an_article_that_is_not_an_answer_now_is_refused(self, city, which):
        articles = make_city_articles(city)
        article_id = {
            "expired": articles["expired"].id,
            "draft": make_article(city.water_staff).id,
            "missing": 99999,
            "retired": knowledge.retire(city.supervisor, articles["water"]).id,
        }[which]
        with pytest.raises(InvalidInput) as error:
            tickets.answer_with(city.operator, consultation(), article_id)
        assert error.value.field == "article_id"
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert db.session.scalar(select(func.count()).select_from(ArticleUse)) == 0

    def test_the_expired_message_says_since_when(self, city):
        article = make_city_articles(city)["expired"]
        with pytest.raises(InvalidInput, match="2020-12-31"):
            tickets.answer_with(city.operator, consultation(), article.id)

    def test_only_a_consultation_can_cite_an_article(self, city):
        article = make_city_articles(city)["water"]
        with pytest.raises(InvalidInput, match="consultation|咨询"):
            tickets.answer_with(city.operator, consultation(type="complaint"), article.id)
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0

    def test_department_staff_cannot_log_a_call_with_an_article(self, city):
        article = make_city_articles(city)["water"]
        with pytest.raises(PermissionDenied):
            tickets.answer_with(city.water_staff, consultation(), article.id)

    def test_citations_are_listed_within_the_viewers_rights(self, city):
        article = make_city_articles(city)["water"]
        ticket = tickets.answer_with(city.operator, consultation(), article.id).ticket
        assert [use.ticket for use in knowledge.citations(city.supervisor, article)] == [ticket]
        # A direct answer has no department: department staff do not see the ticket itself.
        assert knowledge.citations(city.water_staff, article) == []

    def test_versions_are_kept_with_their_uses(self, city):
        article = make_city_articles(city)["water"]
        tickets.answer_with(city.operator, consultation(), article.id)
        assert db.session.scalar(select(func.count()).select_from(ArticleVersion)) == 4


def test_the_demo_city_has_articles_to_answer_with():
    from hotline.demo import demo

    demo.seed_demo(ticket_count=5)
    articles = list(db.session.scalars(select(Article)))
    assert len(articles) == len(demo.KNOWLEDGE)
    assert sum(1 for a in articles if a.current_version is not None) == len(demo.KNOWLEDGE) - 1
    assert [v.article.current_version for v in knowledge.pending_versions()] == [None]
    assert sum(1 for a in articles if "expired" in knowledge.flags(a)) == 1
    for words, question in [
        ("小区停水了", "停水通知"),
        ("社保卡丢了", "社保卡"),
        ("晚上施工噪音", "噪音"),
        ("提取公积金", "公积金"),
    ]:
        assert question in knowledge.suggest(words)[0].version.question


def test_a_suggestion_shares_what_the_call_is_about_not_how_it_is_told(city):
    """The streetlight call was offered the night-construction article for 连续 alone."""
    noise = make_article(
        city.roads_staff,
        city.supervisor,
        question="夜间施工噪音扰民，允许施工的时段是什么？",
        answer="22时至次日6时禁止施工；因抢险必须连续施工的，须提前公告附近居民。违规施工可投诉，部门会尽快处理。",
        category="potholes",
        tags=["噪音", "施工"],
    )
    lights = make_article(
        city.roads_staff,
        city.supervisor,
        question="路灯不亮找谁修？",
        answer="道路管理局三个工作日内修复路灯。",
        category="potholes",
        tags=["路灯"],
    )
    call = "市民反映小区门口的路灯连续三天不亮了，晚上很黑，希望相关部门尽快处理。"
    found = knowledge.suggest(call)
    assert [s.article.id for s in found] == [lights.id]
    assert found[0].matched == ["路灯", "不亮"]  # and why: the words shown beside it
    assert noise.id in [s.article.id for s in knowledge.suggest("工地夜间连续施工，噪音很大")]
