"""The text classifier behind routing suggestions, independent of the database.

Shared by the service (trained on the ticket history) and by the benchmark
(trained on public data), so that the figures the benchmark prints describe the
model that routes tickets:

- features: TF-IDF over words (rjieba: jieba's algorithm and dictionary in Rust) and
  over character 1–2-grams. Characters carry Chinese, where the word boundaries are
  guesses, and catch variants
  and typos; words carry English and the longer Chinese terms;
- classifier: a linear SVM, calibrated by a sigmoid fitted on cross-validated
  scores, so that its probabilities can be read as confidences (a ticket is
  routed on one only above a threshold). It was the most accurate of the linear
  models tried on the benchmark data (logistic regression came a few points lower).

Identical (text, label) pairs are trained once, weighted by their count: the
same fit, and many times faster where texts repeat (311 complaint types come
from a pick list).

scikit-learn, numpy and rjieba are imported inside the functions: a web process
that never suggests must not pay their memory or start-up time.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

# Punctuation and symbols carry no topic; the segmenter returns them as tokens of their own.
_NOISE = re.compile(r"^[\W_]+$")
# The word segmenter the models are trained with, recorded with each stored model (its params):
# a model trained with another (jieba, before 2026-12) is retrained when a worker starts.
TOKENIZER = "rjieba"


# rjieba keeps a run of letters, digits and signs whole (2015-2040, baidu.com, 9.3.1) where
# jieba splits it into these (its own pattern for such runs): split as jieba did, so that the
# same words count (identical on every text of the benchmark's data sets).
_ALNUM_RUN = re.compile(r"[A-Za-z0-9+#&._%\-]+")
_JIEBA_ALNUM = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")


def cut(text: str) -> list[str]:
    """The segmenter's tokens, as they come (spaces and punctuation included). rjieba loads its
    dictionary (shipped in the wheel: works offline) once per process, on first use."""
    import rjieba

    tokens = []
    for token in rjieba.cut(text or ""):
        if len(token) > 1 and ("." in token or "-" in token) and _ALNUM_RUN.fullmatch(token):
            tokens.extend(part for part in _JIEBA_ALNUM.split(token) if part)
        else:
            tokens.append(token)
    return tokens


def words(text: str) -> list[str]:
    """The segmenter's words, lower-cased, without punctuation and spaces: the word tokenizer
    of the model.

    A module-level function, so that the pickled pipeline refers to it by name."""
    tokens = (t.strip().lower() for t in cut(text))
    return [t for t in tokens if t and not _NOISE.match(t)]


@dataclass(frozen=True)
class Params:
    """How the model is built; the defaults are what the benchmark reaches its figures with."""

    char_ngrams: tuple[int, int] = (1, 2)
    word_ngrams: tuple[int, int] = (1, 1)
    c: float = 1.0  # the SVM's inverse regularisation
    # Per vectorizer, the most frequent terms: bounds the model (classes × features weights) on a
    # long history; no loss on the benchmark (20,000 did as well as 56,000 character pairs).
    max_features: int = 20_000
    # A label needs this many tickets to be learnt; rarer ones are left out (one or two
    # examples teach nothing reliable, and the calibration needs some of each label per fold).
    min_per_class: int = 3
    folds: int = 5  # at most; fewer when the rarest label has fewer examples
    seed: int = 0  # the folds and the SVM's coordinate order: the same data gives the same model
    tokenizer: str = TOKENIZER  # recorded, not chosen: `words` always uses the current segmenter

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TextModel:
    """A trained pipeline: the most likely labels of a text, with probabilities."""

    def __init__(self, pipeline: Any, params: Params, left_out: dict[str, int]) -> None:
        self.pipeline = pipeline
        self.params = params
        self.left_out = left_out  # labels too rare to learn: label -> examples

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def top(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """For each text, the k most likely labels with their probabilities, best first."""
        import numpy as np

        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        classes = self.pipeline.classes_
        k = max(1, min(k, len(classes)))
        best = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return [
            [(str(classes[j]), float(row[j])) for j in order] for row, order in zip(probabilities, best, strict=True)
        ]

    def dumps(self) -> bytes:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @staticmethod
    def loads(blob: bytes) -> TextModel:
        """Our own model from our own database: trusted, hence unpickled."""
        import joblib

        model = joblib.load(io.BytesIO(blob))
        if not isinstance(model, TextModel):
            raise TypeError(f"not a TextModel: {type(model).__name__}")
        return model


class NotEnoughData(ValueError):
    """Too little history to learn from; the message says what is missing."""


def _pipeline(params: Params, folds: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    common = {"sublinear_tf": True, "max_features": params.max_features}
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=words, token_pattern=None, lowercase=False, ngram_range=params.word_ngrams, **common
                ),
            ),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, **common)),
        ]
    )
    # ensemble=False: one SVM fitted on everything, plus calibrators fitted on the folds'
    # held-out scores; predicting costs one SVM, not one per fold.
    classifier = CalibratedClassifierCV(
        LinearSVC(C=params.c, random_state=params.seed),
        method="sigmoid",
        cv=StratifiedKFold(folds, shuffle=True, random_state=params.seed),
        ensemble=False,
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def _weighted_rows(texts: Sequence[str], labels: Sequence[str], folds: int) -> list[tuple[str, str, float]]:
    """Each distinct (text, label) once, weighted by its count, in a fixed order. A label with
    fewer distinct texts than folds has its texts repeated (sharing the weight) so that it can
    fill every calibration fold: a department whose tickets all read alike is still learnt."""
    by_label: dict[str, dict[str, int]] = {}
    for text, label in zip(texts, labels, strict=True):
        counts = by_label.setdefault(str(label), {})
        counts[text or ""] = counts.get(text or "", 0) + 1
    rows: list[tuple[str, str, float]] = []
    for label, counts in sorted(by_label.items()):
        copies = dict.fromkeys(counts, 1)
        while sum(copies.values()) < folds and any(copies[t] < counts[t] for t in counts):
            for text in sorted(counts, key=lambda t: copies[t] / counts[t]):
                if copies[text] < counts[text]:
                    copies[text] += 1
                    break
        for text in sorted(counts):
            rows.extend((text, label, counts[text] / copies[text]) for _ in range(copies[text]))
    return rows


def train(texts: Sequence[str], labels: Sequence[str], params: Params | None = None) -> TextModel:
    """Fit a model. Raises NotEnoughData unless two labels at least have `min_per_class` examples."""
    params = params or Params()
    counts = Counter(str(label) for label in labels)
    left_out = {label: n for label, n in counts.items() if n < params.min_per_class}
    if len(counts) - len(left_out) < 2:
        raise NotEnoughData(
            f"need at least two labels with {params.min_per_class} examples each; "
            f"have {len(counts) - len(left_out)} (of {len(counts)} labels)"
        )
    kept = [(t, str(y)) for t, y in zip(texts, labels, strict=True) if str(y) not in left_out]
    rows = _weighted_rows([t for t, _ in kept], [y for _, y in kept], params.folds)
    per_label = Counter(label for _, label, _ in rows)
    pipeline = _pipeline(params, min(params.folds, min(per_label.values())))
    pipeline.fit(
        [text for text, _, _ in rows],
        [label for _, label, _ in rows],
        classifier__sample_weight=[weight for _, _, weight in rows],
    )
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vectorizer.stop_words_ = None  # the terms cut by max_features: large, and useless once fitted
    return TextModel(pipeline, params, left_out)


@dataclass(frozen=True)
class Metrics:
    """How a model did on texts it was not trained on."""

    samples: int
    top1: float
    top3: float
    baseline: float  # always answering the training set's most frequent label
    confident_share: float  # share of texts whose best label clears `threshold`
    confident_accuracy: float | None  # how often that best label was right
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def evaluate(
    model: TextModel,
    texts: Sequence[str],
    labels: Sequence[str],
    majority: str | None = None,
    threshold: float = 0.9,
) -> Metrics:
    """Top-1 and top-3 accuracy on held-out texts, with the majority baseline for reference."""
    if not texts:
        raise ValueError("nothing to evaluate on")
    ranked = model.top(texts, k=3)
    truth = [str(label) for label in labels]
    top1 = sum(best[0][0] == label for best, label in zip(ranked, truth, strict=True))
    top3 = sum(label in (name for name, _ in best) for best, label in zip(ranked, truth, strict=True))
    confident = [best[0][0] == label for best, label in zip(ranked, truth, strict=True) if best[0][1] >= threshold]
    n = len(truth)
    return Metrics(
        samples=n,
        top1=top1 / n,
        top3=top3 / n,
        baseline=sum(label == majority for label in truth) / n if majority is not None else 0.0,
        confident_share=len(confident) / n,
        confident_accuracy=sum(confident) / len(confident) if confident else None,
        threshold=threshold,
    )


def holdout_split(labels: Sequence[str], test_share: float = 0.2, seed: int = 0) -> tuple[list[int], list[int]]:
    """Indices of a stratified train/test split, fixed by `seed`; a label seen once stays in training."""
    from sklearn.model_selection import train_test_split

    counts = Counter(labels)
    splittable = [i for i, label in enumerate(labels) if counts[label] >= 2]
    singles = [i for i, label in enumerate(labels) if counts[label] < 2]
    train_idx, test_idx = train_test_split(
        splittable, test_size=test_share, random_state=seed, stratify=[labels[i] for i in splittable]
    )
    return sorted(train_idx + singles), sorted(test_idx)


def train_and_evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    params: Params | None = None,
    test_share: float = 0.2,
    seed: int = 0,
    threshold: float = 0.9,
) -> tuple[TextModel, Metrics]:
    """Train on a fixed split, measure on its held-out part."""
    train_idx, test_idx = holdout_split(labels, test_share, seed)
    train_labels = [labels[i] for i in train_idx]
    model = train([texts[i] for i in train_idx], train_labels, params)
    majority = Counter(train_labels).most_common(1)[0][0]
    metrics = evaluate(model, [texts[i] for i in test_idx], [labels[i] for i in test_idx], majority, threshold)
    return model, metrics
