"""The operators' knowledge base (知识库): articles written by departments, approved by supervisors,
offered while a call is typed, and cited by the tickets they answer directly.

Rules:
- department staff write and keep up their own department's articles; supervisors and
  administrators any. An edit is a new version, a draft; an article has at most one version
  being worked on (a draft, or one pending approval: editing that sends it back to draft);
- supervisors and administrators approve or reject (saying why) a submitted version; the
  approved one becomes current and the one before it is superseded, kept for the record;
- an article is offered as an answer only while it is active and its current version is in
  force on the hotline's local date (valid from / until, both inclusive); in lists an article
  out of force is flagged "expired" or "not yet valid", never shown as an answer;
- each direct answer that cites an article is counted (`ArticleUse`); an article not used for
  `HOTLINE_KNOWLEDGE_STALE_DAYS` (default 90) days, or past its validity, is flagged stale
  for its owners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from hotline.bounds import MAX_ID
from hotline.extensions import db
from hotline.models import (
    Article,
    ArticleStatus,
    ArticleUse,
    ArticleVersion,
    Category,
    Department,
    Role,
    Ticket,
    User,
    VersionState,
)
from hotline.models.types import utcnow
from hotline.services.accounts import access
from hotline.services.city.directory import by_code
from hotline.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hotline.services.knowledge_base import knowledge_index

QUESTION_MAX = 500
ANSWER_MAX = 5000
NOTE_MAX = 2000
TAGS_MAX, TAG_MAX = 20, 40
DEFAULT_STALE_DAYS = 90
SUGGEST_CUTOFF = 0.25  # suggestions scoring below a quarter of the best share only a common word
CATEGORY_BOOST = 1.5  # an article of the chosen category (or above or below it) ranks higher
TAG_SEPARATORS = re.compile(r"[\n\r,，、;；]+")

IN_FORCE, EXPIRED, NOT_YET_VALID = "in_force", "expired", "not_yet_valid"


@dataclass
class ArticleText:
    """What an author writes: one version's content. `department` is read at creation only."""

    question: str
    answer: str
    category: str
    tags: list[str] | str | None = None
    valid_from: date | str | None = None
    valid_until: date | str | None = None
    department: str | None = None


@dataclass
class Suggestion:
    article: Article
    version: ArticleVersion
    score: float
    matched: list[str]


@dataclass
class Citation:
    """The article a direct answer cites, checked to be citable now."""

    article: Article
    version: ArticleVersion

    def event_data(self) -> dict[str, Any]:
        return {"id": self.article.id, "version": self.version.number, "question": self.version.question}


# --- who may do what ---------------------------------------------------------------------


def can_review(actor: User) -> bool:
    return actor.has_role(*access.SUPERVISE_ROLES)


def can_edit(actor: User, article: Article) -> bool:
    """Supervisors and administrators any article; department staff their own department's."""
    if can_review(actor):
        return True
    return actor.role == Role.DEPARTMENT and actor.department_id == article.department_id


def can_write(actor: User) -> bool:
    """Whether the actor may write articles at all (department staff need a department)."""
    return can_review(actor) or (actor.role == Role.DEPARTMENT and actor.department_id is not None)


def visible_articles(actor: User) -> Select[tuple[Article]]:
    """Supervisors and administrators see every article; department staff their own department's
    and the approved ones of others; everyone else the approved ones (those with a current version)."""
    query = select(Article)
    if can_review(actor):
        return query
    approved = Article.current_version_id.is_not(None)
    if actor.role == Role.DEPARTMENT and actor.department_id is not None:
        return query.where(or_(approved, Article.department_id == actor.department_id))
    return query.where(approved)


def get_article(actor: User, article_id: int) -> Article:
    """The article, if the actor may see it; NotFound otherwise (no probing of drafts)."""
    article = None
    if 0 < article_id <= MAX_ID:
        article = db.session.scalars(visible_articles(actor).where(Article.id == article_id)).first()
    if article is None:
        raise NotFound(_("No article %(id)s in the knowledge base.", id=article_id))
    return article


def visible_versions(actor: User, article: Article) -> list[ArticleVersion]:
    """Authors and reviewers see every version; others the approved and superseded ones."""
    if can_edit(actor, article):
        return list(article.versions)
    return [v for v in article.versions if v.state in (VersionState.APPROVED, VersionState.SUPERSEDED)]


# --- writing and approving ---------------------------------------------------------------


