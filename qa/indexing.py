"""Build and update an index incrementally: only changed documents are re-read, only new texts embedded."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.cache import EmbeddingCache, content_key, embed_with_cache
from embeddings.encoders import Encoder
from qa.context import CONTEXT_VERSION, embedding_texts
from qa.errors import InputError
from qa.index_store import CorpusIndex, IndexedChunk, StoredDocument, check_compatible, load_index, read_manifest
from qa.lexical import TOKENIZER_VERSION, tokenize
from qa.segment import SEGMENTER_VERSION, segment
from qa.types import Document


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

    def describe(self) -> str:
        """One line for people."""
        return (
            f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; sentences: {self.sentences} in index, {self.embedded} embedded, "
            f"{self.reused} reused from cache; {self.seconds:.1f} s"
        )


def _versions_match(directory: Path) -> bool:
    manifest = read_manifest(directory)
    return (
        manifest.get("segmenter_version") == SEGMENTER_VERSION
        and manifest.get("context_version") == CONTEXT_VERSION
        and manifest.get("tokenizer_version") == TOKENIZER_VERSION
    )


def open_for_update(directory: Path, encoder: Encoder, *, rebuild: bool = False) -> tuple[CorpusIndex, bool]:
    """The index to update (empty when absent or ``rebuild``), and whether its documents can be reused."""
    if rebuild or not (directory / "manifest.json").is_file():
        return CorpusIndex(encoder.model_id, encoder.dim), False
    check_compatible(read_manifest(directory), directory, encoder.model_id)
    return load_index(directory, model_id=encoder.model_id), _versions_match(directory)


def remove_document(index: CorpusIndex, doc_id: str) -> None:
    """Drop a document, its chunks and their vectors from an index in memory."""
    doc = index.documents.pop(doc_id)
    index.vector_index.remove(np.array(doc.chunk_ids, dtype=np.int64))
    for chunk_id in doc.chunk_ids:
        del index.chunks[chunk_id]
    index.changed()


def add_documents(
    index: CorpusIndex,
    docs: list[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
) -> tuple[int, int]:
    """Segment, tokenize and embed documents into the index; returns (embedded, reused)."""
    pending: list[tuple[Document, list[IndexedChunk]]] = []
    texts: list[str] = []
    for doc in docs:
        chunks = segment(doc)
        doc_texts = embedding_texts(chunks, doc.meta)
        pending.append(
            (doc, [IndexedChunk(c, tokenize(t), content_key(t)) for c, t in zip(chunks, doc_texts, strict=True)])
        )
        texts.extend(doc_texts)
    keys = [item.key for _, items in pending for item in items]
    vectors, stats = embed_with_cache(
        lambda batch: encoder.encode_documents(batch), encoder.model_id, texts, keys, cache, progress=progress
    )
    next_id = max(index.chunks, default=-1) + 1
    ids = np.arange(next_id, next_id + len(texts), dtype=np.int64)
    if len(ids):
        index.vector_index.add(ids, vectors)
    position = 0
    for doc, items in pending:
        chunk_ids = tuple(int(i) for i in ids[position : position + len(items)])
        position += len(items)
        index.chunks.update(zip(chunk_ids, items, strict=True))
        index.documents[doc.id] = StoredDocument(doc.id, doc.original, doc.checksum, doc.meta, chunk_ids)
    index.changed()
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
        if old is not None and reusable and old.checksum == doc.checksum and old.meta == doc.meta:
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
