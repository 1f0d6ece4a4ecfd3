"""Writes to an index in Milvus: whole documents added, replaced or removed, each one committed on its own.

A document version is written in three steps: its text and sentences (chunks, both dense views)
under the new version's ids, then its ``documents`` row flips to that version (one upsert: the
moment readers see it), then the old version's rows are deleted. A removal deletes the row
first, so readers drop its sentences at once, and then the rest. Each step is idempotent (the
ids come from the content), so an interrupted run is finished by running it again. A removal is
marked in ``meta`` before its row goes and unmarked once its rows are gone: the next write or
index run finishes any removal interrupted in between (:func:`finish_removals`), so no sentence
row outlives its document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from embeddings import EmbeddingCache, Encoder
from qa.errors import NotFoundError
from qa.index.milvus.connection import backend_errors, literal
from qa.index.milvus.documents import PART_CHARS, chunk_ids, content_version, document_row, file_rows, text_rows
from qa.index.milvus.lexical import lexical_text, tokens_text
from qa.index.milvus.reads import MilvusIndex
from qa.index.milvus.schema import PLACEHOLDER
from qa.index.segment_writes import Prepared, prepare_documents
from qa.types import Document

#: documents prepared (segmented, tokenized, embedded) together
BATCH_DOCUMENTS = 64
#: id prefix of the ``meta`` rows marking a removal under way (the row's value is the document id)
REMOVING = "removing:"


def _chunk_rows(doc: Document, version: int, prepared: Prepared) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``chunks`` rows of a document version, and the ``texts`` rows of sentences too long for their field."""
    rows, spilled = [], []
    ids = chunk_ids(version, len(prepared.chunks))
    for chunk_id, (c, tokens, key, context_key) in zip(ids, prepared.chunks, strict=True):
        long = len(c.text) > PART_CHARS or len(c.cited) > PART_CHARS
        if long:
            spilled += text_rows(f"c{chunk_id}t", doc.id, version, c.text)
            spilled += text_rows(f"c{chunk_id}c", doc.id, version, c.cited)
        rows.append(
            {
                "id": chunk_id,
                "doc": doc.id,
                "version": version,
                "idx": c.index,
                "start": c.start,
                "end": c.end,
                "line": c.line,
                "paragraph": c.paragraph,
                "page": -1 if c.page is None else c.page,
                "heading": json.dumps(list(c.heading), ensure_ascii=False),
                "text": "" if long else c.text,
                "cited": "" if long or c.cited == c.text else c.cited,
                "spilled": long,
                "tokens": tokens_text(tokens),
                "key": key,
                "context_key": context_key,
                "date": doc.meta.date or "",
                "lex": lexical_text(tokens),
            }
        )
    return rows, spilled


def _upsert(index: MilvusIndex, collection: str, rows: list[dict[str, Any]], batch: int = 500) -> None:
    with backend_errors(index.cols.uri):
        for start in range(0, len(rows), batch):
            index.cols.client.upsert(collection, rows[start : start + batch])


def _delete_rows(index: MilvusIndex, where: str) -> None:
    cols = index.cols
    with backend_errors(cols.uri):
        for name in (cols.chunks, cols.texts):
            cols.client.delete(name, filter=where)
    for dense in (cols.sentence, cols.context):
        dense.delete(where)


def write_document(index: MilvusIndex, doc: Document, prepared: Prepared) -> None:
    """Write one document version, make it current, then delete the rows of its other versions."""
    cols, version = index.cols, content_version(doc)
    chunks, spilled = _chunk_rows(doc, version, prepared)
    texts = text_rows(f"d{version}", doc.id, version, doc.original) + spilled + file_rows(doc, version)
    _upsert(index, cols.texts, texts)
    _upsert(index, cols.chunks, chunks)
    ids = [r["id"] for r in chunks]
    for dense, vectors in ((cols.sentence, prepared.vectors), (cols.context, prepared.context_vectors)):
        dense.upsert(ids, [doc.id] * len(ids), [version] * len(ids), vectors, [doc.meta.date or ""] * len(ids))
    _upsert(index, cols.documents, [document_row(doc, version, len(chunks))])
    _delete_rows(index, f"doc == {literal(doc.id)} and version != {version}")
    index.forget()


def _removal_mark(doc_id: str) -> str:
    return REMOVING + hashlib.sha256(doc_id.encode("utf-8")).hexdigest()


def remove_document(index: MilvusIndex, doc_id: str) -> None:
    """Remove a document: mark the removal, delete its row (readers stop seeing it), its rows, then the mark."""
    cols = index.cols
    with backend_errors(cols.uri):
        cols.client.upsert(cols.meta, [{"id": _removal_mark(doc_id), "value": doc_id, "placeholder": PLACEHOLDER}])
        cols.client.delete(cols.documents, ids=[doc_id])
    _delete_rows(index, f"doc == {literal(doc_id)}")
    with backend_errors(cols.uri):
        cols.client.delete(cols.meta, ids=[_removal_mark(doc_id)])
    index.forget()


def finish_removals(index: MilvusIndex) -> list[str]:
    """Delete the rows of documents whose removal was interrupted after their row went; returns their ids.

    Readers saw none of those rows (their document has no current version). A marked document
    that still has a row is being removed right now, or was written again since (which deleted
    its other versions' rows): it is left to that writer.
    """
    cols = index.cols
    with backend_errors(cols.uri):
        marks = cols.client.query(cols.meta, filter=f'id like "{REMOVING}%"', output_fields=["value"])
    if not marks:
        return []
    index.documents.forget()  # a row kept from before the interruption would hide it
    present = index.documents.versions([str(m["value"]) for m in marks])
    done = [m for m in marks if m["value"] not in present]
    for mark in done:
        _delete_rows(index, f"doc == {literal(str(mark['value']))}")
    if done:
        with backend_errors(cols.uri):
            cols.client.delete(cols.meta, ids=[str(m["id"]) for m in done])
    return [str(m["value"]) for m in done]


def write_documents(
    index: MilvusIndex,
    docs: Sequence[Document],
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    progress: bool = False,
) -> tuple[int, int]:
    """Prepare and write ``docs`` in batches; returns how many texts were embedded and reused."""
    embedded = reused = 0
    for start in range(0, len(docs), BATCH_DOCUMENTS):
        batch = list(docs[start : start + BATCH_DOCUMENTS])
        prepared, e, r = prepare_documents(batch, encoder, cache, progress=progress)
        embedded, reused = embedded + e, reused + r
        for doc, p in zip(batch, prepared, strict=True):
            write_document(index, doc, p)
        with backend_errors(index.cols.uri):  # a document written again has no rows of an unfinished removal left
            index.cols.client.delete(index.cols.meta, ids=[_removal_mark(d.id) for d in batch])
    return embedded, reused


def apply_changes(
    index: MilvusIndex,
    upserts: Sequence[Document],
    removals: Sequence[str],
    encoder: Encoder,
    cache: EmbeddingCache | None,
) -> tuple[MilvusIndex, int, int]:
    """Remove ``removals`` and add or replace ``upserts``; returns the index, texts embedded and reused.

    A removal of an unknown id raises NotFoundError before anything is written. The index object
    stays the one to read: it always reads what Milvus holds now. Removals an earlier write left
    unfinished are finished first.
    """
    finish_removals(index)
    present = index.documents.versions(list(removals))
    for doc_id in removals:
        if doc_id not in present:
            raise NotFoundError(f"no document {doc_id!r} in the index")
    for doc_id in removals:
        remove_document(index, doc_id)
    embedded, reused = write_documents(index, list(upserts), encoder, cache)
    return index, embedded, reused
