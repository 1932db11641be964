"""The knowledge base (知识库) pages: the list and its search, an article with its versions and
citations, the forms of department staff, the supervisors' approval queue, and the suggestions
the intake form asks for while a call is described."""

from __future__ import annotations

import difflib

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField

from hotline.bounds import whole_number
from hotline.extensions import db
from hotline.models import Article, ArticleStatus, ArticleVersion, Category, Department, VersionState
from hotline.services.accounts import access
from hotline.services.errors import NotFound, ServiceError
from hotline.services.knowledge_base import knowledge
from hotline.web.forms import HotlineForm, category_choices, department_choices, no_nul, show_service_error
from hotline.web.guards import expired, roles_required, safe_next
from hotline.web.paging import page_number

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")

PAGE_SIZE = 50
EXCERPT = 120
SUGGEST_QUERY_MAX = 2000
STATE_FILTERS = ("approved", "pending", "draft", "rejected", "retired")
FLAG_FILTERS = ("expired", "not_yet_valid", "stale", "unused")

STATE_LABELS = {
    VersionState.DRAFT: _l("Draft"),
    VersionState.PENDING: _l("Waiting for approval"),
    VersionState.APPROVED: _l("Approved"),
    VersionState.REJECTED: _l("Rejected"),
    VersionState.SUPERSEDED: _l("Superseded"),
    "retired": _l("Retired"),
}
FLAG_LABELS = {
    "expired": _l("Expired"),
    "not_yet_valid": _l("Not yet valid"),
    "stale": _l("Stale"),
    "unused": _l("Not used lately"),
    "retired": _l("Retired"),
    "no_answer": _l("Not approved yet"),
}


class ArticleForm(HotlineForm):
    question = StringField(_l("Question (as callers ask it)"))
    answer = TextAreaField(_l("Answer (what the operator tells the caller)"))
    category = SelectField(_l("Category"), validate_choice=False)
    department = SelectField(_l("Owning department"), validate_choice=False)
    tags = StringField(_l("Tags"))
    valid_from = StringField(_l("Valid from"))
    valid_until = StringField(_l("Valid until"))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Save and submit for approval"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("— choose —")), *category_choices()]
        self.department.choices = [("", _l("— choose —")), *department_choices()]


class ReviewForm(HotlineForm):
    number = HiddenField()
    note = TextAreaField(_l("Note to the authors"))
    next = HiddenField()


class ActionForm(HotlineForm):
    next = HiddenField()


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return render_template("errors/error.html", code=404, message=error.message), 404


@bp.context_processor
def _labels() -> dict:
    return {"STATE_LABELS": STATE_LABELS, "FLAG_LABELS": FLAG_LABELS}