def create_article(actor: User, text: ArticleText) -> Article:
    """A new article with its first version, a draft."""
    if not can_write(actor):
        raise PermissionDenied(_("Only department staff, supervisors and administrators write articles."))
    department = _owner(actor, text.department)
    fields = _validated(text)
    now = utcnow()
    article = Article(category=fields["category"], department=department, created_by=actor, created_at=now)
    db.session.add(article)
    db.session.add(ArticleVersion(article=article, number=1, author=actor, created_at=now, updated_at=now, **fields))
    db.session.commit()
    return article


def edit_article(actor: User, article: Article, text: ArticleText) -> ArticleVersion:
    """Change the version being worked on (a pending one goes back to draft), or start the next
    version as a draft. The current version stays what operators see until another is approved."""
    _require_edit(actor, article)
    fields = _validated(text)
    now = utcnow()
    version = article.working_version
    if version is None:
        number = max((v.number for v in article.versions), default=0) + 1
        version = ArticleVersion(article=article, number=number, author=actor, created_at=now)
        db.session.add(version)
    for name, value in fields.items():
        setattr(version, name, value)
    version.state = VersionState.DRAFT
    version.author = actor
    version.updated_at = now
    version.submitted_by = None
    version.submitted_at = None
    if article.current_version_id is None:  # until one is approved, the article files under its draft
        article.category = fields["category"]
    db.session.commit()
    return version


def submit(actor: User, article: Article) -> ArticleVersion:
    """Send the draft for a supervisor's approval."""
    _require_edit(actor, article)
    version = article.working_version
    if version is None:
        raise Conflict(_("There is no draft to submit: edit the article first."))
    if version.state == VersionState.PENDING:
        raise Conflict(_("Version %(number)d is already waiting for approval.", number=version.number))
    version.state = VersionState.PENDING
    version.submitted_by = actor
    version.submitted_at = utcnow()
    db.session.commit()
    return version


def approve(actor: User, article: Article, number: int | None = None, note: str = "") -> ArticleVersion:
    """The pending version becomes current; the one it replaces is superseded (and kept)."""
    version = _pending(actor, article, number)
    now = utcnow()
    previous = article.current_version
    if previous is not None:
        previous.state = VersionState.SUPERSEDED
    version.state = VersionState.APPROVED
    version.reviewed_by = actor
    version.reviewed_at = now
    version.reviewer_note = (note or "").strip()[:NOTE_MAX]
    article.current_version = version
    article.category = version.category
    article.status = ArticleStatus.ACTIVE  # approving a new version brings a retired article back
    knowledge_index.changed()
    db.session.commit()
    return version


def reject(actor: User, article: Article, number: int | None, note: str) -> ArticleVersion:
    """Send the pending version back, saying why; it is kept, and the department writes the next."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput(_("Say why the version is rejected, so that its authors can correct it."), field="note")
    version = _pending(actor, article, number)
    version.state = VersionState.REJECTED
    version.reviewed_by = actor
    version.reviewed_at = utcnow()
    version.reviewer_note = text[:NOTE_MAX]
    db.session.commit()
    return version


def retire(actor: User, article: Article) -> Article:
    """No longer offered or listed as an answer; kept with its history and citations."""
    _require_edit(actor, article)
    if article.is_retired:
        raise Conflict(_("The article is already retired."))
    article.status = ArticleStatus.RETIRED
    knowledge_index.changed()
    db.session.commit()
    return article


def pending_versions() -> list[ArticleVersion]:
    """The approval queue, oldest submission first."""
    return list(
        db.session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.state == VersionState.PENDING)
            .order_by(ArticleVersion.submitted_at, ArticleVersion.id)
            .options(selectinload(ArticleVersion.article))
        )
    )


def _pending(actor: User, article: Article, number: int | None) -> ArticleVersion:
    if not can_review(actor):
        raise PermissionDenied(_("Only supervisors and administrators approve articles."))
    version = article.working_version
    if version is None or version.state != VersionState.PENDING or (number is not None and version.number != number):
        shown = number if number is not None else (version.number if version else 0)
        raise Conflict(_("Version %(number)d is not waiting for approval (it may have been edited).", number=shown))
    return version


def _require_edit(actor: User, article: Article) -> None:
    if not can_edit(actor, article):
        raise PermissionDenied(_("Only the owning department's staff, supervisors and administrators may do this."))


def _owner(actor: User, code: str | None) -> Department:
    if actor.role == Role.DEPARTMENT:
        if code and (actor.department is None or code != actor.department.code):
            raise PermissionDenied(_("Department staff write articles for their own department only."))
        return actor.department
    department = by_code(Department, code, "department", required=True)
    assert department is not None
    return department


def _validated(text: ArticleText) -> dict[str, Any]:
    question = (text.question or "").strip()
    answer = (text.answer or "").strip()
    if not question:
        raise InvalidInput(_("Write the question as callers ask it."), field="question")
    if len(question) > QUESTION_MAX:
        raise InvalidInput(_("The question is longer than %(n)d characters.", n=QUESTION_MAX), field="question")
    if not answer:
        raise InvalidInput(_("Write the answer operators give."), field="answer")
    if len(answer) > ANSWER_MAX:
        raise InvalidInput(_("The answer is longer than %(n)d characters.", n=ANSWER_MAX), field="answer")
    valid_from = _date(text.valid_from, "valid_from")
    valid_until = _date(text.valid_until, "valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput(_("“Valid until” is before “valid from”."), field="valid_until")
    return {
        "question": question,
        "answer": answer,
        "category": by_code(Category, text.category, "category", required=True),
        "tags": parse_tags(text.tags),
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def parse_tags(raw: list[str] | str | None) -> list[str]:
    """Tags typed one per line or separated by commas (Chinese ones too), without repeats."""
    items = TAG_SEPARATORS.split(raw) if isinstance(raw, str) else list(raw or [])
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(_("Tags must be words."), field="tags")
        tag = item.strip()
        if len(tag) > TAG_MAX:
            raise InvalidInput(_("A tag is longer than %(n)d characters.", n=TAG_MAX), field="tags")
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(_("At most %(n)d tags.", n=TAGS_MAX), field="tags")
    return tags


def _date(value: date | str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(_("Give the date as YYYY-MM-DD."), field=field)


# --- validity and staleness --------------------------------------------------------------


def local_today() -> date:
    """Today on the hotline's clock (HOTLINE_TIMEZONE): validity dates are local dates."""
    return utcnow().astimezone(ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])).date()


