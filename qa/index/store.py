"""An index in memory (:class:`CorpusIndex`) and its directory on disk: save, load, verify.

The directory holds generations (see :mod:`qa.index.layout`); each generation holds the
files described in :mod:`qa.index.generation`, with a ``manifest.json`` giving the format
version, model id, dimension, metric, segmenter, context and tokenizer versions, per-document
checksums, the checksum of every file and the package versions. A save writes a new
generation and commits it with one atomic rename of ``CURRENT``; a load checks every file
against the manifest and refuses a damaged index with one line naming the file and the fix.
PDF and DOCX files are kept in the generation too (see :mod:`qa.index.originals`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import VectorIndex, new_vector_index
from qa.errors import IndexConflictError, IndexDamagedError, IndexMismatchError, NotFoundError
from qa.index import generation as files
from qa.index.context_view import CONTEXT_VIEW, check_context_view
from qa.index.layout import (
    MANIFEST,
    commit,
    damaged,
    manifest_folder,
    new_generation,
    package_versions,
    read_current,
    read_manifest_in,
    rebuild_hint,
    remove_leftovers,
    writing,
)
from qa.index.lexical import TOKENIZER_VERSION, LexicalIndex, RowLexical
from qa.index.originals import write_originals
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION
from qa.types import Chunk, DocumentMeta

FORMAT_VERSION = 3
_PACKAGES = ("chuchu", "faiss-cpu", "sentence-transformers", "numpy", "bm25s", "jieba")
_LOAD_ATTEMPTS = 3  # a load that raced a commit retries on the new generation


@dataclass(frozen=True)
class StoredDocument:
    """A document as kept in the index: enough to cite, show and re-check it."""

    id: str
    original: str
    checksum: str
    meta: DocumentMeta
    chunk_ids: tuple[int, ...]
    pages: tuple[int, ...] = ()
    file_kind: str | None = None  # "pdf" / "docx": the original file is kept (see qa.index.originals)
    file_data: bytes | None = field(default=None, repr=False, compare=False)  # until it is saved


def find_document(documents: Mapping[str, StoredDocument], doc_id: str) -> StoredDocument:
    """The document ``doc_id`` of any store's documents, or NotFoundError."""
    try:
        return documents[doc_id]
    except KeyError:
        raise NotFoundError(f"no document {doc_id!r} in the index") from None


@dataclass
class IndexedChunk:
    """A chunk with what the index keeps beside it."""

    chunk: Chunk
    tokens: list[str]
    key: str
    context_key: str


