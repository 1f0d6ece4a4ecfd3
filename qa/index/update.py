"""Build and update an index incrementally: only changed documents are re-read, only new texts embedded."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings import EmbeddingCache, Encoder, content_key
from qa.errors import IndexMismatchError, InputError
from qa.index.context_view import CONTEXT_VIEW, embed_views
from qa.index.layout import directory_state, read_current, read_manifest
from qa.index.lexical import TOKENIZER_VERSION, tokenize
from qa.index.store import FORMAT_VERSION, CorpusIndex, IndexedChunk, StoredDocument, load_index
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION, context_texts, segment
from qa.types import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexSummary:
    """What an indexing run did."""

    added: int
    updated: int
    removed: int
    unchanged: int
    sentences: int
    embedded: int
    reused: int
    seconds: float

    @property
    def changed(self) -> bool:
        """Whether any document was added, updated or removed."""
        return bool(self.added or self.updated or self.removed)

    def describe(self) -> str:
        """One line for people."""
        return (
            f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; sentences: {self.sentences} in index, {self.embedded} embedded, "
            f"{self.reused} reused from cache; {self.seconds:.1f} s"
        )


def _versions_match(manifest: dict[str, object]) -> bool:
    return (
        manifest.get("segmenter_version") == SEGMENTER_VERSION
        and manifest.get("context_version") == CONTEXT_VERSION
        and manifest.get("tokenizer_version") == TOKENIZER_VERSION
        and manifest.get("context_view") == CONTEXT_VIEW
    )


def open_for_update(directory: Path, encoder: Encoder, *, rebuild: bool = False) -> tuple[CorpusIndex, bool]:
    """The index to update, and whether its documents can be reused.

    An absent or empty directory, ``rebuild``, or an index in an older format starts empty (the
    embedding cache still spares re-embedding); the encoder is only loaded then. A damaged index
    is refused (``rebuild`` replaces it). The model is checked when something is embedded (:func:`add_documents`).
    """
    state = directory_state(directory)
    base = read_current(directory)
    if rebuild or state in ("absent", "empty"):
        return CorpusIndex.empty(encoder.model_id, encoder.dim, generation=base), False
    manifest = read_manifest(directory)
    if manifest.get("format_version") != FORMAT_VERSION:
        log.warning("%s: index format %s is outdated; rebuilding it", directory, manifest.get("format_version"))
        return CorpusIndex.empty(encoder.model_id, encoder.dim, generation=base), False
    return load_index(directory, for_query=False), _versions_match(manifest)


def remove_document(index: CorpusIndex, doc_id: str) -> None:
    """Drop a document, its chunks and their vectors from an index in memory."""
    doc = index.documents.pop(doc_id)
    ids = np.array(doc.chunk_ids, dtype=np.int64)
    index.sentence_index.remove(ids)
    index.context_index.remove(ids)
    for chunk_id in doc.chunk_ids:
        del index.chunks[chunk_id]
    index.invalidate_caches()


def _indexed_chunks(doc: Document) -> list[IndexedChunk]:
    """The document's sentences, each with its lexical tokens (of the context text) and content keys."""
    chunks = segment(doc)
    contexts = context_texts(chunks, doc.meta)
    return [
        IndexedChunk(c, tokenize(context), content_key(c.text), content_key(context))
        for c, context in zip(chunks, contexts, strict=True)
    ]


def _stored(doc: Document, chunk_ids: tuple[int, ...]) -> StoredDocument:
    """The document as the index keeps it, its sentences under ``chunk_ids``."""
    file = doc.file
    return StoredDocument(
        doc.id,
        doc.original,
        doc.checksum,
        doc.meta,
        chunk_ids,
        doc.pages,
        file.kind if file else None,
        file.data if file else None,
    )


def add_documents(
    index: CorpusIndex,
    docs: list[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
) -> tuple[int, int]:
    """Segment, tokenize and embed documents into the index; returns (embedded, reused).

    Each sentence gets its own vector and a context vector (:func:`qa.index.context_view.embed_views`);
    encodes go through the embedding cache, so an unchanged text is never embedded twice. The
    encoder is not touched when ``docs`` is empty; otherwise an encoder of another model than
    the index's is refused.
    """
    if not docs:
        return 0, 0
    if encoder.model_id != index.model_id:
        raise IndexMismatchError(
            f"the index was built with model {index.model_id!r}, not {encoder.model_id!r}; "
            "use that model or rebuild the index with --rebuild"
        )
    pending = [(doc, _indexed_chunks(doc)) for doc in docs]
    sentences, contexts, stats = embed_views(
        [([item.chunk for item in items], doc.meta) for doc, items in pending], encoder, cache, progress=progress
    )
    n = sum(len(items) for _, items in pending)
    next_id = max(index.chunks, default=-1) + 1
    if n:
        ids = np.arange(next_id, next_id + n, dtype=np.int64)
        index.sentence_index.add(ids, np.concatenate(sentences))
        index.context_index.add(ids, np.concatenate(contexts))
    for doc, items in pending:
        chunk_ids = tuple(range(next_id, next_id + len(items)))
        next_id += len(items)
        index.chunks.update(zip(chunk_ids, items, strict=True))
        index.documents[doc.id] = _stored(doc, chunk_ids)
    index.invalidate_caches()
    return stats.embedded, stats.reused


def update_index(
    index: CorpusIndex,
    docs: Iterable[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    reusable: bool = True,
    keep_missing: bool = False,
    progress: bool = False,
) -> IndexSummary:
    """Bring ``index`` in line with ``docs``: add new, re-embed changed, remove missing documents."""
    started = time.perf_counter()
    seen: set[str] = set()
    changed: list[Document] = []
    added = updated = unchanged = 0
    for doc in docs:
        if doc.id in seen:
            raise InputError(f"document id {doc.id!r} appears twice in the input")
        seen.add(doc.id)
        old = index.documents.get(doc.id)
        # metadata is compared in its saved form: an empty field (url "") is read back as None
        same = old is not None and old.checksum == doc.checksum and old.meta.as_dict() == doc.meta.as_dict()
        if same and reusable:
            unchanged += 1
            continue
        if old is not None:
            remove_document(index, doc.id)
            updated += 1
        else:
            added += 1
        changed.append(doc)
    missing = [] if keep_missing else [d for d in index.documents if d not in seen]
    for doc_id in missing:
        remove_document(index, doc_id)
    embedded, reused = add_documents(index, changed, encoder, cache, progress=progress)
    return IndexSummary(
        added, updated, len(missing), unchanged, len(index.chunks), embedded, reused, time.perf_counter() - started
    )
