"""Features of the candidates of one pool, for the learned re-ranker (:mod:`qa.search.ranker`).

One row per candidate, one column per name in :data:`FEATURE_NAMES`: the question's own traits
(language, answer type asked, how much of it the index knows), the candidate's scores and ranks
in each leg, how much of the question the sentence covers alone and with its neighbours and
title, the longest run of the question it repeats and the share of its characters, the answer
types it holds (numbers, dates, durations by pattern; names of people and places by jieba's
dictionary tags), its place in the document, and how its document fares.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

from qa.index import tokenize
from qa.index.reader import IndexReader
from qa.search.anchors import ANCHOR_FEATURES, anchor_row, question_anchors
from qa.search.discourse import DISCOURSE_FEATURES, discourse_columns
from qa.search.retrieval import Pool
from qa.search.sentence_facts import HAN_CHAR, HOLDS, NAMED, SentenceFacts, covered, read_neighbours, sentence_facts
from qa.search.translation import translate
from qa.search.within_document import WITHIN_DOCUMENT_FEATURES, within_document_columns
from qa.text import fold

_ASKS = {
    "number": re.compile(r"多少|几[个家位名次年月天种项所条处栋座倍]|多[大高长远重]|数量|how (?:many|much)|percent"),
    "time": re.compile(r"哪一?年|哪一?天|何时|什么时候|哪个月|日期|几月|\bwhen\b|what (?:year|date|day)|which year"),
    "duration": re.compile(r"多久|多长时间|几年|几天|how long"),
    "person": re.compile(r"谁|哪位|何人|什么人|\bwho(?:m|se)?\b"),
    "place": re.compile(r"哪里|哪儿|何处|何地|哪个(?:国家|城市|省|地区)|哪座|在哪|\bwhere\b|which (?:country|city)"),
}
#: Characters of the question that ask rather than tell (left out of its character overlap).
_ASKING = frozenset("什么哪谁吗呢多少几是的了在有为何怎样如请问么个")
_LATIN = re.compile(r"[A-Za-z]")

QUESTION_FEATURES = (
    "q_english",
    "q_coverage",
    "q_tokens",
    *(f"asks_{kind}" for kind in _ASKS),
)
CANDIDATE_FEATURES = (
    *(f"{leg}{part}" for leg in ("fused", "dense", "cosine", "context") for part in ("", "_gap", "_rank")),
    "bm25",
    "bm25_ratio",
    "bm25_rank",
    "prev_bm25_ratio",
    "next_bm25_ratio",
    "prev_cosine_gap",
    "next_cosine_gap",
    "cover",
    "cover_words",
    "cover_context",
    "cover_gain",
    *(f"holds_{kind}" for kind in (*HOLDS, *NAMED)),
    "type_match",
    "is_label",
    "chars",
    "han_share",
    "position",
    "relative_position",
    "doc_gap",
    "doc_count",
    "rank_in_doc",
    "doc_cosine_gap",
    "longest_common",
    "char_cover",
    "translated_bm25_ratio",
    "translated_bm25_rank",
    "translated_cover",
    *ANCHOR_FEATURES,
    *WITHIN_DOCUMENT_FEATURES,
    *DISCOURSE_FEATURES,
)
#: Features also given against the pool: the gap to the pool's best value and the rank in the pool.
POOL_RELATIVE = ("cover", "cover_words", "cover_context", "char_cover", "longest_common", "anchor_share", "pair_cover")
FEATURE_NAMES = (
    QUESTION_FEATURES
    + CANDIDATE_FEATURES
    + tuple(f"{name}_{part}" for name in POOL_RELATIVE for part in ("to_best", "in_pool"))
)
_RELATIVE_COLUMNS = [len(QUESTION_FEATURES) + CANDIDATE_FEATURES.index(name) for name in POOL_RELATIVE]


def question_traits(question: str, coverage: float) -> tuple[list[float], dict[str, bool], list[str]]:
    """The question's feature values, the answer types it asks for, and its tokens."""
    lowered = question.lower()
    letters = len(_LATIN.findall(question))
    han = len(HAN_CHAR.findall(question))
    asks = {kind: bool(p.search(lowered)) for kind, p in _ASKS.items()}
    tokens = tokenize(question)
    values = [letters / max(1, letters + han), coverage, float(len(tokens)), *map(float, asks.values())]
    return values, asks, tokens


