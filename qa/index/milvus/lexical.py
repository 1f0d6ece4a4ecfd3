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

from qa.index.milvus.connection import KEEP_SECONDS, backend_errors
from qa.index.milvus.dense import VARCHAR_BYTES
from qa.index.milvus.schema import K1

_WORD_BYTES = 14  # "t" + 12 hex digits + a space
#: most tokens a sentence's lexical field holds (a longer sentence is scored on its first ones)
MAX_TOKENS = VARCHAR_BYTES // _WORD_BYTES
#: most sentences one BM25 search scores (Milvus's largest result size)
SCORED = 16_384
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
    largest result) with its tokens: its scores serve the top candidates and any other sentence's
    score (the re-ranker asks for neighbours'), its tokens say which of the question's the index
    knows. Results are kept for ``KEEP_SECONDS`` at most, and forgotten when this process writes.
    A sentence outside them scores 0. Filtered BM25 searches are not used: Milvus Lite scores them
    against statistics of the filtered rows only.
    """

    def __init__(self, client: Any, uri: str, collection: str, current: Current) -> None:
        """Search ``collection`` through ``client``; ``current`` drops rows of replaced document versions."""
        self.client, self.uri, self.collection, self._current = client, uri, collection, current
        self._lock = threading.Lock()
        self._last: tuple[tuple[str, ...], float, dict[int, float], frozenset[str]] | None = None

    def forget(self) -> None:
        """Drop the kept results (after a write: they may name sentences it deleted)."""
        with self._lock:
            self._last = None

    def _scores(self, query_tokens: Sequence[str]) -> tuple[dict[int, float], frozenset[str]]:
        """BM25 of every matching sentence of a current document version (best first), and the tokens they hold."""
        key, now = tuple(query_tokens), time.monotonic()
        with self._lock:
            if self._last is not None and self._last[0] == key and now - self._last[1] < KEEP_SECONDS:
                return self._last[2], self._last[3]
        hits: list[Any] = []
        if query_tokens:
            with backend_errors(self.uri):
                hits = self.client.search(
                    self.collection,
                    data=[lexical_text(query_tokens)],  # a token no sentence holds adds nothing
                    anns_field="sparse",
                    limit=SCORED,
                    output_fields=["doc", "version", "tokens"],
                    search_params={"metric_type": "BM25"},
                )[0]
        live = set(self._current([(int(h["id"]), str(h["entity"]["doc"]), int(h["entity"]["version"])) for h in hits]))
        kept = [h for h in hits if int(h["id"]) in live and h["distance"]]
        asked = set(query_tokens)
        known = frozenset(t for h in kept for t in str(h["entity"]["tokens"]).split(" ") if t in asked)
        scores = {int(h["id"]): _score(h["distance"]) for h in kept}
        with self._lock:
            self._last = (key, now, scores, known)
        return scores, known

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The query tokens that occur in some sentence of a current document version."""
        found = self._scores(query_tokens)[1]
        return [t for t in query_tokens if t in found]

    def top(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids of the (at most) ``k`` best sentences of current document versions, and their BM25."""
        best = list(self._scores(query_tokens)[0].items())[: max(k, 0)]
        return np.array([i for i, _ in best], dtype=np.int64), np.array([s for _, s in best], dtype=np.float32)

    def score(self, query_tokens: Sequence[str], chunk_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """BM25 of each of ``chunk_ids`` (0 where the query matches nothing)."""
        scores = self._scores(query_tokens)[0]
        return np.array([scores.get(int(c), 0.0) for c in chunk_ids], dtype=np.float32)
