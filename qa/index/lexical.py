"""The lexical leg: BM25 (bm25s) over jieba search-mode words plus CJK character bigrams.

Documents and queries are folded the same way before tokenizing: traditional to simplified
Chinese, full-width to half-width (NFKC) and lower case. Folding only changes the tokens;
offsets always refer to the original text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.text import HAN, HAN_RUN, fold

TOKENIZER_VERSION = "1"
_WORD = re.compile(f"[0-9a-z{HAN}]", re.IGNORECASE)
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 等 也 都 而 被 把 对 从 以 于 为 将 之 其 这 那 该 此 个 有 中 上 下 吗 呢 吧 啊 "
    "什么 多少 哪 哪里 哪儿 哪个 哪些 哪年 哪一年 哪天 几 几个 怎么 怎样 如何 为什么 为何 是否 是不是 谁 何 何时 "
    "请问 一下 一个 我们 你们 他们 它 它们 "
    "a an the of in on at to for by with from as is are was were be been being and or not what which who whom "
    "whose when where why how did do does doing done has have had this that these those it its into than then "
    "there their they them he she his her i you we our your much many".split()
)


_user_dictionaries: list[Path] = []


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for path in _user_dictionaries:
        jieba.load_userdict(str(path))
    return jieba


def load_user_dictionary(path: Path) -> None:
    """Add domain terms (jieba user-dictionary format: one ``word [freq] [tag]`` a line).

    jieba is loaded on first tokenization, not here, so a command that tokenizes nothing never loads it.
    """
    if _jieba.cache_info().currsize:
        _jieba().load_userdict(str(path))
    else:
        _user_dictionaries.append(path)


def word_frequency(word: str) -> int:
    """How often jieba's dictionary has seen ``word`` (0 for an unknown word)."""
    return int(_jieba().dt.FREQ.get(word, 0))


def tokenize(text: str) -> list[str]:
    """Folded search-mode words (stopwords and punctuation dropped) plus CJK character bigrams."""
    folded = fold(text)
    words = [w for w in _jieba().lcut_for_search(folded) if _WORD.search(w) and w not in STOPWORDS]
    bigrams = [run[i : i + 2] for run in HAN_RUN.findall(folded) for i in range(len(run) - 1)]
    return words + [f"#{b}" for b in bigrams if b not in STOPWORDS]


class LexicalIndex:
    """BM25 over pre-tokenized sentences; rows line up with the caller's chunk rows."""

    def __init__(self, tokens: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.size = len(tokens)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        corpus = [list(t) if t else [""] for t in tokens]
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = dict(self._bm25.vocab_dict) if corpus else {}

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The query tokens that occur somewhere in the indexed sentences."""
        return [t for t in query_tokens if t in self._vocab]

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the (already tokenized) query; zeros when nothing matches."""
        known = self.known(query_tokens)
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)


class RowScorer(Protocol):
    """A BM25 scorer of every row at once (:class:`LexicalIndex`, the segmented store's postings)."""

    def known(self, query_tokens: Sequence[str]) -> list[str]: ...
    def scores(self, query_tokens: Sequence[str]) -> np.ndarray: ...


class RowLexical:
    """The lexical leg by chunk id over a scorer of every row: row ``i`` is chunk ``rows[i]``.

    The scores of the last query are kept, so the top candidates and the scores of any other
    sentences (neighbours, the re-ranker's features) come from one pass over the rows.
    """

    def __init__(self, scorer: RowScorer, rows: np.ndarray, row_of: Mapping[int, int]) -> None:
        """Chunk ids by row (``rows``) and rows by chunk id (``row_of``)."""
        self._scorer, self._rows, self._row_of = scorer, rows, row_of
        self._lock = threading.Lock()
        self._last: tuple[tuple[str, ...], np.ndarray] | None = None

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The query tokens that occur somewhere in the index."""
        return self._scorer.known(query_tokens)

    def _scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        key = tuple(query_tokens)
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        found = self._scorer.scores(query_tokens)
        with self._lock:
            self._last = (key, found)
        return found

    def top(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids of (at most) the ``k`` best-scoring sentences with a positive score, and those scores."""
        scores = self._scores(query_tokens)
        best = np.flatnonzero(scores > 0)  # few rows match a query: partition those, not every row
        if len(best) > k:
            best = best[np.argpartition(-scores[best], k - 1)[:k]] if k > 0 else best[:0]
        return self._rows[best].astype(np.int64), scores[best]

    def score(self, query_tokens: Sequence[str], chunk_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """BM25 score of each of ``chunk_ids`` (0 for one the query does not match)."""
        scores = self._scores(query_tokens)
        rows = np.array([self._row_of[int(c)] for c in chunk_ids], dtype=np.int64)
        return scores[rows].astype(np.float32)
