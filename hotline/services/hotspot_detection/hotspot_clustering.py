"""Grouping similar ticket texts within a place, independent of the database.

Shared by the hotspot detection (`services.hotspot_detection.hotspots`) and its benchmark, so that the
figures the benchmark prints describe what supervisors see:

- text: TF-IDF over the words of the routing model's tokenizer (`textmodel.words`: rjieba,
  jieba's algorithm and dictionary in Rust, a month of tickets in seconds), counted in one
  pass over texts that may be streamed from the database, without stop words (function words and the
  hotline's own formulas: 反映, 希望, 相关部门…) and numbers (house numbers and dates tell
  nothing about the problem);
- place: tickets are grouped only within one block, the district (tickets without one form a
  block of their own); the address is part of the text, so the same road or estate counts;
- grouping that scales: inside a block, tickets are split into partitions of at most
  `partition` tickets by a mini-batch k-means on the TF-IDF vectors (learnt on a sample of
  at most `KMEANS_SAMPLE` tickets; recursively, at most 32 parts at a time), then, inside
  each partition, every pair of tickets is compared (one sparse product) and tickets at
  least `similarity` alike are grouped around the ticket with the most such neighbours
  (star clustering: each group has a centre that all its members resemble, so unlike the
  connected components of the graph, A~B~C does not chain A to C). Groups split across
  partitions join again when their centroids are `merge` alike (star clustering of the
  groups). Last, each ticket of the block joins the group whose centroid it resembles most,
  at least `assign`: the same rule that counts the window before, so that growth compares
  like with like;
- a group needs `min_size` tickets; its label is, among its centroid's heaviest terms, those
  that most set it apart from the rest of the window (held by most of its tickets and few
  others); stop words, generic words (办理, 关于, 村民), counts (三次), the parts of an address
  (路, 栋) and the districts' own names (`Params.ignore`) never count, in the label or the
  similarity.

scikit-learn, scipy, numpy and rjieba are imported inside the functions: a web
process never needs them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline.services.dispatch import textmodel
from hotline.services.search.stopwords import GENERIC_WORDS, STOP_WORDS

# The stop and generic words are the knowledge matches' too: one list (services/search/stopwords.py).
# "三次", "两个月", "几天": how often or how long, not what.
_COUNTED = re.compile(r"^[一二三四五六七八九十百千两几多数半]+(次|天|日|年|周|个月|月|小时|分钟|回|遍|趟|个|号)$")
# Numbers (house numbers and dates tell nothing about the problem), single letters, and the
# codes that anonymised data puts for places ("A3区" → a3).
_NUMBER = re.compile(r"^[\d.,:/\-]+[a-z]?$|^[a-z]$|^[a-z]{1,2}\d+[a-z]?$")
_UNSEEN: Any = object()
TERMS_KEPT = 20  # per group: enough to match it again in the next run
KMEANS_SAMPLE = 20_000  # tickets the partitioning k-means learns its centres from
PREFILTER_TERMS = 3  # a text with none of a group's three heaviest terms is not counted for it


@dataclass(frozen=True)
class Params:
    # Cosines of TF-IDF vectors. Paraphrases of one complaint score about 0.3 to 0.5, different
    # problems at the same address 0.1 to 0.25, unrelated texts below 0.1 (tests/services).
    similarity: float = 0.35  # two tickets this alike are one problem
    merge: float = 0.35  # two groups whose centroids are this alike are one
    assign: float = 0.35  # a ticket this like a group's centroid belongs to it
    min_size: int = 3
    max_groups: int = 50  # the largest groups kept
    max_features: int = 100_000
    partition: int = 2_000  # all pairs are compared within at most this many tickets
    label_terms: int = 4
    seed: int = 0
    # Words that name the places themselves (the districts' names): every ticket of a district
    # holds its name in its address, and a hotspot is grouped within one district already.
    ignore: frozenset[str] = frozenset()


@dataclass
class Group:
    block: Any  # the district id (None: no district)
    members: list[int]  # indices into the texts, in order
    label: str
    terms: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.members)


def _keep(token: str, ignore: frozenset[str] = frozenset()) -> str | None:
    """What a segmenter's token counts as: the routing model's word (lower-cased, no
    punctuation), unless it is a stop word, a generic word, a place's own name or a number."""
    word = token.strip().lower()
    if not word or textmodel._NOISE.match(word) or _NUMBER.match(word) or _COUNTED.match(word):
        return None
    if word in STOP_WORDS or word in GENERIC_WORDS or word in ignore:
        return None
    return word


