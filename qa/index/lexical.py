"""The lexical leg: BM25 (bm25s) over jieba search-mode words plus CJK character bigrams.

Documents and queries are folded the same way before tokenizing: traditional to simplified
Chinese, full-width to half-width (NFKC) and lower case. Folding only changes the tokens;
offsets always refer to the original text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

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