def _ranks(values: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values), dtype=np.float32)
    return ranks


def _to_best(values: np.ndarray) -> np.ndarray:
    return values - values.max(initial=0.0)


def _legs(pool: Pool) -> list[np.ndarray]:
    columns = []
    for values in (pool.fused, pool.dense, pool.cosine, pool.context_cosine):
        columns += [values, _to_best(values), _ranks(values)]
    best = float(pool.lexical.max(initial=0.0))
    columns += [pool.lexical, pool.lexical / best if best > 0 else np.zeros_like(pool.lexical), _ranks(pool.lexical)]
    return columns


def _neighbour_columns(index: IndexReader, pool: Pool, pairs: Sequence[tuple[int | None, int | None]]) -> np.ndarray:
    """Per candidate: BM25 ratio of the previous and next sentence, then their cosine gaps (0 / -1 where none)."""
    present = sorted({n for pair in pairs for n in pair if n is not None})
    cosines: dict[int, float] = {}
    if present and pool.query is not None:
        found = index.sentence_index.vectors(np.array(present, dtype=np.int64)) @ pool.query
        cosines = dict(zip(present, map(float, found), strict=True))
    best_bm25 = float(pool.lexical.max(initial=0.0))
    best_cos = float(pool.cosine.max(initial=0.0))
    lexical: dict[int, float] = {}
    if best_bm25 > 0 and present and pool.lexical_tokens is not None:
        lexical = dict(zip(present, map(float, index.lexical.score(pool.lexical_tokens, present)), strict=True))

    def bm25(n: int | None) -> float:
        return 0.0 if n is None or not lexical else lexical[n] / best_bm25

    def gap(n: int | None) -> float:
        return cosines[n] - best_cos if n in cosines else -1.0

    rows = [[bm25(a), bm25(b), gap(a), gap(b)] for a, b in pairs]
    return np.array(rows, dtype=np.float32).reshape(len(pairs), 4)


def _overlap(question: str, chars: frozenset[str], sentence: str) -> list[float]:
    """The longest run of the (folded) question in the sentence as a share of it; the share of its characters there."""
    if not question:
        return [0.0, 0.0]
    match = SequenceMatcher(None, question, sentence, autojunk=False).find_longest_match()
    cover = sum(c in sentence for c in chars) / len(chars) if chars else 0.0
    return [match.size / len(question), cover]


def _candidate_row(
    sentence: SentenceFacts, question: set[str], words: set[str], wanted: tuple[bool, ...]
) -> list[float]:
    """Coverage, answer type, label-ness, length and position of one candidate."""
    alone, with_context = covered(question, sentence.tokens), covered(question, sentence.with_context)
    coverage = [alone, covered(words, sentence.tokens), with_context, with_context - alone]
    held = len(wanted)
    match = any(w and h for w, h in zip(wanted, sentence.holds, strict=True))
    values = sentence.values
    return [*coverage, *values[:held], float(match), *values[held:]]


def _document_columns(sources: Sequence[str], pool: Pool) -> list[np.ndarray]:
    best_fused: dict[str, float] = {}
    best_cos: dict[str, float] = {}
    count: dict[str, int] = {}
    rank_in_doc = np.zeros(len(sources), dtype=np.float32)
    for i, source in enumerate(sources):
        rank_in_doc[i] = count.get(source, 0)
        count[source] = count.get(source, 0) + 1
        best_fused[source] = max(best_fused.get(source, -np.inf), float(pool.fused[i]))
        best_cos[source] = max(best_cos.get(source, -np.inf), float(pool.cosine[i]))
    top_fused, top_cos = float(pool.fused.max(initial=0.0)), float(pool.cosine.max(initial=0.0))
    return [
        np.array([best_fused[s] - top_fused for s in sources], dtype=np.float32),
        np.array([count[s] for s in sources], dtype=np.float32),
        rank_in_doc,
        np.array([best_cos[s] - top_cos for s in sources], dtype=np.float32),
    ]


