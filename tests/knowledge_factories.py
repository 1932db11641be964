"""Knowledge-base articles for tests, written and approved through the service as people would."""

from __future__ import annotations

from datetime import date

from hotline.models import Article, User
from hotline.services.knowledge_base import knowledge
from hotline.services.knowledge_base.knowledge import ArticleText


def text(**overrides) -> ArticleText:
    values = {
        "question": "小区停水了，怎么查询停水通知？",
        "answer": "计划停水会提前24小时在水务集团官网和小区公告栏公布，也可拨打供水服务热线查询。",
        "category": "water-supply",
        "tags": ["停水", "供水"],
    }
    values.update(overrides)
    return ArticleText(**values)


def make_article(author: User, reviewer: User | None = None, **overrides) -> Article:
    """An article written by `author`; approved by `reviewer` when one is given."""
    article = knowledge.create_article(author, text(**overrides))
    if reviewer is not None:
        knowledge.submit(author, article)
        knowledge.approve(reviewer, article)
    return article


def make_city_articles(city) -> dict[str, Article]:
    """A few approved articles of the test city: water (in force and expired) and roads."""
    return {
        "water": make_article(city.water_staff, city.supervisor),
        "noise": make_article(
            city.roads_staff,
            city.supervisor,
            question="夜间施工噪音扰民可以投诉吗？允许施工的时段是什么？",
            answer="除抢修外，22时至次日6时禁止产生噪音的建筑施工，可向城管部门投诉。",
            category="potholes",
            tags=["噪音", "施工"],
        ),
        "english": make_article(
            city.roads_staff,
            city.supervisor,
            question="How do I report a broken street light?",
            answer="Street lights are repaired by the roads department within three working days.",
            category="infrastructure",
            tags=["lighting"],
        ),
        "expired": make_article(
            city.water_staff,
            city.supervisor,
            question="冬季供水管道防冻补贴怎么申请？",
            answer="2020年的防冻补贴已停止申请。",
            valid_until=date(2020, 12, 31),
            tags=["停水", "防冻"],
        ),
    }
