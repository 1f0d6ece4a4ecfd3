"""One immutable segment of an index: documents, sentences, postings and vectors of rows ``0..n-1``.

A segment folder, written once by :class:`SegmentWriter` and never changed::

    store.sqlite       documents (id, checksum, metadata, original text, first row, row count, page
                       starts, the kind of file it was read from), files (the PDF or DOCX bytes of a
                       binary document), chunks (one sentence a row: offsets, the cited text where it
                       differs from the clean one, line, page, heading, lexical tokens, embedding keys),
                       terms (where each token's postings start)
    lex_*.npy          BM25 postings (see qa.index.postings), memory-mapped
    sentence.faiss     the vectors of the sentences alone, rows 0..n-1 (embeddings.vector_index.segment)
    context.faiss      the vectors of the sentences in context, same rows
    segment.json       row and document counts, vector kind, size of every file

Readers open the SQLite file read-only and immutable and read a row when a hit needs it:
nothing is parsed into memory at open. A document's sentences are consecutive rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.vector_index.segment import SegmentVectors, VectorKind, write_segment_vectors
from qa.index.postings import PostingsWriter, SegmentPostings
from qa.types import Chunk, DocumentMeta

STORE = "store.sqlite"
SENTENCE_FILE = "sentence.faiss"
CONTEXT_FILE = "context.faiss"
INFO = "segment.json"
_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, meta TEXT NOT NULL, text TEXT NOT NULL,
                        first INTEGER NOT NULL, count INTEGER NOT NULL, pages TEXT, file_kind TEXT);
CREATE TABLE files (id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, source TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
                     end INTEGER NOT NULL, text TEXT NOT NULL, cited TEXT, line INTEGER NOT NULL,
                     paragraph INTEGER NOT NULL, heading TEXT NOT NULL, page INTEGER, tokens TEXT NOT NULL,
                     key TEXT NOT NULL, context_key TEXT NOT NULL);
"""
_CHUNK_COLUMNS = "row, source, idx, start, end, text, cited, line, paragraph, heading, page, key, context_key, tokens"


@dataclass(frozen=True)
class SegmentDocument:
    """A document as a segment stores it; its sentences are rows ``first .. first + count - 1``."""

    id: str
    original: str
    checksum: str
    meta: DocumentMeta
    first: int
    count: int
    pages: tuple[int, ...] = ()
    file_kind: str | None = None  # "pdf" / "docx": the segment keeps the file's bytes


@dataclass(frozen=True)
class SegmentChunk:
    """A sentence as a segment stores it, with its embedding keys and its lexical tokens (as stored: JSON)."""

    row: int
    chunk: Chunk
    key: str
    context_key: str
    tokens_json: str

    @property
    def tokens(self) -> list[str]:
        """The sentence's lexical tokens."""
        return list(json.loads(self.tokens_json))


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _empty(dim: int) -> np.ndarray:
    return np.empty((0, dim), dtype=np.float32)


def meta_from_dict(raw: dict[str, Any]) -> DocumentMeta:
    """DocumentMeta from its saved form."""
    return DocumentMeta(**{k: v for k, v in raw.items() if k != "extra"}, extra=raw.get("extra", {}))


