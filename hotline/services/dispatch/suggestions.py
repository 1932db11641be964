"""Learned routing suggestions: which department would most likely accept this ticket.

A text classifier (`textmodel`) trained on the history of dispatched tickets:
each ticket a department accepted, labelled with the department that has it now,
that is the one that finally took it after returns and reassignments (a
reassignment clears the acceptance until the new department signs). The text
is the category path and the description, as the operator filed them.

Each training is stored as a new version (`RoutingClassifier`); suggestions use
the highest active one. A process loads it once and looks for a newer version at
most every HOTLINE_SUGGESTIONS_RECHECK_SECONDS (60 s), so the web processes
pick up what the worker trained without restarting. Until a model is trained
there are no suggestions, and routing relies on rules and category defaults.

scikit-learn and rjieba are imported only when a model is loaded or trained.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import Category, Department, RoutingClassifier, Ticket
from hotline.services.dispatch import textmodel
from hotline.services.errors import NotFound

RECHECK_SECONDS = 60
MIN_SAMPLES = 20  # fewer accepted tickets than this teach nothing worth suggesting
MAX_SAMPLES = 100_000  # the most recent: routing follows today's organisation, not 2015's
HOLDOUT_MIN = 50  # below this, no held-out figures: a fifth of too little measures nothing
KEEP_MODELS = 5  # older versions keep their figures, not their pickled model


@dataclass(frozen=True)
class Suggestion:
    department: str  # code
    confidence: float


@dataclass(frozen=True)
class TrainingResult:
    trained: bool
    message: str
    version: int | None = None
    samples: int = 0
    departments: int = 0
    metrics: dict[str, Any] | None = None
    left_out: dict[str, int] = field(default_factory=dict)


def ticket_text(description: str | None, category_path: str | None = None) -> str:
    """What the model reads, the same in training and in suggesting."""
    return f"{category_path}\n{description or ''}" if category_path else (description or "")


# --- suggesting ------------------------------------------------------------------------------


def suggest(text: str, limit: int = 3, category: str | None = None) -> list[Suggestion]:
    """The most likely departments for this text, best first; empty without a trained model.

    `category` is the ticket's category path (`Category.path_name`), when known: the model
    was trained with it."""
    loaded = _loaded()
    if loaded is None or limit < 1 or not (text or "").strip():
        return []
    model = loaded.model
    # A few more than asked: a department deleted since the training is skipped.
    ranked = model.top([ticket_text(text, category)], k=limit + 3)[0]
    existing = set(db.session.scalars(select(Department.code).where(Department.code.in_([c for c, _ in ranked]))))
    return [Suggestion(code, round(p, 4)) for code, p in ranked if code in existing][:limit]


def suggest_for_ticket(ticket: Ticket, limit: int = 3) -> list[Suggestion]:
    """Suggestions for the dispatcher's desk: from the ticket's description and category."""
    return suggest(ticket.description, limit, category=ticket.category.path_name if ticket.category else None)


@dataclass(frozen=True)
class _Loaded:
    version: int
    model: textmodel.TextModel


@dataclass
class _Cache:
    """Per app (several apps may share a process in tests): the loaded model and when the
    database was last asked for a newer version."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    identity: tuple[int, datetime] | None = None
    loaded: _Loaded | None = None
    checked_at: float = float("-inf")


def _cache() -> _Cache:
    return current_app.extensions.setdefault("hotline_suggestions", _Cache())


def _loaded(force: bool = False) -> _Loaded | None:
    cache = _cache()
    every = current_app.config.get("HOTLINE_SUGGESTIONS_RECHECK_SECONDS", RECHECK_SECONDS)
    if not force and time.monotonic() - cache.checked_at < every:
        return cache.loaded
    with cache.lock:
        if force or time.monotonic() - cache.checked_at >= every:
            # The training time too: a wiped table numbers its versions from 1 again.
            latest = db.session.execute(
                select(RoutingClassifier.version, RoutingClassifier.trained_at)
                .where(RoutingClassifier.active)
                .order_by(RoutingClassifier.version.desc())
                .limit(1)
            ).first()
            identity = tuple(latest) if latest else None
            if identity != cache.identity:
                cache.loaded = _load(latest.version) if latest else None
                cache.identity = identity
            cache.checked_at = time.monotonic()
    return cache.loaded


