"""Matching what an operator types against the knowledge base, in Chinese and English.

Articles are few (thousands), so the whole index lives in each process's memory: BM25 over
two kinds of terms,

- words (`textmodel.words`, rjieba), which carry English and the longer Chinese terms, and
- Chinese character pairs, which find the two-character words (停水, 噪音) whatever the
  segmenter made of the sentence around them, and catch variants (社保卡 / 社会保障卡
  share 社保 only partly, 补办 fully).

The question and the tags weigh more than the answer. The index holds every article with
an approved version, retired and expired ones too (the list pages flag them); what may be
offered as an answer is decided by the caller. It is rebuilt when the revision token in
the database (`KnowledgeRevision`, changed by every approval and retirement) is not the one
it was built at, so every web process sees a change at its next search.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import uuid4

from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import Article, ArticleVersion, KnowledgeRevision
from hotline.models.types import utcnow
from hotline.services.dispatch import textmodel
from hotline.services.search import stopwords

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
QUESTION_WEIGHT = 3  # the question and the tags say what an article is about
K1, B = 1.2, 0.75  # BM25's usual constants
# Words that say nothing about the topic (how a caller asks; what any call may hold: 连续, 反映):
# the hotspots' list too (services/search/stopwords.py).
STOP_WORDS = stopwords.LEFT_OUT
# "三天", "两次", "几个": a count says how long or how often, not what about.
_COUNTS, _COUNTED = frozenset("一二三四五六七八九十两几多数半每"), frozenset("次天日年周月个回遍趟号")
# Particles: a character pair holding one (停水了 → 水了) says nothing more than its other half.
PARTICLES = frozenset("了的吗呢吧啊呀么着")


def terms(text: str) -> Counter[str]:
    """The terms of a text: "w:" + each word, "b:" + each pair of adjacent Chinese characters.
    Stop words and generic words are cut out first, so that no pair spans one (尽快处理 → 尽快)."""
    found: Counter[str] = Counter()
    kept: list[str] = []  # the text, with a gap where a word says nothing
    for token in textmodel.cut((text or "").lower()):
        word = token.strip()
        if not word or textmodel._NOISE.match(word) or word in STOP_WORDS or _counted(word):
            kept.append(" ")
            continue
        kept.append(word)
        if len(word) >= 2 or word.isdigit():
            found["w:" + _stem(word)] += 1
    for run in CJK_RUN.findall("".join(kept)):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair not in STOP_WORDS and not PARTICLES.intersection(pair) and not _counted(pair):
                found["b:" + pair] += 1
    return found


def _counted(word: str) -> bool:
    """三天, 两次, 一个月: a count and its unit."""
    return len(word) >= 2 and word[0] in _COUNTS and word[-1] in _COUNTED and all(c in _COUNTS for c in word[1:-1])


def _stem(word: str) -> str:
    """English plurals match their singular (cards → card); Chinese words stay as they are."""
    if word.isascii() and len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass
class Entry:
    """An article as the index knows it: its current version's terms and what filters it."""

    article_id: int
    category_id: int
    department_id: int
    retired: bool
    valid_from: date | None
    valid_until: date | None
    weights: Counter[str]
    length: float


@dataclass
class Hit:
    article_id: int
    score: float
    matched: list[str] = field(default_factory=list)


class Index:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = {entry.article_id: entry for entry in entries}
        self.df: Counter[str] = Counter()
        for entry in self.entries.values():
            self.df.update(entry.weights.keys())
        total = sum(entry.length for entry in self.entries.values())
        self.average_length = total / len(self.entries) if self.entries else 1.0

    @classmethod
    def of(cls, rows: Iterable[tuple[Article, ArticleVersion]]) -> Index:
        entries = []
        for article, version in rows:
            weights = _weighted(version.question, QUESTION_WEIGHT)
            weights.update(_weighted(" ".join(version.tags or []), QUESTION_WEIGHT))
            weights.update(_weighted(version.answer, 1))
            entries.append(
                Entry(
                    article_id=article.id,
                    category_id=article.category_id,
                    department_id=article.department_id,
                    retired=article.is_retired,
                    valid_from=version.valid_from,
                    valid_until=version.valid_until,
                    weights=weights,
                    length=float(sum(weights.values())) or 1.0,
                )
            )
        return cls(entries)

    def idf(self, term: str) -> float:
        n, df = len(self.entries), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: str,
        keep: Callable[[Entry], bool] | None = None,
        boost: Callable[[Entry], float] | None = None,
        limit: int | None = None,
        cutoff: float = 0.0,
    ) -> list[Hit]:
        """Entries sharing terms with `query`, best first; `keep` filters, `boost` multiplies a
        score. Hits scoring below `cutoff` times the best one are dropped: they share only a
        common word with the query."""
        wanted = set(terms(query))
        if not wanted:
            return []
        hits: list[Hit] = []
        for entry in self.entries.values():
            if keep is not None and not keep(entry):
                continue
            shared = wanted.intersection(entry.weights)
            if not shared:
                continue
            norm = K1 * (1 - B + B * entry.length / self.average_length)
            score = sum(
                self.idf(term) * entry.weights[term] * (K1 + 1) / (entry.weights[term] + norm) for term in shared
            )
            if boost is not None:
                score *= boost(entry)
            hits.append(Hit(entry.article_id, score, matched_words(query, shared)))
        hits.sort(key=lambda hit: (-hit.score, hit.article_id))
        if hits and cutoff:
            best = hits[0].score
            hits = [hit for hit in hits if hit.score >= cutoff * best]
        return hits[:limit] if limit is not None else hits


def _weighted(text: str, weight: int) -> Counter[str]:
    return Counter({term: count * weight for term, count in terms(text).items()})


def matched_words(query: str, shared: set[str]) -> list[str]:
    """What to highlight for the operator: the runs of the query's Chinese text covered by
    shared character pairs (社保卡 rather than 社保 and 保卡), then the shared other words."""
    found: list[str] = []
    lowered = (query or "").lower()
    for run in CJK_RUN.findall(lowered):
        start = None
        for i in range(len(run)):
            hit = i < len(run) - 1 and "b:" + run[i : i + 2] in shared
            if hit and start is None:
                start = i
            elif not hit and start is not None:
                found.append(run[start : i + 1])
                start = None
    for term in sorted(shared):
        word = term[2:]
        if term.startswith("w:") and not CJK_RUN.search(word):
            found.append(word)
    return list(dict.fromkeys(found))


# The index of this process, keyed by the database and the revision token it was built at.
_lock = threading.Lock()
_cached: tuple[tuple[str, str], Index] | None = None


def current() -> Index:
    global _cached
    key = (str(db.engine.url), current_token())
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        rows = db.session.execute(
            select(Article, ArticleVersion).join(ArticleVersion, Article.current_version_id == ArticleVersion.id)
        ).all()
        index = Index.of((article, version) for article, version in rows)
        _cached = (key, index)
        return index


def current_token() -> str:
    return db.session.scalar(select(KnowledgeRevision.token).where(KnowledgeRevision.id == 1)) or ""


def changed() -> None:
    """What can be found or offered changed: a new token, in the caller's transaction, so that
    every process rebuilds its index once that transaction is committed."""
    token = uuid4().hex
    result = db.session.execute(
        update(KnowledgeRevision)
        .where(KnowledgeRevision.id == 1)
        .values(revision=KnowledgeRevision.revision + 1, token=token, changed_at=utcnow())
    )
    if result.rowcount == 0:  # the row is seeded by the migration; an emptied table gets it back
        db.session.add(KnowledgeRevision(id=1, revision=1, token=token, changed_at=utcnow()))