@dataclass
class CorpusIndex:
    """An index in memory: documents, chunks by vector id, the two vector indexes and the lexical index.

    ``sentence_index`` holds the vectors of the sentences alone, ``context_index`` those of the
    sentences in their context, under the same ids. ``generation`` is the committed generation
    this index was loaded from (or, for a new index, the one it replaces): a save refuses to
    overwrite any other.
    """

    model_id: str
    dim: int
    sentence_index: VectorIndex
    context_index: VectorIndex
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    chunks: dict[int, IndexedChunk] = field(default_factory=dict)
    generation: str | None = None

    @classmethod
    def empty(cls, model_id: str, dim: int, *, generation: str | None = None) -> CorpusIndex:
        """An index without documents, for vectors of width ``dim``."""
        return cls(model_id, dim, new_vector_index(dim), new_vector_index(dim), generation=generation)

    @cached_property
    def rows(self) -> np.ndarray:
        """Chunk ids in a fixed order: row ``i`` of the lexical index is chunk ``rows[i]``."""
        return np.array(sorted(self.chunks), dtype=np.int64)

    @cached_property
    def lexical(self) -> RowLexical:
        """BM25 over the stored tokens, built on first use."""
        return RowLexical(LexicalIndex([self.chunks[int(i)].tokens for i in self.rows]), self.rows, self.row_of)

    @cached_property
    def row_of(self) -> dict[int, int]:
        """Lexical row of each chunk id."""
        return {int(chunk_id): row for row, chunk_id in enumerate(self.rows)}

    def invalidate_caches(self) -> None:
        """Forget the structures derived from the chunks (rows, lexical index) after documents changed."""
        for name in ("rows", "lexical", "row_of"):
            self.__dict__.pop(name, None)

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document, or NotFoundError."""
        return find_document(self.documents, doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        return [self.chunks[i].chunk for i in self.document(doc_id).chunk_ids]

    def manifest(self) -> dict[str, Any]:
        """The manifest describing this index (without the file checksums a save adds)."""
        return {
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "metric": "inner_product",
            "segmenter_version": SEGMENTER_VERSION,
            "context_version": CONTEXT_VERSION,
            "tokenizer_version": TOKENIZER_VERSION,
            "context_view": CONTEXT_VIEW,
            "documents": {d.id: d.checksum for d in self.documents.values()},
            "chunks": len(self.chunks),
            "packages": dict(package_versions(_PACKAGES)),
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def save_index(index: CorpusIndex, directory: Path) -> str:
    """Commit ``index`` as the new generation of ``directory``; returns its name.

    Holds the writer lock. IndexConflictError when another writer committed since ``index`` was
    loaded (its ``generation`` is no longer the current one): saving would lose that work.
    """
    directory = Path(directory)
    with writing(directory):
        current = read_current(directory)
        if current != index.generation:
            raise IndexConflictError(
                f"{directory}: the index changed on disk (now {current}) since this copy was loaded "
                f"(from {index.generation}); reload it and apply the change again"
            )
        remove_leftovers(directory)
        folder = new_generation(directory)
        _write_generation(index, folder)
        commit(directory, folder)
        index.generation = folder.name
        remove_leftovers(directory)
    return folder.name


def _write_generation(index: CorpusIndex, folder: Path) -> None:
    docs = [
        {"id": d.id, "checksum": d.checksum, "meta": d.meta.as_dict(), "chunk_ids": d.chunk_ids, "text": d.original}
        | ({"pages": d.pages} if d.pages else {})
        | ({"file_kind": d.file_kind} if d.file_kind else {})
        for d in index.documents.values()
    ]
    previous = folder.parent / index.generation if index.generation else None
    write_originals(folder, previous, index.documents.values())
    chunks = [_chunk_row(i, c) for i, c in sorted(index.chunks.items())]
    vectors = {files.SENTENCE_DIR: index.sentence_index, files.CONTEXT_DIR: index.context_index}
    digests = files.write_files(folder, docs, chunks, vectors)
    files.write_manifest(folder, {**index.manifest(), "files": digests})


def _chunk_row(chunk_id: int, item: IndexedChunk) -> dict[str, Any]:
    c = item.chunk
    return {
        "id": chunk_id,
        "source": c.source,
        "index": c.index,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "line": c.line,
        "paragraph": c.paragraph,
        "heading": list(c.heading),
        "page": c.page,
        "tokens": item.tokens,
        "key": item.key,
        "context_key": item.context_key,
    }


def check_compatible(manifest: dict[str, Any], directory: Path, model_id: str | None) -> None:
    """Refuse an index of another format or model, saying how to rebuild it."""
    rebuild = rebuild_hint(directory)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{directory}: index format {manifest.get('format_version')} is not {FORMAT_VERSION}; {rebuild}"
        )
    if model_id is not None and manifest.get("model_id") != model_id:
        raise IndexMismatchError(
            f"{directory}: index was built with model {manifest.get('model_id')!r}, not {model_id!r}; "
            f"use that model or {rebuild}"
        )


def load_index(
    directory: Path, *, model_id: str | None = None, for_query: bool = True, deep: bool = False
) -> CorpusIndex:
    """Load and verify the index at ``directory``, checking it against the model that will query it.

    Every file is checked against its checksum and the files against each other; ``deep`` also
    re-derives the checksums of every text and the norm of every vector (``qa check``). For
    querying, the stored lexical tokens must come from this tokenizer version too (an update
    re-tokenizes instead, so it passes ``for_query=False``).
    """
    directory = Path(directory)
    for attempt in range(_LOAD_ATTEMPTS):
        current = read_current(directory)
        try:
            return _load_current(directory, model_id, for_query=for_query, deep=deep)
        except (IndexDamagedError, NotFoundError):
            if attempt + 1 == _LOAD_ATTEMPTS or read_current(directory) == current:
                raise  # not a commit racing this load: the index really is like this
    raise AssertionError("unreachable")


def _load_current(directory: Path, model_id: str | None, *, for_query: bool, deep: bool) -> CorpusIndex:
    folder = manifest_folder(directory)
    manifest = read_manifest_in(directory, folder)
    check_compatible(manifest, directory, model_id)
    if for_query and manifest.get("tokenizer_version") != TOKENIZER_VERSION:
        raise IndexMismatchError(
            f"{directory}: index was tokenized by tokenizer version {manifest.get('tokenizer_version')}, "
            f"not {TOKENIZER_VERSION}; update it with: qa index PATH --index {directory}"
        )
    if for_query:
        check_context_view(manifest, directory)
    files.verify_files(directory, folder, manifest)
    index = _read_generation(directory, folder, manifest, deep=deep)
    index.generation = folder.name
    return index


def _read_generation(directory: Path, folder: Path, manifest: dict[str, Any], *, deep: bool) -> CorpusIndex:
    try:
        model_id, dim = str(manifest["model_id"]), int(manifest["dim"])
    except (KeyError, TypeError, ValueError):
        raise damaged(directory, f"{MANIFEST} gives no model id and dimension") from None
    vectors = {
        name: files.read_vectors(directory, folder, name, dim) for name in (files.SENTENCE_DIR, files.CONTEXT_DIR)
    }
    index = CorpusIndex(model_id, dim, vectors[files.SENTENCE_DIR], vectors[files.CONTEXT_DIR])
    stored = files.read_documents(directory, folder)
    originals = {doc_id: doc.text for doc_id, doc in stored.items()}
    keys: dict[int, tuple[str, str]] = {}
    for chunk_id, chunk, tokens, key, context_key in files.read_chunks(directory, folder, originals):
        if chunk_id in index.chunks:
            raise damaged(directory, f"{files.CHUNKS}: sentence id {chunk_id} appears twice")
        index.chunks[chunk_id] = IndexedChunk(chunk, tokens, key, context_key)
        keys[chunk_id] = (chunk.text, key)
    for doc_id, doc in stored.items():
        index.documents[doc_id] = StoredDocument(
            doc_id, doc.text, doc.checksum, doc.meta, doc.chunk_ids, doc.pages, doc.file_kind
        )
    sources = {i: item.chunk.source for i, item in index.chunks.items()}
    files.check_structure(
        directory, manifest, {d: (doc.checksum, doc.chunk_ids) for d, doc in stored.items()}, sources, vectors
    )
    if deep:
        checksums = {doc_id: doc.checksum for doc_id, doc in stored.items()}
        files.check_content(directory, checksums, originals, keys, vectors)
    return index
