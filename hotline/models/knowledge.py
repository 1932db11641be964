"""The operators' knowledge base (知识库): articles, their versions, and each use as an answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.category import Category
from hotline.models.department import Department
from hotline.models.ticket import Ticket
from hotline.models.types import UTCDateTime, utcnow
from hotline.models.user import User


class VersionState:
    DRAFT = "draft"  # being written by its department
    PENDING = "pending"  # waiting for a supervisor
    APPROVED = "approved"  # the article's current answer
    REJECTED = "rejected"  # sent back, with the reviewer's note
    SUPERSEDED = "superseded"  # was current; kept for the record
    ALL = (DRAFT, PENDING, APPROVED, REJECTED, SUPERSEDED)
    WORKING = (DRAFT, PENDING)  # at most one of these per article


class ArticleStatus:
    ACTIVE = "active"
    RETIRED = "retired"  # no longer offered; kept, with its history and citations


class Article(db.Model):
    """A question callers ask and the answer operators give, owned by a department.

    Its text lives in versions; `current_version` is the approved one operators see.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # The category of the current version (of the first draft until one is approved).
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_version.id", use_alter=True, ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(12), default=ArticleStatus.ACTIVE)
    use_count: Mapped[int] = mapped_column(default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    category: Mapped[Category] = relationship()
    department: Mapped[Department] = relationship()
    created_by: Mapped[User | None] = relationship()
    current_version: Mapped[ArticleVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", foreign_keys="ArticleVersion.article_id", order_by="ArticleVersion.number"
    )

    @property
    def is_retired(self) -> bool:
        return self.status == ArticleStatus.RETIRED

    @property
    def working_version(self) -> ArticleVersion | None:
        """The draft or pending version, if any (there is at most one)."""
        return next((v for v in reversed(self.versions) if v.state in VersionState.WORKING), None)

    @property
    def latest_version(self) -> ArticleVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.status}>"


class ArticleVersion(db.Model):
    """One wording of an article: written as a draft, submitted, approved or rejected; never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    number: Mapped[int] = mapped_column()  # 1..n within the article
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date | None] = mapped_column(Date)  # the hotline's local dates, both inclusive
    valid_until: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default=VersionState.DRAFT)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who approved or rejected it, when, and why.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_note: Mapped[str] = mapped_column(Text, default="")

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])
    category: Mapped[Category] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __table_args__ = (
        UniqueConstraint("article_id", "number", name="uq_article_version_article_number"),
        Index("ix_article_version_state", "state"),
    )

    def __repr__(self) -> str:
        return f"<ArticleVersion {self.article_id}/{self.number} {self.state}>"


class ArticleUse(db.Model):
    """An article given as a direct answer: the ticket cites it (one article per ticket)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("article_version.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship()
    version: Mapped[ArticleVersion] = relationship()
    ticket: Mapped[Ticket] = relationship()
    operator: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_article_use_article_at", "article_id", "at"),)


class KnowledgeRevision(db.Model):
    """One row (id 1) whose token changes with every change to what can be offered: each
    process keeps its search index until the token it was built at is no longer current."""

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(default=0)
    token: Mapped[str] = mapped_column(String(36), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
