"""One generation's files: written with a checksum each, read back only when they all agree.

A generation folder holds ``documents.jsonl`` (id, checksum, metadata, chunk ids, original
text), ``chunks.jsonl`` (one sentence a line with its vector id, offsets, lexical tokens and
the keys of the texts that were embedded), two vector indexes under the same ids
(``sentence_vectors/``, ``context_vectors/``) and ``manifest.json``, written last, which
records the size and SHA-256 of every other file. Reading checks the checksums, then that row
counts and ids agree across the files; :func:`check_deeply` also re-derives every checksum of
the content and every vector's norm.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.cache import content_key
from embeddings.vector_index import IndexFormatError, VectorIndex, open_vector_index
from qa.errors import InputError
from qa.index.layout import MANIFEST, damaged
from qa.ingest import iter_json_objects, write_json_lines
from qa.types import Chunk, DocumentMeta

DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
SENTENCE_DIR = "sentence_vectors"
CONTEXT_DIR = "context_vectors"
_READ_BLOCK = 1 << 20


def file_digest(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file, as the manifest records them."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
            size += len(block)
    return {"bytes": size, "sha256": digest.hexdigest()}


def write_files(
    folder: Path, documents: list[dict[str, Any]], chunks: list[dict[str, Any]], vectors: dict[str, VectorIndex]
) -> dict[str, Any]:
    """Write the data files of a generation into ``folder``; returns their digests by relative path."""
    for name, rows in ((DOCUMENTS, documents), (CHUNKS, chunks)):
        with (folder / name).open("w", encoding="utf-8") as handle:
            write_json_lines(handle, rows)
    for name, index in vectors.items():
        (folder / name).mkdir()
        index.save(folder / name)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): file_digest(p) for p in files}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest, the last file of a generation."""
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def verify_files(directory: Path, folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a generation whose files are missing, or differ from their size and checksum in the manifest."""
    files = manifest.get("files")
    where = folder.relative_to(directory).as_posix() if folder != directory else "."
    if not isinstance(files, dict) or not {DOCUMENTS, CHUNKS} <= set(files):
        raise damaged(directory, f"{where}/{MANIFEST} lists no file checksums")
    for name, expected in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            raise damaged(directory, f"{where}/{name} is missing")
        if file_digest(path) != expected:
            raise damaged(directory, f"{where}/{name} does not match its checksum in {MANIFEST}")


def _rows(directory: Path, path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for _, row in iter_json_objects(handle, path.name):
                yield row
    except FileNotFoundError:
        raise damaged(directory, f"{path.name} is missing") from None
    except (InputError, UnicodeDecodeError) as exc:
        raise damaged(directory, str(exc)) from None


def read_documents(directory: Path, folder: Path) -> dict[str, tuple[str, str, DocumentMeta, tuple[int, ...]]]:
    """Documents by id: (original text, checksum, metadata, chunk ids)."""
    out = {}
    for row in _rows(directory, folder / DOCUMENTS):
        try:
            meta = DocumentMeta(
                **{k: v for k, v in row["meta"].items() if k != "extra"}, extra=row["meta"].get("extra", {})
            )
            out[row["id"]] = (row["text"], row["checksum"], meta, tuple(int(i) for i in row["chunk_ids"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise damaged(directory, f"{DOCUMENTS}: a document lacks {exc}") from None
    return out


StoredChunk = tuple[int, Chunk, list[str], str, str]


def read_chunks(directory: Path, folder: Path, originals: dict[str, str]) -> Iterator[StoredChunk]:
    """(vector id, chunk, lexical tokens, key, context key) for every stored sentence.

    Damaged if a sentence cites outside its document or lacks a field.
    """
    for row in _rows(directory, folder / CHUNKS):
        try:
            original = originals[row["source"]]
            start, end = row["start"], row["end"]
            if not 0 <= start < end <= len(original):
                raise damaged(
                    directory,
                    f"{CHUNKS}: sentence {row['id']} cites [{start}:{end}] of {row['source']!r}, "
                    f"whose text has {len(original)} characters",
                )
            chunk = Chunk(
                source=row["source"],
                index=row["index"],
                start=start,
                end=end,
                text=row["text"],
                cited=original[start:end],
                line=row["line"],
                paragraph=row["paragraph"],
                heading=tuple(row["heading"]),
            )
            stored = (int(row["id"]), chunk, list(row["tokens"]), str(row["key"]), str(row["context_key"]))
        except KeyError as exc:
            raise damaged(directory, f"{CHUNKS}: a sentence lacks or names an unknown {exc}") from None
        except TypeError as exc:
            raise damaged(directory, f"{CHUNKS}: a malformed sentence ({exc})") from None
        yield stored


def read_vectors(directory: Path, folder: Path, name: str, dim: int) -> VectorIndex:
    """One of the two vector indexes, refused when unreadable or of another dimension."""
    try:
        index = open_vector_index(folder / name)
    except IndexFormatError as exc:
        raise damaged(directory, f"{name}: {exc}") from None
    if index.dim != dim:
        raise damaged(directory, f"{name} holds vectors of dimension {index.dim}, the manifest says {dim}")
    return index


def check_structure(
    directory: Path,
    manifest: dict[str, Any],
    documents: dict[str, tuple[str, tuple[int, ...]]],
    chunk_sources: dict[int, str],
    vectors: dict[str, VectorIndex],
) -> None:
    """Row counts and ids agree across the files: manifest, documents (checksum, chunk ids), chunks, vectors."""
    if manifest.get("chunks") != len(chunk_sources):
        raise damaged(
            directory, f"{CHUNKS} holds {len(chunk_sources)} sentences, {MANIFEST} says {manifest.get('chunks')}"
        )
    if manifest.get("documents") != {doc_id: checksum for doc_id, (checksum, _) in documents.items()}:
        raise damaged(directory, f"{DOCUMENTS} and {MANIFEST} list different documents or checksums")
    doc_chunks = {doc_id: ids for doc_id, (_, ids) in documents.items()}
    owned = {i: doc_id for doc_id, ids in doc_chunks.items() for i in ids}
    if owned != chunk_sources:
        raise damaged(directory, f"the sentences of {CHUNKS} and the chunk ids of {DOCUMENTS} disagree")
    ids = set(chunk_sources)
    for name, index in vectors.items():
        if len(index) != len(ids) or set(index.ids().tolist()) != ids:
            raise damaged(directory, f"{name} holds {len(index)} vectors, not the {len(ids)} sentences of {CHUNKS}")


def check_content(
    directory: Path,
    checksums: dict[str, str],
    originals: dict[str, str],
    keys: dict[int, tuple[str, str]],
    vectors: dict[str, VectorIndex],
) -> None:
    """The deep check: each text matches its checksum, each sentence its key, each vector has unit length."""
    for doc_id, text in originals.items():
        if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != checksums[doc_id]:
            raise damaged(directory, f"{DOCUMENTS}: the text of {doc_id!r} does not match its checksum")
    for chunk_id, (text, key) in keys.items():
        if content_key(text) != key:
            raise damaged(directory, f"{CHUNKS}: sentence {chunk_id} does not match its embedding key")
    for name, index in vectors.items():
        ids = index.ids()
        norms = np.linalg.norm(index.vectors(ids), axis=1) if len(ids) else np.ones(0)
        if not np.all(np.abs(norms - 1.0) < 1e-3):
            raise damaged(directory, f"{name} holds vectors that are not unit length")