class SegmentWriter:
    """Writes a segment folder: documents are appended in order, then :meth:`finish` builds the indexes."""

    def __init__(self, folder: Path, dim: int) -> None:
        """Start a segment in the new folder ``folder`` for ``dim``-dimensional vectors."""
        self.folder, self.dim, self.rows = folder, dim, 0
        folder.mkdir(parents=True)
        self._db = sqlite3.connect(folder / STORE, isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;" + _SCHEMA)
        self._vectors = [(folder / f".{name}.f32").open("wb") for name in ("sentence", "context")]
        self.documents = 0
        self._postings = PostingsWriter()

    def add(
        self,
        doc: SegmentDocument,
        chunks: Sequence[tuple[Chunk, list[str], str, str]],
        vectors: np.ndarray,
        context_vectors: np.ndarray,
        file_data: bytes | None = None,
    ) -> None:
        """Append one document: its sentences (chunk, tokens, key, context key) and their two vectors each,
        and the bytes of the file it was read from where ``doc.file_kind`` names one."""
        first = self.rows
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc.id,
                doc.checksum,
                json.dumps(doc.meta.as_dict(), ensure_ascii=False),
                doc.original,
                first,
                len(chunks),
                json.dumps(list(doc.pages)) if doc.pages else None,
                doc.file_kind,
            ),
        )
        if doc.file_kind is not None and file_data is not None:
            self._db.execute("INSERT INTO files VALUES (?, ?)", (doc.id, file_data))
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    first + i,
                    c.source,
                    c.index,
                    c.start,
                    c.end,
                    c.text,
                    None if c.cited == c.text else c.cited,
                    c.line,
                    c.paragraph,
                    json.dumps(list(c.heading), ensure_ascii=False),
                    c.page,
                    json.dumps(tokens, ensure_ascii=False),
                    key,
                    ckey,
                )
                for i, (c, tokens, key, ckey) in enumerate(chunks)
            ),
        )
        for _, tokens, _, _ in chunks:
            self._postings.add(tokens)
        for handle, block in zip(self._vectors, (vectors, context_vectors), strict=True):
            handle.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        self.rows += len(chunks)
        self.documents += 1

    def abandon(self) -> None:
        """Close and remove a segment that will not be finished."""
        for handle in self._vectors:
            handle.close()
        self._db.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self, kind: VectorKind) -> dict[str, Any]:
        """Build postings and vector files, close the store; returns the segment's info (also saved)."""
        for handle in self._vectors:
            handle.close()
        self._postings.write(self.folder, self._db)
        self._db.execute("COMMIT")
        self._db.close()
        kinds = {}
        for name, target in (("sentence", SENTENCE_FILE), ("context", CONTEXT_FILE)):
            raw = self.folder / f".{name}.f32"
            data = np.memmap(raw, dtype=np.float32, mode="r").reshape(-1, self.dim) if self.rows else _empty(self.dim)
            kinds[name] = write_segment_vectors(self.folder / target, data, kind)
            del data
            raw.unlink()
        files = {p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in sorted(self.folder.iterdir())}
        info = {"rows": self.rows, "documents": self.documents, "dim": self.dim, "kinds": kinds, "files": files}
        (self.folder / INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
        return info


class Segment:
    """A segment opened for reading: rows are read from SQLite when asked for, vectors and postings mapped."""

    def __init__(self, folder: Path, *, nprobe: int | None = None) -> None:
        """Open the segment in ``folder`` (ValueError if its files do not match segment.json)."""
        self.folder = folder
        self.info = json.loads((folder / INFO).read_text(encoding="utf-8"))
        for name, expected in self.info["files"].items():
            if (folder / name).stat().st_size != expected["bytes"]:
                raise ValueError(
                    f"{folder.name}/{name} has {(folder / name).stat().st_size} bytes, not {expected['bytes']}"
                )
        self.rows = int(self.info["rows"])
        uri = f"{(folder / STORE).absolute().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file now, not at the first hit
        self._lock = threading.Lock()
        self.sentence = SegmentVectors(folder / SENTENCE_FILE, nprobe=nprobe)
        self.context = SegmentVectors(folder / CONTEXT_FILE, nprobe=nprobe)
        self.term = lru_cache(maxsize=65536)(self._term)
        self.postings = SegmentPostings(folder, self.term)
        self.document = lru_cache(maxsize=512)(self._document)

    def verify(self) -> None:
        """Check every file against the SHA-256 recorded when the segment was written (ValueError if one differs)."""
        for name, expected in self.info["files"].items():
            if file_sha256(self.folder / name) != expected["sha256"]:
                raise ValueError(f"{self.folder.name}/{name} does not match its checksum")

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _term(self, token: str) -> tuple[int, int] | None:
        """(start, count) of a token's postings, or None (``term`` is this, with the lookups kept)."""
        found = self._query("SELECT start, count FROM terms WHERE token = ?", (token,))
        return (int(found[0][0]), int(found[0][1])) if found else None

    def _document(self, doc_id: str) -> SegmentDocument | None:
        sql = "SELECT id, text, checksum, meta, first, count, pages, file_kind FROM documents WHERE id = ?"
        found = self._query(sql, (doc_id,))
        if not found:
            return None
        i, text, checksum, meta, first, count, pages, kind = found[0]
        pages_ = tuple(json.loads(pages)) if pages else ()
        return SegmentDocument(i, text, checksum, meta_from_dict(json.loads(meta)), first, count, pages_, kind)

    def file_data(self, doc_id: str) -> bytes | None:
        """The bytes of the PDF or DOCX file a document of this segment was read from, or None."""
        found = self._query("SELECT data FROM files WHERE id = ?", (doc_id,))
        return bytes(found[0][0]) if found else None

    def document_ids(self) -> list[str]:
        """Every document id of the segment."""
        return [row[0] for row in self._query("SELECT id FROM documents")]

    def chunks(self, rows: Sequence[int]) -> list[SegmentChunk]:
        """The sentences of ``rows``, in that order (KeyError for a row not in the segment)."""
        wanted = sorted({int(r) for r in rows})
        found: dict[int, SegmentChunk] = {}
        for start in range(0, len(wanted), 500):
            block = wanted[start : start + 500]
            sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE row IN ({','.join('?' * len(block))})"
            for row in self._query(sql, block):
                found[row[0]] = self._chunk(row)
        return [found[int(r)] for r in rows]

    def _chunk(self, row: tuple[Any, ...]) -> SegmentChunk:
        r, source, idx, start, end, text, cited, line, paragraph, heading, page, key, ckey, tokens = row
        cited = text if cited is None else cited
        chunk = Chunk(source, idx, start, end, text, cited, line, paragraph, tuple(json.loads(heading)), page)
        return SegmentChunk(r, chunk, key, ckey, tokens)
