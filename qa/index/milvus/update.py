"""Opening an index in Milvus, and ``qa index`` into one: idempotent, resumable, only changed documents re-sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from itertools import islice

from embeddings import EmbeddingCache, Encoder
from qa.errors import NotFoundError
from qa.index.context_view import CONTEXT_VIEW
from qa.index.lexical import TOKENIZER_VERSION
from qa.index.milvus.connection import MilvusTarget, backend_errors, check_version, connect, server_version
from qa.index.milvus.documents import content_version
from qa.index.milvus.reads import MilvusIndex, check_meta, read_meta
from qa.index.milvus.schema import PLACEHOLDER, Collections
from qa.index.milvus.writes import BATCH_DOCUMENTS, finish_removals, remove_document, write_documents
from qa.index.update import IndexSummary
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION
from qa.types import Document

FORMAT = "milvus-1"


def _versions() -> dict[str, str]:
    return {
        "format": FORMAT,
        "segmenter_version": SEGMENTER_VERSION,
        "context_version": CONTEXT_VERSION,
        "tokenizer_version": TOKENIZER_VERSION,
        "context_view": CONTEXT_VIEW,
    }


def _collections(target: MilvusTarget, dim: int = 0) -> Collections:
    client = connect(target.uri, target.token)
    check_version(server_version(client, target.uri), target.uri)
    return Collections(client, target.uri, target.prefix, dim)


def open_milvus(target: MilvusTarget, *, model_id: str | None = None) -> MilvusIndex:
    """The index ``target`` names, checked against the model that will query it (NotFoundError when unbuilt)."""
    cols = _collections(target)
    meta = read_meta(cols)
    if meta is None:
        raise NotFoundError(
            f"no index {target.prefix!r} in Milvus at {target.uri}; "
            "build it with: QA_INDEX_BACKEND=milvus qa index PATH"
        )
    check_meta(meta, cols, model_id, for_query=True)
    cols = Collections(cols.client, cols.uri, cols.prefix, int(meta["dim"]))
    cols.verify_bm25()
    return MilvusIndex(str(meta["model_id"]), int(meta["dim"]), cols)


def is_built(target: MilvusTarget) -> bool:
    """Whether ``target`` holds an index already."""
    return read_meta(_collections(target)) is not None


def create_milvus(target: MilvusTarget, model_id: str, dim: int, *, rebuild: bool = False) -> MilvusIndex:
    """The index ``target`` names, created when absent; rebuilt empty on ``rebuild`` or when built by older code."""
    cols = _collections(target, dim)
    meta = read_meta(cols)
    if meta is not None:
        check_meta(meta, cols, model_id)
    if rebuild or (meta is not None and any(meta.get(k) != v for k, v in _versions().items())):
        cols.drop()
        meta = None
    cols.create()
    if meta is None:
        value = json.dumps({"model_id": model_id, "dim": dim, **_versions()})
        with backend_errors(cols.uri):
            cols.client.upsert(cols.meta, [{"id": "index", "value": value, "placeholder": PLACEHOLDER}])
    return MilvusIndex(model_id, dim, cols)


def sync_milvus(
    target: MilvusTarget,
    docs: Iterable[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    rebuild: bool = False,
    keep_missing: bool = False,
    progress: bool = False,
) -> tuple[MilvusIndex, IndexSummary]:
    """Bring the index ``target`` names in line with ``docs``: write added and changed documents, remove missing ones.

    A document whose content version is already current is not re-sent, so running it again after
    an interruption finishes the work without redoing what was committed (removals included).
    """
    started = time.perf_counter()
    index = create_milvus(target, encoder.model_id, encoder.dim, rebuild=rebuild)
    finish_removals(index)
    stored = index.documents.all_versions()
    seen: set[str] = set()
    added = updated = unchanged = embedded = reused = 0
    it = iter(docs)
    while batch := list(islice(it, BATCH_DOCUMENTS)):
        changed = []
        for doc in batch:
            seen.add(doc.id)
            old = stored.get(doc.id)
            if old == content_version(doc):
                unchanged += 1
                continue
            added, updated = (added + 1, updated) if old is None else (added, updated + 1)
            changed.append(doc)
        e, r = write_documents(index, changed, encoder, cache, progress=progress)
        embedded, reused = embedded + e, reused + r
    missing = [] if keep_missing else sorted(set(stored) - seen)
    for doc_id in missing:
        remove_document(index, doc_id)
    seconds = time.perf_counter() - started
    return index, IndexSummary(added, updated, len(missing), unchanged, len(index.chunks), embedded, reused, seconds)
