"""Writes to a segmented index: a whole build, one-document changes, and merges of small segments.

- :func:`build_segmented` streams documents into one new segment (vectors ``auto``: flat below
  100k sentences, HNSW above) and commits it as the only one.
- :func:`apply_changes` marks the rows of removed and replaced documents deleted and writes the
  added or replaced documents as one small flat segment, then commits a new generation: its
  cost is that of the changed documents (plus their embedding), whatever the index's size.
- When a generation has more than :data:`MAX_SEGMENTS` segments, the :data:`MERGE_COUNT`
  smallest are merged into one (their live rows copied, deleted rows dropped; its vectors of the
  write's kind, so an ``auto`` merge that reaches 100k rows gets an ANN index), so small
  segments stay few and the cost of a merge grows with the merged segments only; a rebuild
  compacts the largest one too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import EmbeddingCache, Encoder, content_key
from embeddings.vector_index.segment import VectorKind
from qa.errors import NotFoundError
from qa.index.context_view import CONTEXT_VIEW, embed_views
from qa.index.generations import commit, new_segment_folder, open_segmented, read_manifest, remove_unused
from qa.index.layout import package_versions, writing
from qa.index.lexical import TOKENIZER_VERSION, tokenize
from qa.index.segment import Segment, SegmentDocument, SegmentWriter
from qa.index.segmented import LiveSegment, SegmentedIndex
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION, context_texts, segment
from qa.types import Chunk, Document, DocumentMeta

MAX_SEGMENTS = 8
MERGE_COUNT = 5
_BATCH_DOCUMENTS = 64
_PACKAGES = ("chuchu", "faiss-cpu", "numpy", "jieba")
ChunkRecord = tuple[Chunk, list[str], str, str]


@dataclass
class Prepared:
    """A document segmented, tokenized and embedded, ready to be written into a segment."""

    doc: SegmentDocument
    chunks: list[ChunkRecord]
    vectors: np.ndarray
    context_vectors: np.ndarray
    file_data: bytes | None = None


def prepare_documents(
    docs: Sequence[Document], encoder: Encoder, cache: EmbeddingCache | None, *, progress: bool = False
) -> tuple[list[Prepared], int, int]:
    """Segment, tokenize and embed documents (each sentence's own and context vector, through the cache).

    Returns the prepared documents and how many texts were embedded and reused.
    """
    records: list[list[ChunkRecord]] = []
    segmented: list[tuple[list[Chunk], DocumentMeta]] = []
    for doc in docs:
        chunks = segment(doc)
        texts = context_texts(chunks, doc.meta)
        records.append(
            [(c, tokenize(t), content_key(c.text), content_key(t)) for c, t in zip(chunks, texts, strict=True)]
        )
        segmented.append((chunks, doc.meta))
    sentences, contexts, stats = embed_views(segmented, encoder, cache, progress=progress)
    out = []
    for doc, rs, own, context in zip(docs, records, sentences, contexts, strict=True):
        kind, data = (doc.file.kind, doc.file.data) if doc.file is not None else (None, None)
        stored = SegmentDocument(doc.id, doc.original, doc.checksum, doc.meta, 0, len(rs), doc.pages, kind)
        out.append(Prepared(stored, rs, own, context, data))
    return out, stats.embedded, stats.reused


def _header(model_id: str, dim: int, kind: VectorKind, documents: int, chunks: int) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "dim": dim,
        "metric": "inner_product",
        "segmenter_version": SEGMENTER_VERSION,
        "context_version": CONTEXT_VERSION,
        "tokenizer_version": TOKENIZER_VERSION,
        "context_view": CONTEXT_VIEW,
        "vector_index": kind,
        "documents": documents,
        "chunks": chunks,
        "packages": dict(package_versions(_PACKAGES)),
    }


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(docs)
    while batch := list(islice(it, size)):
        yield batch


def build_segmented(
    directory: Path,
    docs: Iterable[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    kind: VectorKind = "auto",
    progress: bool = False,
    nprobe: int | None = None,
) -> tuple[SegmentedIndex, int, int]:
    """Build a new index of ``docs`` in ``directory`` (replacing what it held); returns it, embedded, reused.

    The index returned searches ``nprobe`` IVF lists (None: the default).
    """
    created = not directory.exists()
    with writing(directory):
        writer = SegmentWriter(new_segment_folder(directory), encoder.dim)
        embedded = reused = 0
        try:
            for batch in _batches(docs, _BATCH_DOCUMENTS):
                prepared, e, r = prepare_documents(batch, encoder, cache, progress=progress)
                embedded, reused = embedded + e, reused + r
                for p in prepared:
                    writer.add(p.doc, p.chunks, p.vectors, p.context_vectors, p.file_data)
            writer.finish(kind)
        except BaseException:
            writer.abandon()
            if created:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        header = _header(encoder.model_id, encoder.dim, kind, writer.documents, writer.rows)
        commit(directory, header, [(writer.folder.name, np.empty(0, np.int64), frozenset())])
        remove_unused(directory)
    return open_segmented(directory, model_id=encoder.model_id, nprobe=nprobe), embedded, reused


def _write_prepared(directory: Path, prepared: Sequence[Prepared], index: SegmentedIndex, kind: VectorKind) -> Segment:
    writer = SegmentWriter(new_segment_folder(directory), index.dim)
    for p in prepared:
        writer.add(p.doc, p.chunks, p.vectors, p.context_vectors, p.file_data)
    writer.finish(kind)
    return Segment(writer.folder, nprobe=index.nprobe)


def apply_changes(
    directory: Path,
    index: SegmentedIndex,
    upserts: Sequence[Document],
    removals: Sequence[str],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    kind: VectorKind = "flat",
) -> tuple[SegmentedIndex, int, int]:
    """Commit ``removals`` and ``upserts`` (added or replaced) as a new generation.

    Returns its view and how many texts were embedded and reused. ``index`` is the generation
    the caller reads; it is left untouched. A removal of an unknown id raises NotFoundError
    before anything is written. The new segment's vectors are of ``kind``; the view searches as
    many IVF lists as ``index`` does.
    """
    with writing(directory):
        if read_manifest(directory)["generation"] != index.manifest.get("generation"):
            index = open_segmented(directory, model_id=index.model_id, nprobe=index.nprobe)
        deleted = {id(p): (set(p.deleted_rows.tolist()), set(p.deleted_docs)) for p in index.parts}
        for doc_id in [*removals, *(d.id for d in upserts)]:
            found = index.documents.find(doc_id)
            if found is None:
                if doc_id in removals:
                    raise NotFoundError(f"no document {doc_id!r} in the index")
                continue
            part, doc = found
            deleted[id(part)][0].update(range(doc.first, doc.first + doc.count))
            deleted[id(part)][1].add(doc_id)
        parts = [LiveSegment(p.segment, 0, _rows(deleted[id(p)][0]), frozenset(deleted[id(p)][1])) for p in index.parts]
        embedded = reused = 0
        if upserts:
            prepared, embedded, reused = prepare_documents(list(upserts), encoder, cache)
            new = _write_prepared(directory, prepared, index, kind)
            parts.append(LiveSegment(new, 0, _rows(set()), frozenset()))
        if len(parts) > MAX_SEGMENTS:
            parts = _merge_smallest(directory, parts, index, kind)
        return _commit_parts(directory, index, parts), embedded, reused


def _rows(rows: set[int]) -> np.ndarray:
    return np.array(sorted(rows), dtype=np.int64)


def _commit_parts(directory: Path, index: SegmentedIndex, parts: list[LiveSegment]) -> SegmentedIndex:
    base = 0
    for part in parts:
        part.base, base = base, base + part.segment.rows
    view = SegmentedIndex(index.model_id, index.dim, parts, {}, directory, index.nprobe)
    header = {k: v for k, v in index.manifest.items() if k not in ("segments", "files", "generation", "saved_at")}
    header.update(documents=len(view.documents), chunks=len(view.chunks))
    name = commit(directory, header, [(p.segment.folder.name, p.deleted_rows, p.deleted_docs) for p in parts])
    remove_unused(directory)
    view.manifest = read_manifest(directory)
    assert view.manifest["generation"] == name
    return view


def _merge_smallest(
    directory: Path, parts: list[LiveSegment], index: SegmentedIndex, kind: VectorKind
) -> list[LiveSegment]:
    """Replace the MERGE_COUNT smallest segments by one holding their live rows (order kept), its vectors
    of ``kind`` (``auto``: an ANN index when the merged rows reach its threshold)."""
    chosen = set(sorted(range(len(parts)), key=lambda i: parts[i].segment.rows)[:MERGE_COUNT])
    writer = SegmentWriter(new_segment_folder(directory), index.dim)
    for i in sorted(chosen):
        part = parts[i]
        for doc_id in part.segment.document_ids():
            doc = part.document(doc_id)
            if doc is None:
                continue
            rows = list(range(doc.first, doc.first + doc.count))
            records = [(c.chunk, c.tokens, c.key, c.context_key) for c in part.segment.chunks(rows)]
            vectors = (
                part.segment.sentence.reconstruct(np.array(rows)),
                part.segment.context.reconstruct(np.array(rows)),
            )
            writer.add(doc, records, *vectors, part.segment.file_data(doc_id) if doc.file_kind else None)
    writer.finish(kind)
    merged = LiveSegment(Segment(writer.folder, nprobe=index.nprobe), 0, _rows(set()), frozenset())
    first = min(chosen)
    return [merged if i == first else p for i, p in enumerate(parts) if i == first or i not in chosen]
