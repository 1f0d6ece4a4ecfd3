"""Segment-capable BM25: per-segment postings on disk (memory-mapped), statistics over all live rows.

Each segment keeps, for its rows ``0..n-1``, the term frequencies of every token as
postings sorted by token (``lex_rows.npy``, ``lex_tf.npy``) and each row's length
(``lex_len.npy``); where each token's postings start is a table of the segment's SQLite
store. A query is scored over the live rows of all segments together with the statistics of
those rows alone (row count, mean length, document frequencies with deleted rows left out),
so any split of the same rows into segments, with any deletions, scores exactly as one index
built from the live rows would: BM25 as bm25s computes it (``method="lucene"``: idf
``log(1 + (N - df + 0.5) / (df + 0.5))``, term part ``tf / (tf + k1 (1 - b + b dl / avgdl))``,
a row without tokens counted as length 1, a repeated query token counted each time).
"""

from __future__ import annotations

import math
import sqlite3
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROWS_FILE = "lex_rows.npy"
TF_FILE = "lex_tf.npy"
LENGTHS_FILE = "lex_len.npy"
TERMS_TABLE = (
    "CREATE TABLE terms (token TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID"
)
K1, B = 1.2, 0.75
#: np.load parses each header with ast, which CPython 3.11 cannot do in two threads at once
_NPY_LOCK = threading.Lock()


def load_array(path: Path, *, mmap: bool = False) -> np.ndarray:
    """An ``.npy`` file, memory-mapped read-only when ``mmap`` (safe to call from any thread)."""
    with _NPY_LOCK:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


class PostingsWriter:
    """Collects the postings of rows ``0..n-1``, added in order, then writes them."""

    def __init__(self) -> None:
        """An empty collection."""
        self._vocab: dict[str, int] = {}
        self._terms, self._rows, self._tfs, self._lengths = array("i"), array("i"), array("f"), array("i")

    def add(self, tokens: Sequence[str]) -> None:
        """The tokens of the next row."""
        row = len(self._lengths)
        self._lengths.append(max(1, len(tokens)))
        for token, count in Counter(tokens).items():
            self._terms.append(self._vocab.setdefault(token, len(self._vocab)))
            self._rows.append(row)
            self._tfs.append(count)

    def write(self, folder: Path, db: sqlite3.Connection) -> int:
        """Write the postings files into ``folder`` and the term table into ``db``; returns the row count."""
        terms = np.frombuffer(self._terms, dtype=np.int32)
        order = np.argsort(terms, kind="stable")
        np.save(folder / ROWS_FILE, np.frombuffer(self._rows, dtype=np.int32)[order])
        np.save(folder / TF_FILE, np.frombuffer(self._tfs, dtype=np.float32)[order])
        np.save(folder / LENGTHS_FILE, np.frombuffer(self._lengths, dtype=np.int32))
        counts = np.bincount(terms, minlength=len(self._vocab))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(self._vocab) else counts
        db.execute(TERMS_TABLE)
        db.executemany(
            "INSERT INTO terms VALUES (?, ?, ?)",
            ((token, int(starts[i]), int(counts[i])) for token, i in self._vocab.items()),
        )
        return len(self._lengths)


class SegmentPostings:
    """The postings of one segment, memory-mapped; token lookups go through ``lookup``."""

    def __init__(self, folder: Path, lookup: Callable[[str], tuple[int, int] | None]) -> None:
        """Open the postings files in ``folder``; ``lookup(token)`` gives (start, count) or None."""
        self._rows = load_array(folder / ROWS_FILE, mmap=True)
        self._tf = load_array(folder / TF_FILE, mmap=True)
        self.lengths = load_array(folder / LENGTHS_FILE, mmap=True)
        self._lookup = lookup

    def __len__(self) -> int:
        return len(self.lengths)

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of ``token`` in this segment (empty when absent)."""
        found = self._lookup(token)
        if found is None:
            return np.empty(0, np.int32), np.empty(0, np.float32)
        start, count = found
        return np.asarray(self._rows[start : start + count]), np.asarray(self._tf[start : start + count])


@dataclass(frozen=True)
class LexicalPart:
    """One segment as the lexical view sees it: its postings, first global row, deleted rows."""

    postings: SegmentPostings
    base: int
    deleted: np.ndarray  # bool, one per row


class SegmentedLexical:
    """BM25 over the live rows of several segments; row ``base + r`` is row ``r`` of a segment."""

    def __init__(self, parts: Sequence[LexicalPart]) -> None:
        """Gather the live-row statistics of ``parts`` (rows must not overlap)."""
        self.parts = list(parts)
        self.size = max((p.base + len(p.postings) for p in self.parts), default=0)
        self._live = sum(len(p.postings) - int(p.deleted.sum()) for p in self.parts)
        total = sum(int(np.asarray(p.postings.lengths, np.int64)[~p.deleted].sum()) for p in self.parts)
        self._avg = total / self._live if self._live else 1.0
        self._any_deleted = [bool(p.deleted.any()) for p in self.parts]
        # each row's length part of the BM25 denominator, k1 (1 - b + b dl / avgdl), computed once
        self._norms = [
            (K1 * ((1 - B) + B * np.asarray(p.postings.lengths, np.float32) / self._avg)).astype(np.float32)
            for p in self.parts
        ]
        self._lock = threading.Lock()
        self._last: tuple[tuple[str, ...], dict[str, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]]] | None = (
            None
        )

    def _live_postings(self, token: str) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        out = []
        for part, deletions, norms in zip(self.parts, self._any_deleted, self._norms, strict=True):
            rows, tf = part.postings.postings(token)
            if deletions and len(rows):
                keep = ~part.deleted[rows]
                rows, tf = rows[keep], tf[keep]
            if len(rows):
                out.append((part.base, rows, tf, norms[rows]))
        return out

    def _found(self, query_tokens: Sequence[str]) -> dict[str, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]]:
        """The live postings of each distinct query token (the last query's are kept for known())."""
        key = tuple(query_tokens)
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        found = {t: self._live_postings(t) for t in set(query_tokens)}
        with self._lock:
            self._last = (key, found)
        return found

    def known(self, query_tokens: Sequence[str]) -> list[str]:
        """The query tokens that occur in some live row."""
        found = self._found(query_tokens)
        return [t for t in query_tokens if found[t]]

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row (deleted rows score 0) for the tokenized query."""
        out = np.zeros(self.size, dtype=np.float32)
        found = self._found(query_tokens)
        for token in query_tokens:
            hits = found[token]
            df = sum(len(rows) for _, rows, _, _ in hits)
            if not df:
                continue
            idf = np.float32(math.log(1 + (self._live - df + 0.5) / (df + 0.5)))
            for base, rows, tf, norms in hits:
                out[base + rows] += idf * (tf / (norms + tf))
        return out
