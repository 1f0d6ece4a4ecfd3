"""The lexical leg in Milvus: our own tokens (jieba words, CJK bigrams, folded) scored by Milvus's BM25 function.

Each token is sent as an opaque ASCII word (``t`` + 12 hex digits of its hash), which every
Milvus analyzer keeps whole, so Milvus counts exactly the tokens the local stores count.
Milvus Lite reports BM25 as a negative distance scaled by ``k1 + 1``; servers report it
positive: ``abs(distance) / (k1 + 1)`` is the local stores' score (the same formula, bm25s'
Lucene variant), so fusion and the re-ranker see the same numbers on every backend.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qa.index.milvus.connection import backend_errors
from qa.index.milvus.dense import VARCHAR_BYTES
from qa.index.milvus.schema import K1

_WORD_BYTES = 14  # "t" + 12 hex digits + a space
#: most tokens a sentence's lexical field holds (a longer sentence is scored on its first ones)
MAX_TOKENS = VARCHAR_BYTES // _WORD_BYTES
#: most sentences one BM25 search scores (Milvus's largest result size)
SCORED = 16_384
#: how long the last question's results are kept for its other reads (candidates, then the re-ranker's)
KEEP_SECONDS = 1.0
#: (chunk id, document, version) rows -> those whose version is the document's current one
Current = Callable[[Sequence[tuple[int, str, int]]], list[int]]


def word(token: str) -> str:
    """The opaque word Milvus indexes for ``token``."""
    return "t" + hashlib.blake2b(token.encode("utf-8"), digest_size=6).hexdigest()


def lexical_text(tokens: Sequence[str]) -> str:
    """The ``lex`` field of a sentence: its tokens as words, space-separated (at most MAX_TOKENS)."""
    return " ".join(word(t) for t in tokens[:MAX_TOKENS])


def tokens_text(tokens: Sequence[str]) -> str:
    """The ``tokens`` field: the tokens themselves, space-separated, cut to fit one VARCHAR."""
    out, size = [], 0
    for token in tokens:
        size += len(token.encode("utf-8")) + 1
        if size > VARCHAR_BYTES:
            break
        out.append(token)
    return " ".join(out)


def _score(distance: float) -> float:
    return abs(distance) / (1.0 + K1)


class MilvusLexical:
    """BM25 over the ``chunks`` collection, by chunk id (the LexicalScorer contract).

    One search per question asks for every matching sentence (up to :data:`SCORED`, Milvus's
    largest result); its scores serve both the top candidates and any other sentence's score
    (the re-ranker asks for neighbours'), so all come from the same statistics; they are kept for
    :data:`KEEP_SECONDS` at most, and forgotten at once when this process writes. A sentence
    outside those scores 0. Filtered BM25 searches are not used: Milvus Lite scores them against
    statistics of the filtered rows only.
    """

    def __init__(self, client: Any, uri: str, collection: str, current: Current) -> None:
        """Search ``collection`` through ``client``; ``current`` drops rows of replaced document versions."""
        self.client, self.uri, self.collection, self._current = client, uri, collection, current
        self._lock = threading.Lock()
        self._known: tuple[tuple[str, ...], float, frozenset[str]] | None = None
        self._last: tuple[tuple[str, ...], float, dict[int, float]] | None = None

    def forget(self) -> None:
        """Drop the kept results (after a write: they may name sentences it deleted)."""
        with self._lock:
            self._known = self._last = None

    def _search(self, texts: list[str], limit: int) -> list[list[Any]]:
        with backend_errors(self.uri):
            found = self.client.search(
                self.collection,
                data=texts,
                anns_field="sparse",
                limit=limit,
                output_fields=["doc", "version"],
                search_params={"metric_type": "BM25"},
            )
        return [list(hits) for hits in found]

    def _known_set(self, query_tokens: Sequence[str]) -> frozenset[str]:
        key, now = tuple(query_tokens), time.monotonic()
        with self._lock:
            if self._known is not None and self._known[0] == key and now - self._known[1] < KEEP_SECONDS:
                return self._known[2]
        distinct = sorted(set(query_tokens))
        hits = self._search([word(t) for t in distinct], 1) if distinct else []
        found = frozenset(t for t, h in zip(distinct, hits, strict=True) if h)
        with self._lock:
            self._known = (key, now, found)
        return found

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The query tokens that occur in some sentence."""
        found = self._known_set(query_tokens)
        return [t for t in query_tokens if t in found]

    def _scores(self, query_tokens: Sequence[str]) -> dict[int, float]:
        """BM25 of every matching sentence of a current document version, best first."""
        key, now = tuple(query_tokens), time.monotonic()
        with self._lock:
            if self._last is not None and self._last[0] == key and now - self._last[1] < KEEP_SECONDS:
                return self._last[2]
        known = self.known(query_tokens)
        hits = self._search([lexical_text(known)], SCORED)[0] if known else []
        rows = [(int(h["id"]), str(h["entity"]["doc"]), int(h["entity"]["version"])) for h in hits]
        live = set(self._current(rows))
        scores = {int(h["id"]): _score(h["distance"]) for h in hits if int(h["id"]) in live and h["distance"]}
        with self._lock:
            self._last = (key, now, scores)
        return scores

    def top(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids of the (at most) ``k`` best sentences of current document versions, and their BM25."""
        best = list(self._scores(query_tokens).items())[: max(k, 0)]
        return np.array([i for i, _ in best], dtype=np.int64), np.array([s for _, s in best], dtype=np.float32)

    def score(self, query_tokens: Sequence[str], chunk_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """BM25 of each of ``chunk_ids`` (0 where the query matches nothing)."""
        scores = self._scores(query_tokens)
        return np.array([scores.get(int(c), 0.0) for c in chunk_ids], dtype=np.float32)
