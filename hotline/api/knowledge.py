"""The knowledge base for a CTI system or a script: the articles that may be given as answers now."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _

from hotline.api.auth import api_roles, api_user
from hotline.api.blueprint import bp
from hotline.api.errors import ApiError
from hotline.api.parsing import query_int
from hotline.api.responses import json_response
from hotline.api.serializers import iso
from hotline.extensions import db
from hotline.models import Article, Category
from hotline.services.knowledge_base import knowledge

MAX_PER_PAGE = 100
QUERY_MAX = 2000


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
        found = knowledge.search_in_force(q, category)
        rows = [(s.article, s.matched, s.score) for s in found]
    else:
        rows = [(article, None, None) for article in knowledge.in_force(category)]
    shown = rows[(page - 1) * per_page : page * per_page]
    return json_response(
        {
            "articles": [_article_json(article, matched, score) for article, matched, score in shown],
            "page": page,
            "per_page": per_page,
            "total": len(rows),
            "pages": (len(rows) + per_page - 1) // per_page,
        }
    )


@bp.get("/knowledge/articles/<int:article_id>")
@api_roles()
def get_article(article_id: int) -> Response:
    """An approved article (an expired one too, marked so: `in_force` false and its `validity`)."""
    article = knowledge.get_article(api_user(), article_id)
    if article.current_version is None:
        raise ApiError(404, "not_found", _("No article %(id)s in the knowledge base.", id=article_id))
    return json_response(_article_json(article))


def _category(code: str) -> Category | None:
    if not code:
        return None
    category = db.session.query(Category).filter_by(code=code).first()
    if category is None:
        raise ApiError(400, "invalid_input", _("Unknown category “%(code)s”.", code=code), field="category")
    return category


def _article_json(article: Article, matched: list[str] | None = None, score: float | None = None) -> dict[str, Any]:
    version = article.current_version
    assert version is not None
    state = knowledge.validity(version)
    data: dict[str, Any] = {
        "id": article.id,
        "question": version.question,
        "answer": version.answer,
        "category": article.category.code,
        "department": article.department.code,
        "tags": list(version.tags or []),
        "version": version.number,
        "valid_from": version.valid_from.isoformat() if version.valid_from else None,
        "valid_until": version.valid_until.isoformat() if version.valid_until else None,
        "validity": state,  # in_force | expired | not_yet_valid
        "in_force": state == knowledge.IN_FORCE and not article.is_retired,
        "status": article.status,  # active | retired
        "approved_at": iso(version.reviewed_at),
        "use_count": article.use_count,
        "last_used_at": iso(article.last_used_at),
    }
    if matched is not None:
        data["matched"] = matched
        data["score"] = score
    return data
