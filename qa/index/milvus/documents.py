"""Documents in Milvus: their rows (current version, checksum, metadata), their texts in parts, and a Mapping view.

A row read is kept for :data:`~qa.index.milvus.connection.KEEP_SECONDS` (the reads of one question
share it) and forgotten at once when this process writes.

A document's row names its current version; its text is kept in the ``texts`` collection in
parts that each fit one VARCHAR, under an owner key of that version, so a new version's text is
written beside the old one and the row flips to it in one upsert. The PDF or DOCX file a
document was read from is kept there too, base64 in parts under ``f<version>``; the row's
``pages`` field holds ``{"pages": [...], "file": kind}`` for such a document (a plain list before).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from qa.errors import IndexDamagedError, IndexMismatchError, NotFoundError
from qa.index.milvus.connection import KEEP_SECONDS, backend_errors
from qa.index.milvus.schema import PLACEHOLDER
from qa.index.segment import meta_from_dict
from qa.index.store import StoredDocument
from qa.types import Document

#: characters of text per part: 4 UTF-8 bytes at most each, so a part fits a 65,535-byte VARCHAR
PART_CHARS = 16_000
_MASK = (1 << 63) - 1
_CACHED_DOCUMENTS = 256
_FIELDS = ["version", "checksum", "meta", "chunks", "pages", "parts"]


def _hash63(*parts: object) -> int:
    digest = hashlib.blake2b(json.dumps(parts, ensure_ascii=False).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _MASK or 1


def content_version(doc: Document) -> int:
    """The version of a document's content: the same id, text and metadata always give the same one."""
    return _hash63(doc.id, doc.checksum, doc.meta.as_dict(), list(doc.pages))


def chunk_ids(version: int, count: int) -> tuple[int, ...]:
    """The ids of the ``count`` sentences of a document version (positive 63-bit ints)."""
    return tuple(_hash63(version, i) for i in range(count))


def text_rows(owner: str, doc_id: str, version: int, text: str) -> list[dict[str, Any]]:
    """The ``texts`` rows holding ``text`` under ``owner``, in parts."""
    parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
    return [
        {"id": f"{owner}:{n}", "owner": owner, "doc": doc_id, "version": version, "part": n, "text": part}
        | {"placeholder": PLACEHOLDER}
        for n, part in enumerate(parts)
    ]


def read_texts(client: Any, uri: str, collection: str, owners: Sequence[str]) -> dict[str, str]:
    """The texts of ``owners`` (their parts joined in order); an owner with no part is left out."""
    if not owners:
        return {}
    with backend_errors(uri):
        rows = client.query(
            collection,
            filter=f"owner in {json.dumps(list(owners), ensure_ascii=False)}",
            output_fields=["owner", "part", "text"],
        )
    parts: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        parts.setdefault(str(row["owner"]), []).append((int(row["part"]), str(row["text"])))
    return {owner: "".join(t for _, t in sorted(p)) for owner, p in parts.items()}


def document_row(doc: Document, version: int, count: int) -> dict[str, Any]:
    """The ``documents`` row of a document version with ``count`` sentences."""
    return {
        "id": doc.id,
        "version": version,
        "checksum": doc.checksum,
        "meta": doc.meta.as_dict(),
        "chunks": count,
        "pages": json.dumps({"pages": list(doc.pages), "file": doc.file.kind} if doc.file else list(doc.pages)),
        "parts": len(text_rows("", doc.id, version, doc.original)),
        "placeholder": PLACEHOLDER,
    }


def file_rows(doc: Document, version: int) -> list[dict[str, Any]]:
    """The ``texts`` rows keeping the PDF or DOCX file ``doc`` was read from (none for a text document)."""
    if doc.file is None:
        return []
    return text_rows(f"f{version}", doc.id, version, base64.b64encode(doc.file.data).decode("ascii"))


def _layout(pages: str) -> tuple[tuple[int, ...], str | None]:
    """The page starts and the kept file's kind from a row's ``pages`` field."""
    value = json.loads(pages)
    if isinstance(value, dict):
        return tuple(value["pages"]), value.get("file")
    return tuple(value), None