def left_out(word: str, ignore: frozenset[str] = frozenset()) -> bool:
    """Whether a word never counts (a stop word, a generic word, a place's name, a number)."""
    return _keep(word, ignore) is None


def place_words(names: Iterable[str]) -> frozenset[str]:
    """The words that name these places, as the segmenter may cut them: 西城区, 西城 (the
    name without 区, 县, 市, 新区, 镇, 街道), and the segmenter's own pieces of each (临港区 is
    cut 临 / 港区)."""
    words = set()
    for name in names:
        name = (name or "").strip().lower()
        if not name:
            continue
        forms = [name]
        for suffix in ("新区", "街道", "区", "县", "市", "镇", "乡"):
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                forms.append(name[: -len(suffix)])
                break
        for form in forms:
            words.add(form)
            words.update(token.strip() for token in textmodel.cut(form) if token.strip())
    return frozenset(words)


def features(text: str, ignore: frozenset[str] = frozenset()) -> list[str]:
    """The words that count: the routing model's words without stop words and numbers."""
    return [w for w in (_keep(t, ignore) for t in textmodel.cut(text)) if w]


def tokenised(texts: Iterable[str], ignore: frozenset[str] = frozenset()) -> Iterator[list[str]]:
    """Each text's features, in order. A generator: a million texts' words are never all held
    at once. Each distinct token is judged once (a month repeats the same few thousand words)."""
    cut = textmodel.cut
    kept: dict[str, str | None] = {}
    for text in texts:
        words = []
        for token in cut(text or ""):
            word = kept.get(token, _UNSEEN)
            if word is _UNSEEN:
                word = kept[token] = _keep(token, ignore)
            if word:
                words.append(word)
        yield words


class Vocabulary:
    """TF-IDF as scikit-learn's `TfidfVectorizer(min_df=2, max_df, max_features, sublinear_tf=True)`
    weighs it (smoothed idf, rows L2-normalised, columns in alphabetical order), but counted in
    one pass over streamed token lists: the texts of a million tickets are never all held, and
    the counts go straight into flat arrays instead of a Counter per text."""

    def __init__(self, terms: list[str], idf: Any) -> None:
        self.terms = terms  # by column
        self.columns = {term: j for j, term in enumerate(terms)}
        self.idf = idf

    @classmethod
    def fit(cls, token_lists: Iterable[list[str]], params: Params) -> tuple[Vocabulary, Any]:
        """The vocabulary of these texts and their TF-IDF matrix; ValueError when no word is
        left (no word occurs in two texts: nothing can be alike)."""
        import numpy as np
        import scipy.sparse as sp

        seen: dict[str, int] = {}
        counts = _count(token_lists, seen, grow=True)
        counts.sum_duplicates()  # a word twice in one text is one text for its df
        n = counts.shape[0]
        if not seen:
            raise ValueError("empty vocabulary")
        df = np.bincount(counts.indices, minlength=len(seen))
        most = 0.2 * n if n >= 1_000 else n  # in a fifth of all tickets: a formula, not a problem
        kept = (df >= 2) & (df <= most)  # a word in one ticket links it to no other
        if kept.sum() > params.max_features:
            frequency = np.asarray(counts.sum(axis=0)).ravel()
            top = np.flatnonzero(kept)[np.argsort(-frequency[kept], kind="stable")[: params.max_features]]
            kept = np.zeros_like(kept)
            kept[top] = True
        if not kept.any():
            raise ValueError("no word in two texts")
        words = np.array(list(seen), dtype=object)
        old = np.flatnonzero(kept)
        old = old[np.argsort(words[old].astype(str), kind="stable")]
        idf = (np.log((1 + n) / (1 + df[old])) + 1).astype(np.float32)
        vocabulary = cls([str(w) for w in words[old]], idf)
        del seen, words, df, kept
        # Renumber the kept columns in place of a fancy column index (which copies it twice).
        column = np.full(counts.shape[1], -1, dtype=np.int32)
        column[old] = np.arange(len(old), dtype=np.int32)
        new = column[counts.indices]
        keep = new >= 0
        before = np.concatenate(([0], np.cumsum(keep, dtype=np.int32)))
        counts = sp.csr_matrix((counts.data[keep], new[keep], before[counts.indptr]), shape=(n, len(old)), copy=False)
        del new, keep, before
        return vocabulary, vocabulary._weigh(counts)

    def transform(self, token_lists: Iterable[list[str]]) -> Any:
        return self._weigh(_count(token_lists, self.columns, grow=False))

    def _weigh(self, counts: Any) -> Any:
        """Counts (float32) to L2-normalised TF-IDF rows, in place: no per-entry row array
        (a million texts have some 12 million entries)."""
        import numpy as np

        X = counts
        X.sum_duplicates()
        np.log(X.data, out=X.data)
        X.data += 1
        X.data *= self.idf[X.indices]
        lengths = np.diff(X.indptr)
        filled = np.flatnonzero(lengths)
        norms = np.ones(X.shape[0], dtype=np.float32)
        norms[filled] = np.sqrt(np.add.reduceat(X.data * X.data, X.indptr[filled]))
        X.data /= np.repeat(norms, lengths)
        return X


