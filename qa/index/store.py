"""An index is a directory: vectors, chunk metadata, documents and a manifest.

Files: ``manifest.json`` (format version, model id, dimension, metric, segmenter, context
and tokenizer versions, per-document checksums, package versions), ``documents.jsonl``
(id, checksum, metadata, original text), ``chunks.jsonl`` (one sentence a line with its
vector id, offsets, lexical tokens and the keys of the texts that were embedded) and two
vector indexes under the same ids: the sentences alone and the sentences in context.
A save writes a temporary sibling directory and renames it into place, so a crash never leaves a half-written index.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import VectorIndex, new_vector_index, open_vector_index
from qa.errors import IndexMismatchError, NotFoundError
from qa.index.lexical import TOKENIZER_VERSION, LexicalIndex
from qa.ingest import CONTEXT_VERSION, SEGMENTER_VERSION
from qa.types import Chunk, DocumentMeta

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
SENTENCE_DIR = "sentence_vectors"
CONTEXT_DIR = "context_vectors"
_PACKAGES = ("chuchu", "faiss-cpu", "sentence-transformers", "numpy", "bm25s", "jieba")


@dataclass(frozen=True)
class StoredDocument:
    """A document as kept in the index: enough to cite, show and re-check it."""

    id: str
    original: str
    checksum: str
    meta: DocumentMeta
    chunk_ids: tuple[int, ...]


@dataclass
class IndexedChunk:
    """A chunk with what the index keeps beside it."""

    chunk: Chunk
    tokens: list[str]
    key: str
    context_key: str


@dataclass
class CorpusIndex:
    """An index in memory: documents, chunks by vector id, the vector index and the lexical index."""

    model_id: str
    dim: int
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    chunks: dict[int, IndexedChunk] = field(default_factory=dict)
    vectors: VectorIndex | None = None
    context_vectors: VectorIndex | None = None

    def __post_init__(self) -> None:
        if self.vectors is None:
            self.vectors = new_vector_index(self.dim)
        if self.context_vectors is None:
            self.context_vectors = new_vector_index(self.dim)

    @property
    def vector_index(self) -> VectorIndex:
        """Vectors of the sentences alone (always present after construction)."""
        assert self.vectors is not None
        return self.vectors

    @property
    def context_index(self) -> VectorIndex:
        """Vectors of the sentences with their context, under the same ids."""
        assert self.context_vectors is not None
        return self.context_vectors

    @cached_property
    def rows(self) -> np.ndarray:
        """Chunk ids in a fixed order: row ``i`` of the lexical index is chunk ``rows[i]``."""
        return np.array(sorted(self.chunks), dtype=np.int64)

    @cached_property
    def lexical(self) -> LexicalIndex:
        """BM25 over the stored tokens, built on first use."""
        return LexicalIndex([self.chunks[int(i)].tokens for i in self.rows])

    def changed(self) -> None:
        """Forget derived structures after documents were added or removed."""
        self.__dict__.pop("rows", None)
        self.__dict__.pop("lexical", None)
        self.__dict__.pop("row_of", None)

    @cached_property
    def row_of(self) -> dict[int, int]:
        """Lexical row of each chunk id."""
        return {int(chunk_id): row for row, chunk_id in enumerate(self.rows)}

    def document(self, doc_id: str) -> StoredDocument:
        """A stored document, or NotFoundError."""
        try:
            return self.documents[doc_id]
        except KeyError:
            raise NotFoundError(f"no document {doc_id!r} in the index") from None

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        return [self.chunks[i].chunk for i in self.document(doc_id).chunk_ids]

    def manifest(self) -> dict[str, Any]:
        """The manifest describing this index."""
        return {
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "metric": "inner_product",
            "segmenter_version": SEGMENTER_VERSION,
            "context_version": CONTEXT_VERSION,
            "tokenizer_version": TOKENIZER_VERSION,
            "documents": {d.id: d.checksum for d in self.documents.values()},
            "chunks": len(self.chunks),
            "packages": _package_versions(),
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def save_index(index: CorpusIndex, directory: Path) -> None:
    """Write the index atomically: into a temporary sibling, then renamed over ``directory``."""
    directory = directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.parent / f".{directory.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        docs = [
            {"id": d.id, "checksum": d.checksum, "meta": d.meta.as_dict(), "chunk_ids": d.chunk_ids, "text": d.original}
            for d in index.documents.values()
        ]
        _write_jsonl(tmp / "documents.jsonl", docs)
        _write_jsonl(tmp / "chunks.jsonl", [_chunk_row(i, c) for i, c in sorted(index.chunks.items())])
        for name, vectors in ((SENTENCE_DIR, index.vector_index), (CONTEXT_DIR, index.context_index)):
            (tmp / name).mkdir()
            vectors.save(tmp / name)
        (tmp / MANIFEST).write_text(json.dumps(index.manifest(), ensure_ascii=False, indent=1), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = directory.parent / f".{directory.name}.old-{os.getpid()}"
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


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
        "tokens": item.tokens,
        "key": item.key,
        "context_key": item.context_key,
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an index directory, or NotFoundError with a hint to build one."""
    path = directory / MANIFEST
    if not path.is_file():
        raise NotFoundError(f"{directory}: no index here (build one with: qa index PATH --index {directory})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(f"{directory}: unreadable {MANIFEST} ({exc}); {_rebuild_hint(directory)}") from None
    if not isinstance(manifest, dict):
        raise IndexMismatchError(f"{directory}: {MANIFEST} is not a JSON object; {_rebuild_hint(directory)}")
    return manifest


def _rebuild_hint(directory: Path) -> str:
    return f"rebuild it with: qa index PATH --index {directory} --rebuild"


def check_compatible(manifest: dict[str, Any], directory: Path, model_id: str | None) -> None:
    """Refuse an index of another format, model or tokenizer, saying how to rebuild it."""
    rebuild = _rebuild_hint(directory)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{directory}: index format {manifest.get('format_version')} is not {FORMAT_VERSION}; {rebuild}"
        )
    if model_id is not None and manifest.get("model_id") != model_id:
        raise IndexMismatchError(
            f"{directory}: index was built with model {manifest.get('model_id')!r}, not {model_id!r}; "
            f"use that model or {rebuild}"
        )