def _translated_columns(index: IndexReader, pool: Pool, english: bool) -> list[np.ndarray]:
    """BM25 of the question's Chinese renderings, its rank, and the share of English words rendered.

    Only for an English question that the index hardly knows word for word (see ``Pool.translated``).
    """
    n = len(pool.candidates)
    groups = translate(pool.question) if english and pool.translated is not None and n else []
    if not groups or pool.translated is None:
        return [np.zeros(n, np.float32), np.full(n, -1.0, np.float32), np.zeros(n, np.float32)]
    bm25 = pool.translated
    best = float(bm25.max())
    texts = [fold(index.chunks[int(c)].chunk.text) for c in pool.candidates]
    folded = [[fold(t) for t in g] for g in groups]
    cover = [sum(any(t in text for t in g) for g in folded) / len(groups) for text in texts]
    ratio = bm25 / best if best > 0 else np.zeros(n, np.float32)
    return [ratio, _ranks(bm25), np.array(cover, dtype=np.float32)]


def candidate_features(index: IndexReader, pool: Pool, *, translated: bool = True) -> np.ndarray:
    """The feature matrix of a pool (candidates in pool order, columns as :data:`FEATURE_NAMES`).

    The pool's candidates must be in fused order (ranks are taken within the pool). Without
    ``translated`` the English-to-Chinese columns are left as for a Chinese question.
    """
    n = len(pool.candidates)
    traits, asks, tokens = question_traits(pool.question, pool.coverage)
    question = set(tokens)
    words = {t for t in tokens if not t.startswith("#")}
    read_neighbours(index, pool.candidates)
    sentences = [sentence_facts(index, int(c)) for c in pool.candidates]
    wanted = tuple(asks[kind] for kind in (*HOLDS, *NAMED))
    rows = [_candidate_row(s, question, words, wanted) for s in sentences]
    asked, chars = fold(pool.question), frozenset(HAN_CHAR.findall(fold(pool.question))) - _ASKING
    overlap = np.array([_overlap(asked, chars, s.folded) for s in sentences], dtype=np.float32).reshape(n, 2)
    anchors = question_anchors(asked, _ASKING)
    anchored = np.array([anchor_row(anchors, s.folded) for s in sentences], dtype=np.float32).reshape(n, -1)
    pairs = [s.neighbours for s in sentences]
    legs = np.stack(_legs(pool), axis=1) if n else np.zeros((0, 15), dtype=np.float32)
    per_candidate = np.array(rows, dtype=np.float32).reshape(n, -1)
    around = _neighbour_columns(index, pool, pairs)
    sources = [index.chunks[int(c)].chunk.source for c in pool.candidates]
    docs = np.stack(_document_columns(sources, pool), axis=1) if n else np.zeros((0, 4), dtype=np.float32)
    traits_rows = np.tile(np.array(traits, dtype=np.float32), (n, 1))
    english = translated and traits[0] > 0.5
    rendered = np.stack(_translated_columns(index, pool, english), axis=1).reshape(n, 3)
    local = within_document_columns(sources, [s.tokens for s in sentences], question, pool.cosine)
    added = discourse_columns(sentences, question)
    matrix = np.hstack([traits_rows, legs, around, per_candidate, docs, overlap, rendered, anchored, local, added])
    relative = [f(matrix[:, c]) for c in _RELATIVE_COLUMNS for f in (_to_best, _ranks)]
    matrix = np.hstack([matrix, np.stack(relative, axis=1).reshape(n, -1)]).astype(np.float32)
    assert matrix.shape[1] == len(FEATURE_NAMES)
    return matrix