def scan(client: Any, uri: str, collection: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Every row of ``collection`` (its id and ``fields``), read in batches."""
    with backend_errors(uri):
        found = client.query_iterator(collection, batch_size=1000, filter="", output_fields=list(fields))
        try:
            while batch := found.next():
                yield from batch
        finally:
            found.close()


class MilvusDocuments(Mapping[str, StoredDocument]):
    """The documents of the index by id, read from Milvus on access (texts of recent versions cached)."""

    def __init__(self, client: Any, uri: str, collection: str, texts: str) -> None:
        """Rows of ``collection``, texts of ``texts``, through ``client``."""
        self.client, self.uri, self.collection, self.texts = client, uri, collection, texts
        self._cache: OrderedDict[tuple[str, int], StoredDocument] = OrderedDict()
        self._rows: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def rows(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The rows (without text) of those ``doc_ids`` that exist; read again after KEEP_SECONDS."""
        now, out, missing = time.monotonic(), {}, []
        with self._lock:
            for doc_id in dict.fromkeys(doc_ids):
                kept = self._rows.get(doc_id)
                if kept is not None and now - kept[0] < KEEP_SECONDS:
                    if kept[1] is not None:
                        out[doc_id] = kept[1]
                else:
                    missing.append(doc_id)
        if missing:
            with backend_errors(self.uri):
                rows = self.client.query(self.collection, ids=missing, output_fields=_FIELDS)
            found = {str(r["id"]): r for r in rows}
            with self._lock:
                if len(self._rows) > _CACHED_DOCUMENTS:
                    self._rows.clear()
                self._rows.update((d, (now, found.get(d))) for d in missing)
            out.update(found)
        return out

    def forget(self) -> None:
        """Drop the kept rows (after a write)."""
        with self._lock:
            self._rows.clear()

    def versions(self, doc_ids: Sequence[str]) -> dict[str, int]:
        """The current version of each of ``doc_ids`` that exists."""
        return {d: int(r["version"]) for d, r in self.rows(doc_ids).items()}

    def _stored(self, doc_id: str, row: dict[str, Any]) -> StoredDocument:
        version = int(row["version"])
        with self._lock:
            cached = self._cache.get((doc_id, version))
        if cached is not None:
            return cached
        owner = f"d{version}"
        text = read_texts(self.client, self.uri, self.texts, [owner]).get(owner)
        if text is None:
            raise IndexDamagedError(f"Milvus at {self.uri}: the text of document {doc_id!r} is missing")
        stored = StoredDocument(
            doc_id,
            text,
            str(row["checksum"]),
            meta_from_dict(dict(row["meta"])),
            chunk_ids(version, int(row["chunks"])),
            *_layout(str(row["pages"])),
        )
        with self._lock:
            self._cache[(doc_id, version)] = stored
            while len(self._cache) > _CACHED_DOCUMENTS:
                self._cache.popitem(last=False)
        return stored

    def original_file(self, doc_id: str) -> bytes:
        """The PDF or DOCX file a document was read from (NotFoundError if none is kept)."""
        row = self.rows([doc_id]).get(doc_id)
        if row is None or _layout(str(row["pages"]))[1] is None:
            raise NotFoundError(f"document {doc_id!r} was not read from a file kept by the index (not a PDF or DOCX)")
        owner = f"f{int(row['version'])}"
        kept = read_texts(self.client, self.uri, self.texts, [owner]).get(owner)
        data = base64.b64decode(kept) if kept is not None else b""
        if hashlib.sha256(data).hexdigest() != row["checksum"]:
            raise IndexMismatchError(f"Milvus at {self.uri}: the kept copy of {doc_id!r} is damaged; re-index it")
        return data

    def __getitem__(self, doc_id: str) -> StoredDocument:
        row = self.rows([doc_id]).get(doc_id) if isinstance(doc_id, str) else None
        if row is None:
            raise KeyError(doc_id)
        return self._stored(doc_id, row)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and bool(self.rows([doc_id]))

    def all_versions(self) -> dict[str, int]:
        """The current version of every document."""
        return {str(r["id"]): int(r["version"]) for r in scan(self.client, self.uri, self.collection, ["version"])}

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.all_versions()))

    def __len__(self) -> int:
        with backend_errors(self.uri):
            rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0