def _count(token_lists: Iterable[list[str]], columns: dict[str, int], grow: bool) -> Any:
    """The texts' word counts, a row each (duplicates not summed yet); `grow`: new words get
    new columns, otherwise they are left out."""
    from array import array

    import numpy as np
    import scipy.sparse as sp

    # 32-bit offsets like the columns: scipy would otherwise copy both to 64 bits (a month of
    # tickets has some 12 million entries, far from 2**31).
    indices, indptr = array("i"), array("i", [0])
    if grow:
        add = columns.setdefault
        for words in token_lists:
            indices.extend([add(w, len(columns)) for w in words])
            indptr.append(len(indices))
    else:
        get = columns.get
        for words in token_lists:
            indices.extend([j for j in map(get, words) if j is not None])
            indptr.append(len(indices))
    column_array = np.frombuffer(indices, dtype=np.int32) if len(indices) else np.zeros(0, dtype=np.int32)
    return sp.csr_matrix(
        (np.ones(len(column_array), dtype=np.float32), column_array, np.frombuffer(indptr, dtype=np.int32)),
        shape=(len(indptr) - 1, len(columns)),
        copy=False,
    )


class Found:
    """The groups of one input, and what is needed to count like tickets elsewhere."""

    def __init__(
        self, groups: list[Group], vocabulary: Vocabulary | None, centroids: list[Any], params: Params
    ) -> None:
        self.groups = groups
        self.vocabulary = vocabulary
        self._centroids = centroids  # one sparse row per group, L2-normalised
        self.params = params

    def add(self, block: Any, members: list[int], texts: list[str], label: str, terms: dict[str, float]) -> Group:
        """Take in a group found elsewhere (a shorter window's hotspot inside this window), its
        centroid made from its texts, so that the window before is counted for it as for any."""
        import numpy as np

        group = Group(block, members, label, terms)
        centroid = None
        if self.vocabulary is not None:
            X = self.vocabulary.transform(tokenised(texts, self.params.ignore))
            centroid = _centroids(X, [np.arange(X.shape[0])]).tocsr()
        self.groups.append(group)
        self._centroids.append(centroid)
        return group

    def count_similar(self, groups: list[Group], rows: Iterable[tuple[str, Any]]) -> list[int]:
        """For each of `groups` (some of self.groups), how many of these other tickets (the
        window before: (text, block) pairs, possibly streamed) resemble its centroid most, at
        least `assign`, within its block."""
        import numpy as np
        import scipy.sparse as sp

        counts = [0] * len(groups)
        # Only texts holding one of a group's heaviest terms (in its block) can resemble it
        # enough: a substring test spares tokenising (and holding) the rest, most of a month.
        hints: dict[int, tuple[str, ...]] = {}
        for group in groups:
            key = _block_key(group.block)
            hints[key] = tuple(dict.fromkeys(hints.get(key, ()) + tuple(list(group.terms)[:PREFILTER_TERMS])))
        texts: list[str] = []
        blocks: list[Any] = []
        for text, block in rows:
            if any(term in text for term in hints.get(_block_key(block), ())):
                texts.append(text)
                blocks.append(block)
        if not groups or not texts or self.vocabulary is None:
            return counts
        index_of = {id(g): i for i, g in enumerate(self.groups)}
        X = self.vocabulary.transform(tokenised(texts, self.params.ignore))
        block_array = _block_array(blocks)
        by_block: dict[Any, list[int]] = {}
        for position, group in enumerate(groups):
            by_block.setdefault(group.block, []).append(position)
        for block, positions in by_block.items():
            found = np.flatnonzero(block_array == _block_key(block))
            if not len(found):
                continue
            C = sp.vstack([self._centroids[index_of[id(groups[p])]] for p in positions]).tocsr()
            best, score = _best_match(X[found], C)
            for k, p in enumerate(positions):
                counts[p] = int(np.count_nonzero((best == k) & (score >= self.params.assign)))
        return counts


