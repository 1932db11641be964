"""The pieces of the hotspot clustering that make a million-ticket month fast: they must give
what the slower library calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from hotline.services.dispatch import textmodel
from hotline.services.hotspot_detection import hotspot_clustering
from tests.services.test_hotspots import LAMPS, NOISE, UNRELATED, WATER

TEXTS = NOISE + LAMPS + WATER + UNRELATED + ["Street light broken on Main St, 3 nights", "main st street light"]


def test_the_hotspots_count_the_routing_models_words() -> None:
    """The hotspots' words are the routing model's (`textmodel.words`), without stop words,
    generic words, numbers and counts ("三次"), streamed or one text at a time."""
    left_out = hotspot_clustering.STOP_WORDS | hotspot_clustering.GENERIC_WORDS
    model_words = [
        [
            w
            for w in textmodel.words(t)
            if w not in left_out
            and not hotspot_clustering._NUMBER.match(w)
            and not hotspot_clustering._COUNTED.match(w)
        ]
        for t in TEXTS
    ]
    assert list(hotspot_clustering.tokenised(TEXTS)) == model_words
    assert [hotspot_clustering.features(t) for t in TEXTS] == model_words
    assert "和平路" in model_words[len(NOISE)] and "street" in model_words[-1]


def test_the_vocabulary_weighs_as_scikit_learns_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    tokens = list(hotspot_clustering.tokenised(TEXTS * 3 + ["独一无二的留言"]))
    params = hotspot_clustering.Params()
    vocabulary, X = hotspot_clustering.Vocabulary.fit(iter(tokens), params)
    reference = TfidfVectorizer(analyzer=lambda words: words, min_df=2, sublinear_tf=True, dtype=np.float32)
    expected = reference.fit_transform(tokens).tocsr()
    assert vocabulary.terms == list(reference.get_feature_names_out())
    assert X.shape == expected.shape
    assert abs(X - expected).max() < 1e-6
    # New texts: unknown words left out, the same weights as the reference's transform.
    other = list(hotspot_clustering.tokenised(["和平路路灯不亮，新词汇", "完全陌生"]))
    assert abs(vocabulary.transform(other) - reference.transform(other)).max() < 1e-6


def test_the_vocabulary_keeps_the_most_frequent_words_and_refuses_an_empty_one() -> None:
    tokens = [["a", "b", "c"], ["a", "b"], ["a", "b", "c"], ["a", "d"], ["d", "e"]]
    vocabulary, X = hotspot_clustering.Vocabulary.fit(iter(tokens), hotspot_clustering.Params(max_features=2))
    assert vocabulary.terms == ["a", "b"]  # the most frequent of those in two texts or more
    assert X.shape == (5, 2)
    with pytest.raises(ValueError):
        hotspot_clustering.Vocabulary.fit(iter([["x"], ["y"]]), hotspot_clustering.Params())


def test_best_match_agrees_with_scipys_argmax() -> None:
    rng = np.random.default_rng(3)
    X = sp.random(500, 40, density=0.08, format="csr", random_state=rng, dtype=np.float32)
    C = sp.random(30, 40, density=0.2, format="csr", random_state=rng, dtype=np.float32)
    C = sp.vstack([C[:5], C[4], C[6:]]).tocsr()  # rows 4 and 5 alike: ties go to the first, as argmax
    best, score = hotspot_clustering._best_match(X, C, chunk=64)
    P = (X @ C.T).toarray()
    matched = P.max(axis=1) > 0
    assert matched.sum() > 100
    assert np.array_equal(best[matched], P.argmax(axis=1)[matched])
    assert np.allclose(score, P.max(axis=1))


def test_texts_may_be_streamed_with_their_blocks_filled_as_they_come() -> None:
    """As `detect` reads the database: the blocks list grows while the texts are consumed."""
    texts = NOISE + LAMPS + UNRELATED
    blocks = [1] * len(NOISE) + [2] * len(LAMPS) + [1] * len(UNRELATED)
    filled: list[int] = []

    def stream():
        for text, block in zip(texts, blocks, strict=True):
            filled.append(block)
            yield text

    streamed = hotspot_clustering.find_groups(stream(), filled)
    listed = hotspot_clustering.find_groups(texts, blocks)
    assert [g.members for g in streamed.groups] == [g.members for g in listed.groups]
    assert sorted(g.size for g in listed.groups) == [len(LAMPS), len(NOISE)]
    with pytest.raises(ValueError):
        hotspot_clustering.find_groups(texts, blocks[:-1])


def test_partitions_learnt_from_a_sample_still_find_the_same_groups(monkeypatch) -> None:
    """Above KMEANS_SAMPLE tickets, k-means learns its centres from a sample and places every
    ticket once: the groups are those found by comparing every pair."""
    texts = [f"{NOISE[i % len(NOISE)]} 第{i}次" for i in range(60)]
    texts += [f"{LAMPS[i % len(LAMPS)]} 第{i}次" for i in range(45)]
    texts += UNRELATED
    monkeypatch.setattr(hotspot_clustering, "KMEANS_SAMPLE", 30)

    def groups(partition: int) -> set[frozenset[int]]:
        params = hotspot_clustering.Params(partition=partition)
        return {frozenset(g.members) for g in hotspot_clustering.find_groups(texts, [1] * len(texts), params).groups}

    split, whole = groups(20), groups(2_000)
    assert split == whole
    assert sum(len(g) for g in whole) == 105


def test_similar_tickets_of_the_window_before_are_counted_from_a_stream() -> None:
    found = hotspot_clustering.find_groups(NOISE + LAMPS + UNRELATED, [1] * 5 + [2] * 4 + [1] * 6)
    noisy = next(g for g in found.groups if g.block == 1)
    before = [(NOISE[0], 1), (NOISE[1], 2), (LAMPS[0], 1), (UNRELATED[0], 1), (NOISE[2], 1)]
    assert found.count_similar([noisy], iter(before)) == [2]  # not the one in district 2


def test_place_names_and_anonymised_place_codes_are_left_out() -> None:
    ignore = hotspot_clustering.place_words(["西城区", "浦东新区", "密云县", ""])
    assert {"西城区", "西城", "浦东新区", "浦东", "密云县", "密云"} <= ignore
    assert "港区" in hotspot_clustering.place_words(["临港区"])  # how the segmenter cuts it: 临 / 港区
    words = hotspot_clustering.features("西城区的路灯坏了，西城的路灯也是，A3区也是", ignore)
    assert "路灯" in words and not {"西城区", "西城", "a3"} & set(words)
    assert hotspot_clustering.left_out("办理") and hotspot_clustering.left_out("a3")
    assert not hotspot_clustering.left_out("路灯")