def _load(version: int) -> _Loaded | None:
    blob = db.session.scalar(select(RoutingClassifier.model).where(RoutingClassifier.version == version))
    if blob is None:
        current_app.logger.warning("routing suggestions: version %s has no stored model", version)
        return None
    try:
        model = textmodel.TextModel.loads(blob)
    except Exception:  # noqa: BLE001 (a model pickled by an incompatible library: retrain, keep routing)
        current_app.logger.exception("routing suggestions: cannot load version %s; retrain it", version)
        return None
    return _Loaded(version, model)


def reload() -> int | None:
    """Look for the latest version now rather than within the minute; returns the version in use."""
    loaded = _loaded(force=True)
    return loaded.version if loaded else None


def stale() -> bool:
    """Whether the model in use was trained with another word segmenter than today's
    (`textmodel.TOKENIZER`; jieba before rjieba): its words would not be the ones it learnt,
    so it is retrained (a worker's start asks for it) and suggests meanwhile."""
    params = db.session.scalar(
        select(RoutingClassifier.params)
        .where(RoutingClassifier.active, RoutingClassifier.model.is_not(None))
        .order_by(RoutingClassifier.version.desc())
        .limit(1)
    )
    return params is not None and (params or {}).get("tokenizer") != textmodel.TOKENIZER


def forget() -> None:
    """Drop this process's loaded model (tests, or memory): the next suggestion reloads."""
    current_app.extensions.pop("hotline_suggestions", None)


# --- training --------------------------------------------------------------------------------


def training_data(limit: int | None = None) -> tuple[list[str], list[str], datetime | None]:
    """The texts and final departments of the most recent accepted tickets, and the newest
    acceptance among them."""
    limit = limit or current_app.config.get("HOTLINE_SUGGESTIONS_MAX_SAMPLES", MAX_SAMPLES)
    rows = db.session.execute(
        select(Ticket.description, Ticket.category_id, Department.code, Ticket.accepted_at)
        .join(Department, Ticket.department_id == Department.id)
        .where(Ticket.accepted_at.is_not(None))
        .order_by(Ticket.accepted_at.desc(), Ticket.id.desc())
        .limit(limit)
    ).all()
    paths = _category_paths()
    texts = [ticket_text(description, paths.get(category_id)) for description, category_id, _, _ in rows]
    return texts, [code for _, _, code, _ in rows], (rows[0].accepted_at if rows else None)


def _category_paths() -> dict[int, str]:
    """Every category's path name, from one query (not one per ancestor per ticket)."""
    nodes = {
        c.id: (c.name, c.parent_id) for c in db.session.execute(select(Category.id, Category.name, Category.parent_id))
    }
    paths: dict[int, str] = {}
    for category_id in nodes:
        names, seen, node = [], set(), category_id
        while node is not None and node in nodes and node not in seen:
            seen.add(node)
            names.append(nodes[node][0])
            node = nodes[node][1]
        paths[category_id] = " / ".join(reversed(names))
    return paths