def _block_key(block: Any) -> int:
    return -1 if block is None else int(block)


def _block_array(blocks: Sequence[Any]):
    import numpy as np

    return np.fromiter((_block_key(b) for b in blocks), dtype=np.int64, count=len(blocks))


def _best_match(X, C, chunk: int = 5_000):
    """For each row of X, the row of C it is most alike (cosine, both normalised) and how much
    (0 when it shares no term with any). Row maxima by `reduceat` on the product's data: scipy's
    sparse argmax walks the rows in Python-like steps, several times slower on a million. In
    chunks of rows: a ticket with common words shares some with hundreds of groups."""
    import numpy as np

    best = np.zeros(X.shape[0], dtype=np.int64)
    score = np.zeros(X.shape[0], dtype=np.float32)
    for s in range(0, X.shape[0], chunk):
        P = (X[s : s + chunk] @ C.T).tocsr()
        P.eliminate_zeros()
        if not P.nnz:
            continue
        lengths = np.diff(P.indptr)
        filled = np.flatnonzero(lengths)
        top = np.maximum.reduceat(P.data, P.indptr[filled])
        row_of = np.repeat(np.arange(P.shape[0]), lengths)
        at_top = np.flatnonzero(P.data == np.repeat(top, lengths[filled]))
        # Ties go to the lowest column (the larger group), whatever order the product stored.
        at_top = at_top[np.lexsort((P.indices[at_top], row_of[at_top]))]
        first = at_top[np.unique(row_of[at_top], return_index=True)[1]]
        best[s + filled] = P.indices[first]
        score[s + filled] = top
    return best, score