def load_index(directory: Path, *, model_id: str | None = None, for_query: bool = True) -> CorpusIndex:
    """Load an index directory, checking it against the model that will query it.

    For querying, the stored lexical tokens must come from this tokenizer version too (an
    update re-tokenizes instead, so it passes ``for_query=False``).
    """
    from qa.index.generations import is_segmented, open_segmented  # the segmented format builds on this module

    if is_segmented(directory):
        return open_segmented(directory, model_id=model_id)  # type: ignore[return-value]
    manifest = read_manifest(directory)
    check_compatible(manifest, directory, model_id)
    if for_query and manifest.get("tokenizer_version") != TOKENIZER_VERSION:
        raise IndexMismatchError(
            f"{directory}: index was tokenized by tokenizer version {manifest.get('tokenizer_version')}, "
            f"not {TOKENIZER_VERSION}; update it with: qa index PATH --index {directory}"
        )
    try:
        return _load_checked(directory, manifest)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged file (IndexFormatError is a ValueError)
        raise IndexMismatchError(
            f"{directory}: damaged index ({type(exc).__name__}: {exc}); {_rebuild_hint(directory)}"
        ) from None


def _load_checked(directory: Path, manifest: dict[str, Any]) -> CorpusIndex:
    vectors = open_vector_index(directory / SENTENCE_DIR)
    context = open_vector_index(directory / CONTEXT_DIR)
    if {vectors.dim, context.dim} != {manifest["dim"]}:
        raise IndexMismatchError(f"{directory}: vectors have dimension {vectors.dim}, manifest says {manifest['dim']}")
    index = CorpusIndex(manifest["model_id"], manifest["dim"], vectors=vectors, context_vectors=context)
    for row in _read_jsonl(directory / "documents.jsonl"):
        meta = DocumentMeta(
            **{k: v for k, v in row["meta"].items() if k != "extra"}, extra=row["meta"].get("extra", {})
        )
        index.documents[row["id"]] = StoredDocument(
            row["id"], row["text"], row["checksum"], meta, tuple(row["chunk_ids"])
        )
    for row in _read_jsonl(directory / "chunks.jsonl"):
        original = index.documents[row["source"]].original
        chunk = Chunk(
            source=row["source"],
            index=row["index"],
            start=row["start"],
            end=row["end"],
            text=row["text"],
            cited=original[row["start"] : row["end"]],
            line=row["line"],
            paragraph=row["paragraph"],
            heading=tuple(row["heading"]),
        )
        index.chunks[row["id"]] = IndexedChunk(chunk, row["tokens"], row["key"], row["context_key"])
    return index
