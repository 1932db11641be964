"""One list of stop and generic words (issue 16): the hotspots and the knowledge matches leave
out the same words, so that a word found to mislead one is left out of both."""

from __future__ import annotations

import pytest

from hotline.services.hotspot_detection import hotspot_clustering
from hotline.services.knowledge_base import knowledge_index
from hotline.services.search import stopwords


def test_both_features_read_one_list() -> None:
    assert knowledge_index.STOP_WORDS is stopwords.LEFT_OUT
    assert hotspot_clustering.STOP_WORDS is stopwords.STOP_WORDS
    assert hotspot_clustering.GENERIC_WORDS is stopwords.GENERIC_WORDS


# Each word was on one feature's list only: 连续 and 附近 on the knowledge matches', 办理 and
# 上个月 on the hotspots', 请问 and "please" on the knowledge matches' stop words.
@pytest.mark.parametrize("word", ["连续", "附近", "办理", "上个月", "请问", "please"])
def test_a_word_left_out_by_one_is_left_out_by_the_other(word: str) -> None:
    assert hotspot_clustering.left_out(word)
    assert f"w:{word}" not in knowledge_index.terms(f"路灯 {word} 不亮")
