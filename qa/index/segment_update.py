"""``qa index`` over a segmented index: a full build, or the changed documents written as one new segment."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

from embeddings import EmbeddingCache, Encoder
from embeddings.vector_index.segment import VectorKind
from qa.errors import IndexMismatchError, InputError
from qa.index.context_view import CONTEXT_VIEW
from qa.index.generations import MANIFEST, is_segmented, open_segmented, read_manifest
from qa.index.lexical import TOKENIZER_VERSION
from qa.index.segment_writes import apply_changes, build_segmented
from qa.index.segmented import SegmentedIndex
from qa.index.update import IndexSummary
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION
from qa.types import Document

log = logging.getLogger(__name__)


def _check_model(directory: Path, built_with: str, encoder: Encoder) -> None:
    """Refuse to add vectors of another model (this loads a lazy encoder: call it only when embedding)."""
    if built_with != encoder.model_id:
        raise IndexMismatchError(
            f"{directory}: index was built with model {built_with!r}, not {encoder.model_id!r}; "
            f"use that model or rebuild it with: qa index PATH --index {directory} --rebuild"
        )


def _reusable(directory: Path) -> bool:
    """Whether the stored documents can be kept (same segmenter, context, tokenizer and context view)."""
    manifest = read_manifest(directory)
    versions = (manifest.get("segmenter_version"), manifest.get("context_version"), manifest.get("tokenizer_version"))
    return versions == (SEGMENTER_VERSION, CONTEXT_VERSION, TOKENIZER_VERSION) and (
        manifest.get("context_view") == CONTEXT_VIEW
    )


def _unique(docs: Iterable[Document]) -> Iterable[Document]:
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise InputError(f"document id {doc.id!r} appears twice in the input")
        seen.add(doc.id)
        yield doc


def update_segmented(
    directory: Path,
    docs: Iterable[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    rebuild: bool = False,
    keep_missing: bool = False,
    kind: VectorKind = "auto",
    progress: bool = False,
    nprobe: int | None = None,
) -> tuple[SegmentedIndex, IndexSummary]:
    """Bring the index at ``directory`` in line with ``docs`` and commit it.

    A new index, ``rebuild``, an index in the older format or of older segmenter/tokenizer
    versions is built whole (the embedding cache spares re-embedding); otherwise only added,
    changed and (unless ``keep_missing``) missing documents are written, as one new segment.
    """
    started = time.perf_counter()
    if (directory / MANIFEST).is_file() and not is_segmented(directory) and not rebuild:
        log.warning("%s: index format is outdated; rebuilding it", directory)
    if rebuild or not is_segmented(directory) or not _reusable(directory):
        counted: list[int] = []

        def counting(stream: Iterable[Document]) -> Iterable[Document]:
            for doc in stream:
                counted.append(1)
                yield doc

        index, embedded, reused = build_segmented(
            directory, counting(_unique(docs)), encoder, cache, kind=kind, progress=progress, nprobe=nprobe
        )
        seconds = time.perf_counter() - started
        return index, IndexSummary(len(counted), 0, 0, 0, len(index.chunks), embedded, reused, seconds)
    index = open_segmented(directory, nprobe=nprobe)
    changed: list[Document] = []
    seen: set[str] = set()
    added = updated = unchanged = 0
    for doc in _unique(docs):
        seen.add(doc.id)
        old = index.documents.get(doc.id)
        if old is not None and old.checksum == doc.checksum and old.meta.as_dict() == doc.meta.as_dict():
            unchanged += 1
            continue
        added, updated = (added + 1, updated) if old is None else (added, updated + 1)
        changed.append(doc)
    missing = [] if keep_missing else [d for d in index.documents if d not in seen]
    embedded = reused = 0
    if changed:
        _check_model(directory, index.model_id, encoder)
    if changed or missing:
        index, embedded, reused = apply_changes(directory, index, changed, missing, encoder, cache, kind=kind)
    seconds = time.perf_counter() - started
    summary = IndexSummary(added, updated, len(missing), unchanged, len(index.chunks), embedded, reused, seconds)
    return index, summary