def validity(version: ArticleVersion | knowledge_index.Entry, today: date | None = None) -> str:
    today = today or local_today()
    if version.valid_until is not None and version.valid_until < today:
        return EXPIRED
    if version.valid_from is not None and version.valid_from > today:
        return NOT_YET_VALID
    return IN_FORCE


def stale_days() -> int:
    return int(current_app.config.get("HOTLINE_KNOWLEDGE_STALE_DAYS", DEFAULT_STALE_DAYS))


def flags(article: Article, now: datetime | None = None, today: date | None = None) -> list[str]:
    """What an article's owners should look at: "retired", "expired" / "not_yet_valid",
    "unused" (not used for the stale period since it was approved or last used), "no_answer"
    (never approved). "stale" is set with "expired" or "unused"."""
    now = now or utcnow()
    version = article.current_version
    found: list[str] = []
    if article.is_retired:
        found.append("retired")
    if version is None:
        return [*found, "no_answer"]
    state = validity(version, today)
    if state != IN_FORCE:
        found.append(state)
    last = article.last_used_at or version.reviewed_at or article.created_at
    if not article.is_retired and last is not None and last < now - timedelta(days=stale_days()):
        found.append("unused")
    if not article.is_retired and (state == EXPIRED or "unused" in found):
        found.append("stale")
    return found


def offerable(article: Article, today: date | None = None) -> bool:
    version = article.current_version
    return not article.is_retired and version is not None and validity(version, today) == IN_FORCE


# --- finding -----------------------------------------------------------------------------


def suggest(text: str, category: Category | str | None = None, limit: int = 5) -> list[Suggestion]:
    """The articles that may be given as an answer (active, in force today), best match first,
    each with the words of `text` it matched. A chosen category ranks its articles higher
    (those filed above or below it too) without hiding the others: the operator may not have
    picked the right one yet."""
    text = (text or "")[:ANSWER_MAX]
    index = knowledge_index.current()
    today = local_today()
    related = _related_categories(category)

    def keep(entry: knowledge_index.Entry) -> bool:
        return not entry.retired and validity(entry, today) == IN_FORCE

    def boost(entry: knowledge_index.Entry) -> float:
        return CATEGORY_BOOST if entry.category_id in related else 1.0

    hits = index.search(text, keep=keep, boost=boost if related else None, limit=limit, cutoff=SUGGEST_CUTOFF)
    return _suggestions(hits, today)


def search_in_force(text: str, category: Category | None = None) -> list[Suggestion]:
    """Every article that may be given as an answer and matches `text`, filed under `category`
    or below it when one is given (the API's search)."""
    index = knowledge_index.current()
    today = local_today()
    below = subtree(category) if category is not None else None

    def keep(entry: knowledge_index.Entry) -> bool:
        in_tree = below is None or entry.category_id in below
        return in_tree and not entry.retired and validity(entry, today) == IN_FORCE

    return _suggestions(index.search(text[:ANSWER_MAX], keep=keep), today)


def matching_ids(text: str) -> list[int]:
    """Articles with an approved version that match `text`, best first, in force or not (the lists)."""
    return [hit.article_id for hit in knowledge_index.current().search(text[:ANSWER_MAX])]


