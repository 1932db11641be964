"""How well does the routing-suggestion model place tickets? Top-1 and top-3 accuracy on held-out data.

Run: `.venv/bin/python benchmarks/routing_classifier.py [--repeats N]`

Trains the model that the service uses (`hotline.services.dispatch.textmodel`, default
parameters) on a fixed stratified 80/20 split (seed 0) of two public data sets
in `../shared/data/` and prints, on the held-out 20 %:

(a) teddycup2020c/messages.csv: 留言主题 + 留言详情 → 一级分类 (7 labels, 495 messages);
(b) nyc311/311_sample.csv: Complaint Type + Descriptor → Agency (6,765 requests).

With each figure: the majority-class baseline, the share of texts confident
enough to auto-route (≥ 0.9) and how often those were right, training time and
prediction latency. The held-out part of (a) is only 99 messages (one message is
one point of accuracy), so the mean and spread over N other seeds follow.
Nothing is asserted: these are measurements.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.services.dispatch import textmodel  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
THRESHOLD = 0.9


def teddycup() -> tuple[list[str], list[str]]:
    with open(DATA / "teddycup2020c" / "messages.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [f"{r['留言主题']}\n{r['留言详情']}" for r in rows], [r["一级分类"] for r in rows]


def teddycup_tree() -> tuple[list[str], list[str]]:
    """The city's own category tree: second- and third-level names, labelled with their first level."""
    with open(DATA / "teddycup2020c" / "categories.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [f"{r['二级分类']} {r['三级分类']}" for r in rows], [r["一级分类"] for r in rows]


def nyc311() -> tuple[list[str], list[str]]:
    with open(DATA / "nyc311" / "311_sample.csv", encoding="utf-8-sig", newline="") as f:  # starts with a BOM
        rows = list(csv.DictReader(f))
    return [f"{r['Complaint Type']} / {r['Descriptor']}" for r in rows], [r["Agency"] for r in rows]


def run(
    name: str,
    texts: list[str],
    labels: list[str],
    repeats: int,
    extra: tuple[list[str], list[str]] | None = None,
) -> None:
    """Fixed split (seed 0) in detail, then the mean over `repeats` seeds."""
    extra_texts, extra_labels = extra or ([], [])
    known = set(labels)
    extra_pairs = [(t, y) for t, y in zip(extra_texts, extra_labels, strict=True) if y in known]
    results = []
    for seed in range(max(1, repeats)):
        train_idx, test_idx = textmodel.holdout_split(labels, 0.2, seed)
        train_texts = [texts[i] for i in train_idx] + [t for t, _ in extra_pairs]
        train_labels = [labels[i] for i in train_idx] + [y for _, y in extra_pairs]
        majority = max(set(labels[i] for i in train_idx), key=[labels[i] for i in train_idx].count)
        started = time.perf_counter()
        model = textmodel.train(train_texts, train_labels)
        trained = time.perf_counter() - started
        test_texts = [texts[i] for i in test_idx]
        metrics = textmodel.evaluate(model, test_texts, [labels[i] for i in test_idx], majority, THRESHOLD)
        results.append(metrics)
        if seed == 0:
            one, batch = _latency(model, test_texts)
            confident = (
                f"{metrics.confident_accuracy:.3f} right"
                if metrics.confident_accuracy is not None
                else "none confident"
            )
            print(f"{name}")
            print(
                f"  split 80/20 seed 0: train {len(train_idx)}"
                + (f" (+{len(extra_pairs)} extra)" if extra_pairs else "")
                + f", held out {metrics.samples}, {len(model.classes)} labels learnt"
                + (f", left out as too rare: {model.left_out}" if model.left_out else "")
            )
            print(f"  top-1 {metrics.top1:.3f}   top-3 {metrics.top3:.3f}   majority baseline {metrics.baseline:.3f}")
            print(f"  confidence >= {THRESHOLD}: {metrics.confident_share:.1%} of held-out texts, {confident}")
            print(
                f"  training {trained:.2f} s; predicting {one * 1000:.2f} ms per text alone, {batch * 1000:.3f} ms in a batch"
            )
    if len(results) > 1:
        print(
            f"  over seeds 0-{len(results) - 1}: top-1 {_spread(results, lambda m: m.top1)}, "
            f"top-3 {_spread(results, lambda m: m.top3)}, baseline {_spread(results, lambda m: m.baseline)}"
        )


def _latency(model: textmodel.TextModel, texts: list[str]) -> tuple[float, float]:
    """Seconds per text: one call per text (what suggesting for a ticket does), and one batch."""
    sample = texts[:200]
    model.top(sample[:1])  # warm up (the segmenter's dictionary)
    started = time.perf_counter()
    for text in sample:
        model.top([text])
    one = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    model.top(texts)
    return one, (time.perf_counter() - started) / len(texts)


def _spread(results: list[textmodel.Metrics], value: Callable[[textmodel.Metrics], float]) -> str:
    values = [value(m) for m in results]
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds for the mean and spread (default 5)")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        raise SystemExit(f"no data in {DATA}: this benchmark needs ../shared/data (see its README)")
    print(f"routing suggestions: {textmodel.Params()}\n")
    texts, labels = teddycup()
    run("(a) teddycup2020c: 留言主题 + 留言详情 -> 一级分类", texts, labels, args.repeats)
    run(
        "(a') the same, with the category tree's names as extra training texts",
        texts,
        labels,
        args.repeats,
        extra=teddycup_tree(),
    )
    texts, labels = nyc311()
    run("(b) nyc311: Complaint Type + Descriptor -> Agency", texts, labels, args.repeats)


if __name__ == "__main__":
    main()