@bp.get("/")
@roles_required()
def index():
    filters = {name: request.args.get(name, "").strip() for name in ("q", "category", "department", "state", "flag")}
    filters["sort"] = request.args.get("sort", "")
    query = knowledge.visible_articles(current_user).options(
        selectinload(Article.current_version),
        selectinload(Article.versions),
        selectinload(Article.department),
        selectinload(Article.category),
    )
    category = _by_code(Category, filters["category"])
    if category is not None:
        query = query.where(Article.category_id.in_(knowledge.subtree(category)))
    department = _by_code(Department, filters["department"])
    if department is not None:
        query = query.where(Article.department_id == department.id)
    query = _state_filter(query, filters["state"], knowledge.can_review(current_user))
    articles = list(db.session.scalars(query.order_by(Article.id.desc())))
    if filters["q"]:
        articles = _ranked(articles, filters["q"][:SUGGEST_QUERY_MAX])
    elif filters["sort"] == "uses":
        articles.sort(key=lambda a: (-a.use_count, -a.id))
    today = knowledge.local_today()
    flags = {article.id: knowledge.flags(article, today=today) for article in articles}
    if filters["flag"] in FLAG_FILTERS:
        articles = [a for a in articles if filters["flag"] in flags[a.id]]
    page = page_number()
    pages = max((len(articles) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    shown = articles[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "knowledge/index.html",
        articles=shown,
        total=len(articles),
        page=page,
        pages=pages,
        flags=flags,
        filters=filters,
        categories=category_choices(),
        departments=department_choices(),
        can_write=knowledge.can_write(current_user),
        can_review=knowledge.can_review(current_user),
    )


def _state_filter(query, state: str, reviewer: bool):
    if state == "approved":
        return query.where(Article.current_version_id.is_not(None), Article.status == ArticleStatus.ACTIVE)
    if state == "retired":
        return query.where(Article.status == ArticleStatus.RETIRED)
    if state in ("pending", "draft", "rejected"):
        query = query.where(knowledge.has_version_in(state))
        # Work in progress is for its authors and the reviewers to see.
        return query if reviewer else query.where(Article.department_id == current_user.department_id)
    return query


def _ranked(articles: list[Article], q: str) -> list[Article]:
    """Approved articles by relevance, then those whose text (drafts included) holds `q` as typed."""
    order = {article_id: rank for rank, article_id in enumerate(knowledge.matching_ids(q))}
    containing = set(
        db.session.scalars(
            select(ArticleVersion.article_id).where(
                or_(
                    ArticleVersion.question.contains(q, autoescape=True),
                    ArticleVersion.answer.contains(q, autoescape=True),
                )
            )
        )
    )
    found = [a for a in articles if a.id in order or a.id in containing]
    return sorted(found, key=lambda a: (order.get(a.id, len(order)), -a.id))


def _by_code(model, code: str):
    return db.session.scalar(select(model).where(model.code == code)) if code else None


@bp.get("/suggest")
@roles_required(*access.INTAKE_ROLES)
def suggest():
    """The articles to offer for what the operator has typed so far, as JSON for the intake page."""
    q = no_nul(request.args.get("q", ""))[:SUGGEST_QUERY_MAX]
    category = no_nul(request.args.get("category", ""))
    found = knowledge.suggest(q, category=category or None) if q.strip() else []
    return jsonify({"searched": bool(q.strip()), "articles": [suggestion_json(s) for s in found]})


def suggestion_json(found: knowledge.Suggestion) -> dict:
    article, version = found.article, found.version
    answer = version.answer
    return {
        "id": article.id,
        "url": url_for("knowledge.show", article_id=article.id),
        "question": version.question,
        "answer": answer,
        "excerpt": answer if len(answer) <= EXCERPT else answer[:EXCERPT] + "…",
        "department": article.department.name,
        # "Answer with this" files the call under the article's category when none is chosen yet.
        "category": article.category.code,
        "version": version.number,
        "valid_until": version.valid_until.isoformat() if version.valid_until else None,
        "matched": found.matched,
        "use_count": article.use_count,
    }


@bp.get("/pending")
@roles_required(*access.SUPERVISE_ROLES)
def pending():
    versions = knowledge.pending_versions()
    return render_template(
        "knowledge/pending.html",
        versions=versions,
        diffs={v.id: _diffs(v.article.current_version, v) for v in versions},
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required()
def create():
    if not knowledge.can_write(current_user):
        abort(403)
    form = ArticleForm()
    if request.method == "POST":
        article = _save(form, None)
        if article is not None:
            return redirect(url_for("knowledge.show", article_id=article.id))
        return render_template("knowledge/form.html", form=form, article=None), 400
    if current_user.department is not None:
        form.department.data = current_user.department.code
    form.category.data = request.args.get("category", "")
    return render_template("knowledge/form.html", form=form, article=None)


@bp.get("/<int:article_id>")
@roles_required()
def show(article_id: int):
    article = knowledge.get_article(current_user, article_id)
    working = article.working_version
    editable = knowledge.can_edit(current_user, article)
    return render_template(
        "knowledge/show.html",
        article=article,
        flags=knowledge.flags(article),
        versions=list(reversed(knowledge.visible_versions(current_user, article))),
        working=working if editable else None,
        diffs=_diffs(article.current_version, working) if working is not None and editable else None,
        citations=knowledge.citations(current_user, article),
        can_edit=editable,
        can_review=knowledge.can_review(current_user),
    )


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@roles_required()
def edit(article_id: int):
    article = knowledge.get_article(current_user, article_id)
    if not knowledge.can_edit(current_user, article):
        abort(403)
    if request.method == "POST":
        form = ArticleForm()
        if _save(form, article) is not None:
            return redirect(url_for("knowledge.show", article_id=article.id))
        return render_template("knowledge/form.html", form=form, article=article), 400
    source = article.working_version or article.current_version or article.latest_version
    form = ArticleForm(
        data={
            "question": source.question,
            "answer": source.answer,
            "category": source.category.code,
            "department": article.department.code,
            "tags": "，".join(source.tags or []),
            "valid_from": source.valid_from.isoformat() if source.valid_from else "",
            "valid_until": source.valid_until.isoformat() if source.valid_until else "",
        }
    )
    return render_template("knowledge/form.html", form=form, article=article)


def _save(form: ArticleForm, article: Article | None) -> Article | None:
    """Save the form as a draft (and submit it when asked); None, with the errors shown, otherwise."""
    if not form.validate_on_submit():  # only the CSRF token can fail
        flash(_("The form has expired; please submit it again."), "danger")
        return None
    text = knowledge.ArticleText(
        question=form.question.data or "",
        answer=form.answer.data or "",
        category=form.category.data or "",
        tags=form.tags.data or "",
        valid_from=form.valid_from.data or None,
        valid_until=form.valid_until.data or None,
        department=form.department.data or None,
    )
    try:
        if article is None:
            article = knowledge.create_article(current_user, text)
            number = 1
        else:
            number = knowledge.edit_article(current_user, article, text).number
        if form.send.data:
            knowledge.submit(current_user, article)
            flash(_("Version %(number)d saved and submitted for approval.", number=number), "success")
        else:
            flash(_("Version %(number)d saved as a draft.", number=number), "success")
    except ServiceError as error:
        db.session.rollback()
        show_service_error(form, error)
        return None
    return article


@bp.post("/<int:article_id>/submit")
@roles_required()
def submit(article_id: int):
    return _act(article_id, lambda article, form: knowledge.submit(current_user, article), _("Submitted for approval."))


@bp.post("/<int:article_id>/retire")
@roles_required()
def retire(article_id: int):
    return _act(article_id, lambda article, form: knowledge.retire(current_user, article), _("The article is retired."))


@bp.post("/<int:article_id>/approve")
@roles_required(*access.SUPERVISE_ROLES)
def approve(article_id: int):
    return _act(
        article_id,
        lambda article, form: knowledge.approve(current_user, article, _number(form), form.note.data or ""),
        _("Approved: operators now see this version."),
        ReviewForm,
    )


@bp.post("/<int:article_id>/reject")
@roles_required(*access.SUPERVISE_ROLES)
def reject(article_id: int):
    return _act(
        article_id,
        lambda article, form: knowledge.reject(current_user, article, _number(form), form.note.data or ""),
        _("Rejected: the authors see your note."),
        ReviewForm,
    )


def _act(article_id: int, action, done: str, form_class=ActionForm) -> Response:
    article = knowledge.get_article(current_user, article_id)
    form = form_class()
    back = safe_next(form.next.data) or url_for("knowledge.show", article_id=article.id)
    if refused := expired(form, back):
        return refused
    try:
        action(article, form)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    flash(done, "success")
    return redirect(back)


def _number(form: ReviewForm) -> int | None:
    raw = (form.number.data or "").strip()
    return whole_number(raw)


def _diffs(before: ArticleVersion | None, after: ArticleVersion | None) -> dict[str, Markup] | None:
    """The proposed question and answer against the current ones, marked up character by character."""
    if before is None or after is None or before.id == after.id:
        return None
    return {"question": _diff(before.question, after.question), "answer": _diff(before.answer, after.answer)}


def _diff(old: str, new: str) -> Markup:
    parts: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(old[a1:a2])}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(new[b1:b2])}</ins>")
        if op == "equal":
            parts.append(str(escape(old[a1:a2])))
    return Markup("".join(parts))