def in_force(category: Category | None = None) -> list[Article]:
    """Every article that may be given as an answer now, newest first (filed under `category` or below)."""
    query = (
        select(Article)
        .join(ArticleVersion, Article.current_version_id == ArticleVersion.id)
        .where(Article.status == ArticleStatus.ACTIVE)
        .options(selectinload(Article.current_version))
        .order_by(Article.id.desc())
    )
    if category is not None:
        query = query.where(Article.category_id.in_(subtree(category)))
    today = local_today()
    return [article for article in db.session.scalars(query) if offerable(article, today)]


def _suggestions(hits: list[knowledge_index.Hit], today: date) -> list[Suggestion]:
    if not hits:
        return []
    articles = {
        a.id: a
        for a in db.session.scalars(
            select(Article)
            .where(Article.id.in_([hit.article_id for hit in hits]))
            .options(selectinload(Article.current_version), selectinload(Article.department))
        )
    }
    found = []
    for hit in hits:
        article = articles.get(hit.article_id)
        # The index may be a moment older than the row: check again before offering.
        if article is not None and offerable(article, today):
            found.append(Suggestion(article, article.current_version, round(hit.score, 3), hit.matched))
    return found


def _category(category: Category | str | None) -> Category | None:
    if isinstance(category, str):
        return db.session.scalar(select(Category).where(Category.code == category)) if category else None
    return category


def subtree(category: Category) -> set[int]:
    """The category and every category below it."""
    children: dict[int | None, list[int]] = {}
    for node_id, parent_id in db.session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent_id, []).append(node_id)
    found: set[int] = set()
    todo = [category.id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(children.get(node, []))
    return found


def _related_categories(category: Category | str | None) -> set[int]:
    chosen = _category(category)
    if chosen is None:
        return set()
    return subtree(chosen) | {node.id for node in chosen.lineage()}


# --- answering with an article -----------------------------------------------------------


def citation_for(article_id: int | None, ticket_type: str) -> Citation | None:
    """The article a direct answer is to cite, if it may be given as an answer now."""
    if article_id is None:
        return None
    if ticket_type != "consultation":
        raise InvalidInput(
            _("Only a consultation can be answered from the knowledge base and closed at once."),
            field="article_id",
        )
    article = db.session.get(Article, article_id) if 0 < article_id <= MAX_ID else None
    if article is None or article.current_version is None:
        raise InvalidInput(_("No approved article %(id)s in the knowledge base.", id=article_id), field="article_id")
    version = article.current_version
    if article.is_retired:
        raise InvalidInput(
            _("Article %(id)s is retired: it is no longer an answer.", id=article_id), field="article_id"
        )
    state = validity(version)
    if state == EXPIRED:
        raise InvalidInput(
            _(
                "Article %(id)s expired on %(date)s: it may not be given as an answer.",
                id=article_id,
                date=version.valid_until.isoformat() if version.valid_until else "",
            ),
            field="article_id",
        )
    if state == NOT_YET_VALID:
        raise InvalidInput(
            _(
                "Article %(id)s is valid only from %(date)s: it may not be given as an answer yet.",
                id=article_id,
                date=version.valid_from.isoformat() if version.valid_from else "",
            ),
            field="article_id",
        )
    return Citation(article, version)


def record_use(citation: Citation, ticket_id: int, actor: User, at: datetime) -> None:
    """Count the use, in the ticket's transaction (the caller commits)."""
    article = citation.article
    db.session.add(ArticleUse(article=article, version=citation.version, ticket_id=ticket_id, operator=actor, at=at))
    article.use_count = Article.use_count + 1  # in SQL: two operators at once both count
    article.last_used_at = at


def citations(actor: User, article: Article, limit: int = 50) -> list[ArticleUse]:
    """The latest uses of the article on tickets the actor may see."""
    visible = access.visible_tickets(actor).with_only_columns(Ticket.id)
    return list(
        db.session.scalars(
            select(ArticleUse)
            .where(ArticleUse.article_id == article.id, ArticleUse.ticket_id.in_(visible))
            .order_by(ArticleUse.at.desc(), ArticleUse.id.desc())
            .limit(limit)
            .options(selectinload(ArticleUse.ticket), selectinload(ArticleUse.version))
        )
    )


def has_version_in(state: str):
    """A filter: the article has a version in this state."""
    return exists().where(ArticleVersion.article_id == Article.id, ArticleVersion.state == state)


def counts_by_state() -> dict[str, int]:
    return dict(db.session.execute(select(ArticleVersion.state, func.count()).group_by(ArticleVersion.state)).all())
