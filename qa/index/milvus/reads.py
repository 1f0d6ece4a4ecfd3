"""The read side of an index held in Milvus: an :class:`~qa.index.reader.IndexReader` that keeps nothing in memory.

Every read asks Milvus: the dense views and the lexical leg search their collections, sentences
and documents are fetched per hit (a small cache keeps recent ones; a sentence id names one
version of its document, so a cached row never goes stale). A document update writes the new
version's rows beside the old ones before the document's row flips to it, and candidates of a
version that is not (or no longer) current are dropped, so a reader never sees half an update.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.errors import IndexConflictError, IndexMismatchError
from qa.index.context_view import CONTEXT_VIEW
from qa.index.milvus.connection import backend_errors, literal
from qa.index.milvus.dense import DenseCollection
from qa.index.milvus.documents import MilvusDocuments, read_texts, scan
from qa.index.milvus.lexical import MilvusLexical
from qa.index.milvus.schema import Collections
from qa.index.store import IndexedChunk, StoredDocument, find_document
from qa.types import Chunk

_CACHED_CHUNKS = 20_000
_CHUNK_FIELDS = [
    "doc", "version", "idx", "start", "end", "line", "paragraph", "page", "heading",
    "text", "cited", "spilled", "tokens", "key", "context_key",
]  # fmt: skip


class IndexChangedWhileReading(IndexConflictError, KeyError):
    """Sentences a search found that a write (by another process) removed before they were read: ask again."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"Milvus at {uri}: the index changed while this question was answered; ask again")

    def __str__(self) -> str:
        return str(self.args[0])


def _chunk(row: dict[str, Any], spilled: Mapping[str, str]) -> IndexedChunk:
    chunk_id = int(row["id"])
    text = spilled.get(f"c{chunk_id}t", "") if row["spilled"] else str(row["text"])
    cited = spilled.get(f"c{chunk_id}c", "") if row["spilled"] else str(row["cited"]) or text
    page = int(row["page"])
    chunk = Chunk(
        str(row["doc"]),
        int(row["idx"]),
        int(row["start"]),
        int(row["end"]),
        text,
        cited,
        int(row["line"]),
        int(row["paragraph"]),
        tuple(json.loads(row["heading"])),
        None if page < 0 else page,
    )
    tokens = str(row["tokens"]).split(" ") if row["tokens"] else []
    return IndexedChunk(chunk, tokens, str(row["key"]), str(row["context_key"]))


