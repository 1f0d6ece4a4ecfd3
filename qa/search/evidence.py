"""Evidence features of a candidate beyond plain overlap (the tail of :data:`qa.search.features.FEATURE_NAMES`).

How much of the question's *informative* words a sentence holds (each word weighted by its
inverse frequency in jieba's dictionary, so a rare name counts more than 时候), how the sentence
stands against the best of its own passage, and whether it holds the asked kind of answer in
words the question does not already contain (a date in a sentence that only repeats the
question's own date is no answer to 哪一年).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from qa.index import word_frequency
from qa.search.retrieval import Pool
from qa.text import fold

EVIDENCE_FEATURES = (
    "idf_cover",
    "idf_cover_context",
    "fused_doc_gap",
    "cosine_doc_gap",
    "new_answer",
)
#: What jieba's dictionary counts in all (its words' frequencies sum to about this).
_DICTIONARY_TOTAL = 60_000_000
#: Spans holding an answer of each kind, to be compared with the question's own text.
_SPANS = {
    "number": re.compile(r"\d+(?:[.,]\d+)*|[一二三四五六七八九十百千万亿两〇零]+"),
    "time": re.compile(r"\d{1,4}\s*[年月日]|\b(?:1[0-9]|20)\d{2}\b|[一二三四五六七八九十〇零]{2,4}年"),
    "duration": re.compile(r"\d+\s*(?:年|个月|周|天|小时|分钟|秒)|\b\d+\s*(?:years?|months?|days?|hours?|minutes?)\b"),
}
#: jieba part-of-speech tags of the answer types a pattern cannot see: a person's or a place's name.
NAMED = {"person": ("nr", "nrfg", "nrt"), "place": ("ns",)}


@lru_cache(maxsize=65536)
def idf(word: str) -> float:
    """Inverse dictionary frequency of a word: high for rare words and names, low for common ones."""
    return math.log((_DICTIONARY_TOTAL + 1) / (word_frequency(word) + 1))


def names_in(text: str) -> tuple[frozenset[str], ...]:
    """The people's and places' names in ``text`` (jieba's dictionary tags, without its HMM guesses), as NAMED."""
    import jieba.posseg

    pairs = [(pair.word, pair.flag) for pair in jieba.posseg.cut(text, HMM=False)]
    return tuple(frozenset(w for w, flag in pairs if flag in tags) for tags in NAMED.values())


def weighted_cover(words: Mapping[str, float], held: frozenset[str]) -> float:
    """The share of the question's word weights that ``held`` holds (0 for a question without words)."""
    total = sum(words.values())
    return sum(w for word, w in words.items() if word in held) / total if total > 0 else 0.0


def holds_new_answer(asked: Sequence[str], question: str, sentence: str, names: tuple[frozenset[str], ...]) -> bool:
    """Whether the (folded) sentence holds an answer of an asked kind that is not part of the (folded) question."""
    for kind in asked:
        if kind in _SPANS:
            spans = (m.group() for m in _SPANS[kind].finditer(sentence))
        else:
            spans = (fold(name) for name in names[list(NAMED).index(kind)])
        if any(span.strip() and span not in question for span in spans):
            return True
    return False


def passage_gaps(sources: Sequence[str], scores: np.ndarray) -> np.ndarray:
    """Each candidate's score minus the best score among the candidates of its own document (0 for that best)."""
    best: dict[str, float] = {}
    for source, score in zip(sources, scores, strict=True):
        best[source] = max(best.get(source, -np.inf), float(score))
    return np.array([float(s) - best[src] for src, s in zip(sources, scores, strict=True)], dtype=np.float32)


#: What evidence_columns needs of one candidate: its tokens alone and with its neighbours and
#: title, its folded text and the names it holds (as :func:`names_in`).
Cell = tuple[frozenset[str], frozenset[str], str, tuple[frozenset[str], ...]]


def evidence_columns(
    pool: Pool, sources: Sequence[str], words: Sequence[str], asked: Sequence[str], cells: Sequence[Cell]
) -> np.ndarray:
    """The EVIDENCE_FEATURES columns of a pool's candidates.

    ``words`` are the question's words (not its bigrams), ``asked`` the answer kinds it asks for
    (keys of _SPANS and NAMED), ``cells`` one per candidate in pool order.
    """
    weights = {w: idf(w) for w in words}
    question = fold(pool.question).lower()
    rows = [
        [
            weighted_cover(weights, tokens),
            weighted_cover(weights, with_context),
            float(holds_new_answer(asked, question, folded, names)),
        ]
        for tokens, with_context, folded, names in cells
    ]
    table = np.array(rows, dtype=np.float32).reshape(len(cells), 3)
    fused, cosine = passage_gaps(sources, pool.fused), passage_gaps(sources, pool.cosine)
    return np.column_stack([table[:, 0], table[:, 1], fused, cosine, table[:, 2]]).astype(np.float32)
