"""A read view over the segments of one committed generation: the index as retrieval and hits use it.

Chunk ids are global rows: row ``r`` of the ``i``-th segment is chunk ``base_i + r``, with the
bases the running row counts of the segments in generation order. A generation also names, per
segment, the rows and documents deleted since it was written. The view exposes what
:class:`qa.index.CorpusIndex` exposes (``documents``, ``chunks``, ``document``,
``document_chunks``, ``sentence_index``, ``context_index``, ``lexical``, ``rows``, ``row_of``),
reading every row from disk when it is asked for. It never changes: a write commits a new
generation and opens a new view, so a reader keeps a consistent index for as long as it holds one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from embeddings.vector_index.segment import Excluded, SegmentVectors
from qa.errors import IndexMismatchError, NotFoundError
from qa.index.lexical import RowLexical
from qa.index.postings import LexicalPart, SegmentedLexical
from qa.index.segment import Segment, SegmentChunk, SegmentDocument
from qa.index.store import IndexedChunk, StoredDocument, find_document
from qa.types import Chunk

_CACHED_CHUNKS = 20_000


@dataclass
class LiveSegment:
    """A segment as one generation sees it: where its rows start and what was deleted from it."""

    segment: Segment
    base: int
    deleted_rows: np.ndarray  # int64, sorted
    deleted_docs: frozenset[str]

    @cached_property
    def deleted_mask(self) -> np.ndarray:
        """One bool a row: deleted or not."""
        mask = np.zeros(self.segment.rows, dtype=bool)
        mask[self.deleted_rows] = True
        return mask

    @cached_property
    def excluded(self) -> Excluded | None:
        """The deleted rows as a search selector (None when nothing was deleted)."""
        return Excluded(self.deleted_rows) if len(self.deleted_rows) else None

    def document(self, doc_id: str) -> SegmentDocument | None:
        """A live document of this segment, or None."""
        return None if doc_id in self.deleted_docs else self.segment.document(doc_id)


def _stored(live: LiveSegment, doc: SegmentDocument) -> StoredDocument:
    first = live.base + doc.first
    chunk_ids = tuple(range(first, first + doc.count))
    return StoredDocument(doc.id, doc.original, doc.checksum, doc.meta, chunk_ids, doc.pages, doc.file_kind)


class DocumentsView(Mapping[str, StoredDocument]):
    """The live documents of a generation by id, read on access."""

    def __init__(self, parts: Sequence[LiveSegment]) -> None:
        """A view over ``parts`` (newest last)."""
        self._parts = parts

    def find(self, doc_id: str) -> tuple[LiveSegment, SegmentDocument] | None:
        """The live segment holding ``doc_id`` and its record there, or None."""
        for part in reversed(self._parts):
            doc = part.document(doc_id)
            if doc is not None:
                return part, doc
        return None

    def __getitem__(self, doc_id: str) -> StoredDocument:
        found = self.find(doc_id) if isinstance(doc_id, str) else None
        if found is None:
            raise KeyError(doc_id)
        return _stored(*found)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self.find(doc_id) is not None

    @cached_property
    def _ids(self) -> list[str]:
        return [i for p in self._parts for i in p.segment.document_ids() if i not in p.deleted_docs]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return sum(int(p.segment.info["documents"]) - len(p.deleted_docs) for p in self._parts)


class ChunksView(Mapping[int, IndexedChunk]):
    """The live sentences of a generation by chunk id, read on access."""

    def __init__(self, parts: Sequence[LiveSegment]) -> None:
        """A view over ``parts``."""
        self._parts = parts
        self._bases = np.array([p.base for p in parts], dtype=np.int64)
        self._cache: dict[int, SegmentChunk] = {}
        self._lock = threading.Lock()

    def locate(self, chunk_id: int) -> tuple[LiveSegment, int] | None:
        """The segment and row of a live chunk id, or None."""
        if not isinstance(chunk_id, int | np.integer):
            return None
        where, rows = self.locate_many(np.array([chunk_id], dtype=np.int64))
        return None if where[0] < 0 else (self._parts[int(where[0])], int(rows[0]))

    def locate_many(self, chunk_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(segment position, row) of each chunk id; position -1 for an id that is not live."""
        ids = np.asarray(chunk_ids, dtype=np.int64)
        where = np.searchsorted(self._bases, ids, side="right") - 1
        rows = ids - self._bases[np.maximum(where, 0)] if len(self._bases) else ids
        for i, part in enumerate(self._parts):
            at = where == i
            bad = at & ((rows >= part.segment.rows) | (rows < 0))
            at &= ~bad
            bad[at] = part.deleted_mask[rows[at]]
            where[bad] = -1
        where[ids < 0] = -1
        return where, rows

    def many(self, chunk_ids: Sequence[int] | np.ndarray) -> list[SegmentChunk]:
        """The sentences of ``chunk_ids`` in that order (KeyError if one is not live).

        Sentences read lately come from a cache (emptied when it holds :data:`_CACHED_CHUNKS`); the
        others are read with one query a segment.
        """
        ids = [int(c) for c in chunk_ids]
        get = self._cache.get
        cached = [get(c) for c in ids]
        missing = [c for c, hit in zip(ids, cached, strict=True) if hit is None]
        if not missing:
            return cached  # type: ignore[return-value]
        read = dict(zip(missing, self._read(missing), strict=True))
        with self._lock:
            if len(self._cache) + len(read) > _CACHED_CHUNKS:
                self._cache = {}
            self._cache.update(read)
        return [hit if hit is not None else read[c] for c, hit in zip(ids, cached, strict=True)]

    def _read(self, chunk_ids: Sequence[int]) -> list[SegmentChunk]:
        where, rows = self.locate_many(np.asarray(chunk_ids, dtype=np.int64))
        if (where < 0).any():
            raise KeyError([int(c) for c, w in zip(chunk_ids, where, strict=True) if w < 0][:5])
        out: list[SegmentChunk | None] = [None] * len(where)
        for i, part in enumerate(self._parts):
            at = np.nonzero(where == i)[0]
            if len(at):
                for j, chunk in zip(at, part.segment.chunks(rows[at].tolist()), strict=True):
                    out[j] = chunk
        return out  # type: ignore[return-value]

    def __getitem__(self, chunk_id: int) -> IndexedChunk:
        c = self.many([chunk_id])[0]
        return IndexedChunk(c.chunk, list(c.tokens), c.key, c.context_key)

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, int | np.integer) and self.locate(int(chunk_id)) is not None

    def __iter__(self) -> Iterator[int]:
        for p in self._parts:
            for row in np.nonzero(~p.deleted_mask)[0]:
                yield p.base + int(row)

    def __len__(self) -> int:
        return sum(p.segment.rows - len(p.deleted_rows) for p in self._parts)