def train(trigger: str = "manual", force: bool = False) -> TrainingResult:
    """Train on the history and store a new version, or say why not (too little data, or nothing
    new since the last version unless `force`). The previous version stays in use until then."""
    texts, labels, data_until = training_data()
    departments = len(set(labels))
    minimum = current_app.config.get("HOTLINE_SUGGESTIONS_MIN_SAMPLES", MIN_SAMPLES)
    if len(texts) < minimum or departments < 2:
        return TrainingResult(
            False,
            _(
                "Not enough history to learn from: %(samples)d accepted tickets in %(departments)d departments; "
                "at least %(minimum)d tickets in 2 departments are needed. Suggestions stay as they were.",
                samples=len(texts),
                departments=departments,
                minimum=minimum,
            ),
            samples=len(texts),
            departments=departments,
        )
    latest = db.session.scalar(select(RoutingClassifier).order_by(RoutingClassifier.version.desc()).limit(1))
    if not force and latest is not None and latest.sample_count == len(texts) and latest.data_until == data_until:
        return TrainingResult(
            False,
            _("No ticket was accepted since version %(version)d: nothing new to learn.", version=latest.version),
            version=latest.version,
            samples=len(texts),
            departments=departments,
        )
    try:
        model = textmodel.train(texts, labels)
    except textmodel.NotEnoughData:
        return TrainingResult(
            False,
            _(
                "Not enough history to learn from: fewer than 2 departments have %(n)d accepted tickets each. "
                "Suggestions stay as they were.",
                n=textmodel.Params().min_per_class,
            ),
            samples=len(texts),
            departments=departments,
        )
    metrics = _held_out_metrics(texts, labels)
    blob = model.dumps()
    version = _store(model, blob, trigger, len(texts), data_until, metrics)
    _prune()
    reload()  # this process suggests with it at once; the others within the minute
    return TrainingResult(
        True,
        _(
            "Version %(version)d trained on %(samples)d tickets, %(departments)d departments.",
            version=version,
            samples=len(texts),
            departments=len(model.classes),
        ),
        version=version,
        samples=len(texts),
        departments=len(model.classes),
        metrics=metrics,
        left_out=model.left_out,
    )


def _held_out_metrics(texts: list[str], labels: list[str]) -> dict[str, Any] | None:
    """Figures on a fifth of the history the model did not see (then it trains on all of it)."""
    if len(texts) < HOLDOUT_MIN:
        return None
    threshold = current_app.config.get("HOTLINE_AUTO_ROUTE_CONFIDENCE") or 0.9
    try:
        _, metrics = textmodel.train_and_evaluate(texts, labels, threshold=threshold)
    except ValueError:  # too few of some department for a split: no figures, still a model
        return None
    return metrics.as_dict()


def _store(model, blob: bytes, trigger: str, samples: int, data_until, metrics) -> int:
    import sklearn

    for _attempt in range(3):  # two trainings at once: the second takes the next number
        version = (db.session.scalar(select(func.max(RoutingClassifier.version))) or 0) + 1
        db.session.add(
            RoutingClassifier(
                version=version,
                trigger=trigger[:20],
                sample_count=samples,
                data_until=data_until,
                classes=model.classes,
                left_out=model.left_out,
                metrics=metrics,
                params=model.params.as_dict(),
                library=f"scikit-learn {sklearn.__version__}",
                model_size=len(blob),
                model=blob,
            )
        )
        try:
            db.session.commit()
            return version
        except IntegrityError:
            db.session.rollback()
    raise RuntimeError("could not number the new routing classifier version")


def _prune() -> None:
    """Drop the pickled models of all but the newest KEEP_MODELS versions (their rows stay)."""
    keep = select(RoutingClassifier.version).order_by(RoutingClassifier.version.desc()).limit(KEEP_MODELS)
    db.session.execute(
        update(RoutingClassifier)
        .where(RoutingClassifier.version.not_in(keep), RoutingClassifier.model.is_not(None))
        .values(model=None, active=False)
    )
    db.session.commit()


# --- versions, for administrators ------------------------------------------------------------


def versions(limit: int = 20) -> list[RoutingClassifier]:
    return list(db.session.scalars(select(RoutingClassifier).order_by(RoutingClassifier.version.desc()).limit(limit)))


def set_active(version: int, active: bool) -> RoutingClassifier:
    """Withdraw a version that suggests badly (the previous active one takes over), or restore it."""
    row = db.session.scalar(select(RoutingClassifier).where(RoutingClassifier.version == version))
    if row is None or (active and row.model is None):
        raise NotFound(_("No stored routing model version %(version)s.", version=version))
    row.active = active
    db.session.commit()
    reload()
    return row