class MilvusChunks(Mapping[int, IndexedChunk]):
    """The sentences of the index by chunk id, fetched from Milvus when asked for."""

    def __init__(self, cols: Collections) -> None:
        """Rows of ``cols.chunks``."""
        self.cols = cols
        self._cache: OrderedDict[int, IndexedChunk] = OrderedDict()
        self._lock = threading.Lock()

    def _fetch(self, ids: Sequence[int]) -> dict[int, IndexedChunk]:
        cols = self.cols
        with backend_errors(cols.uri):
            rows = cols.client.query(cols.chunks, ids=list(ids), output_fields=_CHUNK_FIELDS)
        long = [f"c{int(r['id'])}{kind}" for r in rows if r["spilled"] for kind in "tc"]
        spilled = read_texts(cols.client, cols.uri, cols.texts, long)
        return {int(r["id"]): _chunk(r, spilled) for r in rows}

    def many(self, chunk_ids: Sequence[int] | np.ndarray) -> list[IndexedChunk]:
        """The sentences of ``chunk_ids`` in that order, read together (a KeyError for one not in the index)."""
        ids = [int(c) for c in chunk_ids]
        with self._lock:
            found = {i: self._cache[i] for i in ids if i in self._cache}
        missing = sorted(set(ids) - set(found))
        read = self._fetch(missing) if missing else {}
        if len(read) < len(missing):
            raise IndexChangedWhileReading(self.cols.uri)
        with self._lock:
            self._cache.update(read)
            while len(self._cache) > _CACHED_CHUNKS:
                self._cache.popitem(last=False)
        found.update(read)
        return [found[i] for i in ids]

    def __getitem__(self, chunk_id: int) -> IndexedChunk:
        return self.many([chunk_id])[0]

    def __contains__(self, chunk_id: object) -> bool:
        if not isinstance(chunk_id, int | np.integer):
            return False
        try:
            self.many([int(chunk_id)])
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[int]:
        return (int(r["id"]) for r in scan(self.cols.client, self.cols.uri, self.cols.chunks, []))

    def __len__(self) -> int:
        cols = self.cols
        with backend_errors(cols.uri):
            rows = cols.client.query(cols.chunks, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0


class MilvusDense:
    """One dense view (a DenseView): exact inner-product search over sentences of current versions."""

    def __init__(self, vectors: DenseCollection, index: MilvusIndex) -> None:
        """Search ``vectors``; ``index`` says which document versions are current."""
        self._vectors, self._index = vectors, index

    def __len__(self) -> int:
        return self._vectors.count()

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` chunk ids per query among the index's ``where`` (all when empty), best first; -1 pads."""
        found = self._vectors.search(queries, k, self._index.where)
        scores = np.full((len(found), k), -np.inf, np.float32)
        ids = np.full((len(found), k), -1, np.int64)
        for q, hits in enumerate(found):
            live = set(self._index.current([(i, d, v) for i, _, d, v in hits]))
            kept = [(i, s) for i, s, _, _ in hits if i in live]
            ids[q, : len(kept)] = [i for i, _ in kept]
            scores[q, : len(kept)] = [s for _, s in kept]
        return scores, ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of chunk ``ids``, in that order (KeyError for one not in the index)."""
        found = self._vectors.vectors([int(i) for i in ids])
        if len(found) < len(set(int(i) for i in ids)):
            raise IndexChangedWhileReading(self._vectors.uri)
        out = np.empty((len(ids), self._vectors.dim), dtype=np.float32)
        for row, i in enumerate(ids):
            out[row] = found[int(i)]
        return out


@dataclass
class MilvusIndex:
    """An index whose collections live in Milvus, opened for reading (and written by qa.index.milvus.writes)."""

    model_id: str
    dim: int
    cols: Collections
    where: str = ""  # a filter expression on the sentences the dense views search (see restricted)

    def __post_init__(self) -> None:
        cols = self.cols
        self.documents = MilvusDocuments(cols.client, cols.uri, cols.documents, cols.texts)
        self.chunks = MilvusChunks(cols)
        self.sentence_index = MilvusDense(cols.sentence, self)
        self.context_index = MilvusDense(cols.context, self)
        self.lexical = MilvusLexical(cols.client, cols.uri, cols.chunks, self.current)

    @property
    def generation(self) -> str | None:
        """None: a Milvus index has no generations (every read sees what is committed now)."""
        return None

    def restricted(self, where: str) -> MilvusIndex:
        """A view whose dense searches keep to the sentences matching the filter expression ``where``.

        The lexical leg still searches every sentence (Milvus Lite scores a filtered BM25 search on
        the filtered rows' statistics); its candidates outside ``where`` are the caller's to drop.
        """
        return MilvusIndex(self.model_id, self.dim, self.cols, where)

    def forget(self) -> None:
        """Drop what reads keep for a moment (document rows, the last question's BM25): after a write."""
        self.documents.forget()
        self.lexical.forget()

    def current(self, rows: Sequence[tuple[int, str, int]]) -> list[int]:
        """The chunk ids of those (id, document, version) rows whose version is the document's current one."""
        versions = self.documents.versions([d for _, d, _ in rows])
        return [i for i, d, v in rows if versions.get(d) == v]

    def original_file(self, doc_id: str) -> bytes:
        """The PDF or DOCX file a document was read from, as Milvus keeps it (NotFoundError if none)."""
        return self.documents.original_file(doc_id)

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document, or NotFoundError."""
        return find_document(self.documents, doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        return [c.chunk for c in self.chunks.many(self.document(doc_id).chunk_ids)]


def filter_expression(sources: Collection[str] | None, date_from: str | None, date_to: str | None) -> str:
    """The Milvus expression keeping sentences of ``sources`` (None: any) dated within the range (ISO dates)."""
    parts = [] if sources is None else ["doc in [" + ", ".join(map(literal, sorted(sources))) + "]"]
    if date_from is not None or date_to is not None:
        parts.append('date != ""')
    parts += [f"date >= {literal(date_from)}"] if date_from is not None else []
    parts += [f"date <= {literal(date_to)}"] if date_to is not None else []
    return " and ".join(parts)


def read_meta(cols: Collections) -> dict[str, Any] | None:
    """What the index was built with, or None when it has not been built."""
    if not cols.exists():
        return None
    cols.load()
    with backend_errors(cols.uri):
        rows = cols.client.query(cols.meta, ids=["index"], output_fields=["value"])
    return json.loads(rows[0]["value"]) if rows else None


def check_meta(meta: dict[str, Any], cols: Collections, model_id: str | None, *, for_query: bool = False) -> None:
    """Refuse an index built with another model (or, to query it, whose context vectors were made otherwise)."""
    name = f"Milvus index {cols.prefix!r} at {cols.uri}"
    if model_id is not None and meta.get("model_id") != model_id:
        raise IndexMismatchError(
            f"{name} was built with model {meta.get('model_id')!r}, not {model_id!r}; "
            "use that model or rebuild it with: qa index PATH --rebuild"
        )
    if for_query and meta.get("context_view") != CONTEXT_VIEW:
        raise IndexMismatchError(
            f"{name} has context vectors made as {meta.get('context_view')!r}, not {CONTEXT_VIEW!r}; "
            "update it with: qa index PATH"
        )