def _one_thread():
    """numpy's BLAS and scikit-learn's OpenMP on one thread: the job shares its machine with the
    web and the other jobs, and OpenMP threads that wait for a busy core spin (on a loaded
    2-core machine, k-means took several times longer on two threads than on one)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def find_groups(texts: Iterable[str], blocks: Sequence[Any], params: Params | None = None) -> Found:
    """Group the texts (one block each: the district, or None); largest groups first. The texts
    may be an iterator (read from the database in batches): they are tokenised as they come."""
    with _one_thread():
        return _find_groups(texts, blocks, params or Params())


def _find_groups(texts: Iterable[str], blocks: Sequence[Any], params: Params) -> Found:
    import numpy as np

    try:
        vocabulary, X = Vocabulary.fit(tokenised(texts, params.ignore), params)
    except ValueError:  # no word occurs twice: nothing can be alike
        return Found([], None, [], params)
    # `blocks` is read only now: a caller streaming the texts fills it as they are read.
    if len(blocks) != X.shape[0]:
        raise ValueError(f"{X.shape[0]} texts but {len(blocks)} blocks")
    if X.shape[0] < max(2, params.min_size):
        return Found([], vocabulary, [], params)
    terms = vocabulary.terms
    block_array = _block_array(blocks)
    found: list[tuple[Any, np.ndarray]] = []
    for key in np.unique(block_array):
        rows = np.flatnonzero(block_array == key)
        block = None if key == -1 else int(key)
        found.extend((block, members) for members in _block_groups(X, rows, params))
    found.sort(key=lambda item: (-len(item[1]), int(item[1][0])))
    groups, centroids = [], []
    every = _centroids(X, [members for _, members in found]).tocsr() if found else None
    apart = _distinctiveness(X, [members for _, members in found]) if found else None
    for k, (block, members) in enumerate(found):
        centroid = every[k]
        weights = _top_terms(centroid, terms, TERMS_KEPT)
        groups.append(Group(block, [int(m) for m in members], _label(weights, apart[k], vocabulary, params), weights))
        centroids.append(centroid)
    return Found(groups, vocabulary, centroids, params)


def _distinctiveness(X, groups: list[Any]):
    """For each group and word, how much the word sets the group apart from the rest of the
    window: p·log(p/q), p the share of the group's tickets holding it, q the share of the
    other tickets (smoothed); a word every ticket holds scores 0 however heavy it is."""
    import numpy as np
    import scipy.sparse as sp

    present = X.copy()
    present.data[:] = 1
    n = X.shape[0]
    df = np.asarray(present.sum(axis=0)).ravel()
    indptr = np.cumsum([0] + [len(g) for g in groups])
    indicator = sp.csr_matrix(
        (np.ones(indptr[-1], dtype=np.float32), np.concatenate(groups), indptr), shape=(len(groups), n)
    )
    inside = (indicator @ present).tocsr()  # tickets of each group holding each word
    sizes = np.diff(indptr)
    rows = np.repeat(np.arange(len(groups)), np.diff(inside.indptr))
    p = inside.data / sizes[rows]
    q = (df[inside.indices] - inside.data + 1) / (n - sizes[rows] + 2)
    scores = inside.copy()
    scores.data = (p * np.log(p / q)).astype(np.float32)
    return scores


def _label(weights: dict[str, float], scores, vocabulary: Vocabulary, params: Params) -> str:
    """The group's name: among its heaviest terms, the ones that most set it apart (two
    characters or more, where there are enough)."""
    score = {vocabulary.terms[j]: float(v) for j, v in zip(scores.indices, scores.data, strict=True)}
    ranked = sorted(weights, key=lambda term: (-score.get(term, 0.0), -weights[term], term))
    ranked = [term for term in ranked if score.get(term, 0.0) > 0]
    return " ".join([t for t in ranked if len(t) > 1][: params.label_terms] or ranked[:1] or list(weights)[:1])


def _block_groups(X, rows, params: Params) -> list[Any]:
    """The groups of one block, as arrays of row numbers of X, each of at least min_size."""
    import numpy as np

    candidates: list[np.ndarray] = []
    partitions = list(_partitions(X, rows, params))
    for part in partitions:
        candidates.extend(part[star] for star in _stars(X[part], params.similarity))
    if not candidates:
        return []
    if len(partitions) > 1:
        candidates = _merged(X, candidates, params.merge)
    # The groups that could reach the minimum size take every ticket of the block that is
    # closest to them and alike enough, members of other groups included (a better fit).
    hopeful = [c for c in candidates if len(c) >= max(2, params.min_size - 1)]
    if not hopeful:
        return []
    C = _centroids(X, hopeful).tocsr()
    best, score = _best_match(X[rows], C)
    groups = []
    for k in range(len(hopeful)):
        members = rows[(best == k) & (score >= params.assign)]
        if len(members) >= params.min_size:
            groups.append(np.sort(members))
    return groups


def _partitions(X, rows, params: Params, depth: int = 0) -> Iterator[Any]:
    """Split a block into parts of at most `partition` tickets, keeping alike tickets together."""
    if len(rows) <= params.partition:
        yield rows
        return
    import numpy as np
    from sklearn.cluster import MiniBatchKMeans

    k = min(32, math.ceil(len(rows) / (params.partition / 2)))
    # Centres learnt from a sample, then every ticket placed once: the partitions only need to
    # keep alike tickets together (groups split between two are joined again by `_merged`),
    # and epochs of k-means over a district of 200,000 tickets were most of a month's time.
    sample = rows
    if len(rows) > KMEANS_SAMPLE:
        sample = np.sort(np.random.default_rng(params.seed + depth).choice(rows, KMEANS_SAMPLE, replace=False))
    model = MiniBatchKMeans(
        n_clusters=k, random_state=params.seed + depth, n_init=1, batch_size=4096, max_iter=20, compute_labels=False
    ).fit(X[sample])
    labels = model.predict(X[rows])
    parts = [rows[labels == j] for j in range(k)]
    if depth >= 8 or max(len(p) for p in parts) == len(rows):
        # Nothing splits them (the same text many times): fixed slices; the merge rejoins them.
        for s in range(0, len(rows), params.partition):
            yield rows[s : s + params.partition]
        return
    for part in parts:
        if len(part):
            yield from _partitions(X, part, params, depth + 1)


def _stars(Xp, threshold: float) -> list[Any]:
    """Star clustering of one partition: positions (into Xp's rows) of groups of two or more."""
    import numpy as np

    S = (Xp @ Xp.T).tocsr()
    row_of = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    S.data[(S.data < threshold) | (S.indices == row_of)] = 0  # a ticket is not its own neighbour
    S.eliminate_zeros()
    degree = np.diff(S.indptr)
    taken = np.zeros(Xp.shape[0], dtype=bool)
    stars = []
    for i in np.argsort(-degree, kind="stable"):
        if degree[i] == 0:
            break
        if taken[i]:
            continue
        neighbours = S.indices[S.indptr[i] : S.indptr[i + 1]]
        free = neighbours[~taken[neighbours]]
        if len(free):
            members = np.concatenate(([i], free))
            taken[members] = True
            stars.append(members)
    return stars


def _merged(X, candidates: list[Any], threshold: float, chunk: int = 2_000) -> list[Any]:
    """Join groups split across partitions: star clustering again, over the groups' centroids
    (no chaining here either), the largest groups first among equals."""
    import numpy as np
    import scipy.sparse as sp

    C = _centroids(X, candidates).tocsr()
    rows = []
    for s in range(0, C.shape[0], chunk):
        P = (C[s : s + chunk] @ C.T).tocsr()
        P.data[P.data < threshold] = 0
        P.eliminate_zeros()
        rows.append(P)
    S = sp.vstack(rows).tocsr()
    sizes = np.array([len(c) for c in candidates])
    taken = np.zeros(len(candidates), dtype=bool)
    merged = []
    for i in np.lexsort((-sizes, -np.diff(S.indptr))):
        if taken[i]:
            continue
        neighbours = S.indices[S.indptr[i] : S.indptr[i + 1]]  # itself included
        free = neighbours[~taken[neighbours]]
        taken[free] = True
        merged.append(np.concatenate([candidates[j] for j in free]))
    return merged


def _centroid(X, members):
    """The group's mean vector, L2-normalised, as a sparse row."""
    return _centroids(X, [members])


def _centroids(X, groups: list[Any]):
    """Each group's mean vector, L2-normalised: one sparse row per group, in one product
    (an indicator matrix times X) rather than a slice per group."""
    import numpy as np
    import scipy.sparse as sp

    indptr = np.cumsum([0] + [len(g) for g in groups])
    columns = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    indicator = sp.csr_matrix(
        (np.ones(len(columns), dtype=np.float32), columns, indptr), shape=(len(groups), X.shape[0])
    )
    sums = (indicator @ X).tocsr()
    norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms).astype(np.float32) @ sums


def _top_terms(centroid, terms, limit: int) -> dict[str, float]:
    import numpy as np

    row = centroid.tocsr()
    order = np.argsort(-row.data, kind="stable")[:limit]
    return {str(terms[row.indices[i]]): round(float(row.data[i]), 4) for i in order}


def term_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two groups' kept terms: how a hotspot is recognised in the next run."""
    dot = sum(weight * b[term] for term, weight in a.items() if term in b)
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def group_summary(groups: Iterable[Group], labels: Sequence[str]) -> list[tuple[Group, str, float]]:
    """For each group, the label most of its texts carry and that share (the benchmark's and
    tests' measure of coherence, with a known category per text)."""
    summary = []
    for group in groups:
        counts: dict[str, int] = {}
        for i in group.members:
            counts[labels[i]] = counts.get(labels[i], 0) + 1
        best = max(sorted(counts), key=lambda label: counts[label])
        summary.append((group, best, counts[best] / group.size))
    return summary
