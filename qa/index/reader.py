"""What retrieval, hits, claims and the API read from an index: the contract an index backend implements.

Two backends implement it: :class:`qa.index.CorpusIndex` (everything in memory, the format-2
store) and :class:`qa.index.segmented.SegmentedIndex` (segments on disk, read per hit). A
server-backed store (Milvus) implements the same reads, and the write of
:func:`qa.index.segment_writes.apply_changes`: upserts and removals of whole documents,
committed at once, returning the view that sees them while the old view stays usable.

Chunk ids are ints the backend assigns. The lexical leg is read by chunk id too: its best
candidates (``top``) and the scores of given sentences (``score``), so a backend never has to
hand out a score for every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.index.originals import read_original
from qa.index.store import IndexedChunk, StoredDocument
from qa.types import Chunk


class DenseView(Protocol):
    """One of the two vector sets (sentences alone, sentences in context) under the chunk ids."""

    def __len__(self) -> int: ...
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors(self, ids: np.ndarray) -> np.ndarray: ...


class LexicalScorer(Protocol):
    """BM25 over the index's live sentences, by chunk id."""

    def known(self, query_tokens: Sequence[str]) -> list[str]: ...
    def top(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def score(self, query_tokens: Sequence[str], chunk_ids: Sequence[int] | np.ndarray) -> np.ndarray: ...


class IndexReader(Protocol):
    """The read side of an index."""

    @property
    def model_id(self) -> str: ...
    @property
    def dim(self) -> int: ...
    @property
    def generation(self) -> str | None: ...
    @property
    def documents(self) -> Mapping[str, StoredDocument]: ...
    @property
    def chunks(self) -> Mapping[int, IndexedChunk]: ...
    @property
    def sentence_index(self) -> DenseView: ...
    @property
    def context_index(self) -> DenseView: ...
    @property
    def lexical(self) -> LexicalScorer: ...
    def document(self, doc_id: str) -> StoredDocument: ...
    def document_chunks(self, doc_id: str) -> list[Chunk]: ...


def original_file(index: IndexReader, directory: Path | None, doc: StoredDocument) -> bytes:
    """The original file of a binary document of any index (``directory``: where a memory index lives).

    A store that keeps the files itself (segments, Milvus) has an ``original_file(doc_id)``.
    """
    kept = getattr(index, "original_file", None)
    if kept is not None:
        return bytes(kept(doc.id))
    return read_original(directory, doc)


def chunks_of(index: IndexReader, chunk_ids: Sequence[int] | np.ndarray) -> list[Chunk]:
    """The chunks of ``chunk_ids`` of any index, in that order (a store read per hit reads them together)."""
    many = getattr(index.chunks, "many", None)
    if many is not None:
        return [c.chunk for c in many(chunk_ids)]
    return [index.chunks[int(i)].chunk for i in chunk_ids]
