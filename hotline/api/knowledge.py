"""The knowledge base for a CTI system or a script: the articles that may be given as answers now.

Described once: `ArticleSchema` writes an article (its current version, approved) and is the
document's `Article`; `ARTICLE_PAGE` a page of them (`ArticlePage`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Response, current_app, request
from flask_babel import gettext as _
from marshmallow import fields, post_dump

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.schemas import Code, Count, Id, Output, Time, nullable, page_of
from hotline.extensions import db
from hotline.models import Article, ArticleVersion, Category
from hotline.services.knowledge_base import knowledge

MAX_PER_PAGE = 100
QUERY_MAX = 2000


class Shown(NamedTuple):
    """An article as shown: its current version; with `q`, the words it matched and its rank."""

    article: Article
    version: ArticleVersion
    matched: list[str] | None = None
    score: float | None = None

    @property
    def validity(self) -> str:
        return knowledge.validity(self.version)

    @property
    def in_force(self) -> bool:
        return self.validity == knowledge.IN_FORCE and not self.article.is_retired

    @property
    def tags(self) -> list[str]:
        return list(self.version.tags or [])


class ArticleSchema(Output):
    id = Id(required=True, attribute="article.id")
    question = fields.String(required=True, attribute="version.question")
    answer = fields.String(required=True, attribute="version.answer")
    category = Code(required=True, attribute="article.category")
    department = Code(required=True, attribute="article.department")
    tags = fields.List(fields.String(), required=True)
    version = Id(required=True, attribute="version.number")
    valid_from = nullable(fields.Date(required=True, attribute="version.valid_from"))
    valid_until = nullable(fields.Date(required=True, attribute="version.valid_until"))
    validity = fields.String(
        required=True, metadata={"enum": [knowledge.IN_FORCE, knowledge.EXPIRED, knowledge.NOT_YET_VALID]}
    )
    in_force = fields.Boolean(required=True)
    status = fields.String(required=True, attribute="article.status", metadata={"enum": ["active", "retired"]})
    approved_at = nullable(Time(required=True, attribute="version.reviewed_at"))
    use_count = Count(required=True, attribute="article.use_count")
    last_used_at = nullable(Time(required=True, attribute="article.last_used_at"))
    # With `q` only (left out without).
    matched = fields.List(fields.String(), metadata={"description": "With `q`: the words it matched."})
    score = fields.Float(metadata={"description": "With `q`: the rank, higher is better."})

    @post_dump(pass_original=True)
    def _without_search(self, data: dict[str, Any], shown: Shown, **kwargs: Any) -> dict[str, Any]:
        if shown.matched is None:
            del data["matched"], data["score"]
        return data


ARTICLE = ArticleSchema()
ARTICLE_PAGE = page_of("ArticlePage", "articles", ArticleSchema)


@bp.get("/knowledge/articles")
@api_roles()
def list_articles() -> Response:
    """Approved, active articles in force today; with `q`, those matching it, best first (each
    with the words it matched); `category` keeps those filed under it or below."""
    q = request.args.get("q", "")
    if len(q) > QUERY_MAX:
        raise ApiError(400, "invalid_input", _("“q” is longer than %(n)d characters.", n=QUERY_MAX), field="q")
    category = _category(request.args.get("category", "").strip())
    default_size = min(current_app.config["HOTLINE_API_PAGE_SIZE"], MAX_PER_PAGE)
    page = query_int("page", 1)
    per_page = query_int("per_page", default_size, maximum=MAX_PER_PAGE)
    if q.strip():
        rows = [(s.article, s.matched, s.score) for s in knowledge.search_in_force(q, category)]
    else:
        rows = [(article, None, None) for article in knowledge.in_force(category)]
    shown = [_shown(*row) for row in rows[(page - 1) * per_page : page * per_page]]
    return json_response(
        ARTICLE_PAGE.dump(
            {
                "articles": shown,
                "page": page,
                "per_page": per_page,
                "total": len(rows),
                "pages": (len(rows) + per_page - 1) // per_page,
            }
        )
    )


@bp.get("/knowledge/articles/<int:article_id>")
@api_roles()
def get_article(article_id: int) -> Response:
    """An approved article (an expired one too, marked so: `in_force` false and its `validity`)."""
    article = knowledge.get_article(api_user(), article_id)
    if article.current_version is None:
        raise ApiError(404, "not_found", _("No article %(id)s in the knowledge base.", id=article_id))
    return json_response(ARTICLE.dump(_shown(article)))


def _category(code: str) -> Category | None:
    if not code:
        return None
    category = db.session.query(Category).filter_by(code=code).first()
    if category is None:
        raise ApiError(400, "invalid_input", _("Unknown category “%(code)s”.", code=code), field="category")
    return category


def _shown(article: Article, matched: list[str] | None = None, score: float | None = None) -> Shown:
    version = article.current_version
    assert version is not None
    return Shown(article, version, matched, score)