class VectorsView:
    """One of the two vector sets of a generation (sentences alone or in context), searched across segments."""

    def __init__(self, parts: Sequence[LiveSegment], chunks: ChunksView, which: str) -> None:
        """A view over the ``which`` ("sentence" or "context") vectors of ``parts``."""
        self._parts, self._chunks, self._which = parts, chunks, which
        self.dim = int(parts[0].segment.info["dim"]) if parts else 0

    def _vectors(self, part: LiveSegment) -> SegmentVectors:
        return part.segment.sentence if self._which == "sentence" else part.segment.context

    def __len__(self) -> int:
        return len(self._chunks)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` live chunk ids per query, best first, ties by lower id; -1 pads."""
        q = np.atleast_2d(queries)
        scores, ids = [], []
        for part in self._parts:
            s, r = self._vectors(part).search(q, k, part.excluded)
            scores.append(s)
            ids.append(np.where(r >= 0, r + part.base, -1))
        if not scores:
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        s_all, i_all = np.concatenate(scores, axis=1), np.concatenate(ids, axis=1)
        s_all = np.where(i_all >= 0, s_all, -np.inf)
        order = np.lexsort((i_all, -s_all))[:, :k]
        top_s, top_i = np.take_along_axis(s_all, order, 1), np.take_along_axis(i_all, order, 1)
        pad = k - top_s.shape[1]
        if pad > 0:
            top_s = np.pad(top_s, ((0, 0), (0, pad)), constant_values=-np.inf)
            top_i = np.pad(top_i, ((0, 0), (0, pad)), constant_values=-1)
        return top_s.astype(np.float32), top_i.astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of live chunk ``ids``, in that order (KeyError for one not live)."""
        where, rows = self._chunks.locate_many(np.asarray(ids, dtype=np.int64))
        if (where < 0).any():
            raise KeyError("ids not in the index")
        out = np.empty((len(where), self.dim), dtype=np.float32)
        for i, part in enumerate(self._parts):
            at = np.nonzero(where == i)[0]
            if len(at):
                out[at] = self._vectors(part).reconstruct(rows[at])
        return out

    def ids(self) -> np.ndarray:
        """All live chunk ids."""
        return np.fromiter(iter(self._chunks), dtype=np.int64)


class _Identity(Mapping[int, int]):
    """``row_of`` of a segmented index: a chunk id is its own lexical row."""

    def __init__(self, size: int) -> None:
        self._size = size

    def __getitem__(self, chunk_id: int) -> int:
        return int(chunk_id)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self._size))

    def __len__(self) -> int:
        return self._size


@dataclass
class SegmentedIndex:
    """One committed generation of a segmented index directory, opened for reading."""

    model_id: str
    dim: int
    parts: list[LiveSegment]
    manifest: dict[str, object] = field(default_factory=dict)
    directory: Path = Path()

    def __post_init__(self) -> None:
        self.documents = DocumentsView(self.parts)
        self.chunks = ChunksView(self.parts)
        self.sentence_index = VectorsView(self.parts, self.chunks, "sentence")
        self.context_index = VectorsView(self.parts, self.chunks, "context")
        size = sum(p.segment.rows for p in self.parts)
        self.rows = np.arange(size, dtype=np.int64)
        self.row_of = _Identity(size)
        parts = [LexicalPart(p.segment.postings, p.base, p.deleted_mask) for p in self.parts]
        self.lexical = RowLexical(SegmentedLexical(parts), self.rows, self.row_of)
        self._document_chunks = lru_cache(maxsize=1024)(self._read_document_chunks)

    @property
    def generation(self) -> str | None:
        """The name of the committed generation this view reads."""
        name = self.manifest.get("generation")
        return name if isinstance(name, str) else None

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document, or NotFoundError."""
        return find_document(self.documents, doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order (those of documents read lately are kept: a view never changes)."""
        return list(self._document_chunks(doc_id))

    def _read_document_chunks(self, doc_id: str) -> tuple[Chunk, ...]:
        return tuple(c.chunk for c in self.chunks.many(self.document(doc_id).chunk_ids))

    def original_file(self, doc_id: str) -> bytes:
        """The PDF or DOCX file a document was read from, as its segment keeps it (NotFoundError if none)."""
        found = self.documents.find(doc_id)
        data = found[0].segment.file_data(doc_id) if found is not None and found[1].file_kind else None
        if found is None or data is None:
            raise NotFoundError(f"document {doc_id!r} was not read from a file kept by the index (not a PDF or DOCX)")
        if hashlib.sha256(data).hexdigest() != found[1].checksum:
            where = found[0].segment.folder
            raise IndexMismatchError(f"{where}: the kept copy of {doc_id!r} is damaged (checksum differs); re-index it")
        return data
