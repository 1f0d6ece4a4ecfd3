"""Persistent embedding cache keyed by ``(model id, content hash)``.

Unchanged sentences are never re-embedded: :func:`embed_with_cache` looks every key up in an
:class:`EmbeddingCache` (one SQLite file in WAL mode: concurrent readers and one writer, across
processes) and encodes only the misses, writing each finished batch straight away so that an
interrupted run keeps its progress.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
from tqdm import tqdm

#: Name of the cache file inside a cache folder.
CACHE_FILE = "embeddings.sqlite"
_SQL_CHUNK = 500  # keys per SELECT; SQLite builds before 3.32 allow only 999 variables
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, key)
)
"""


def content_key(text: str) -> str:
    """Cache key of a text: the SHA-256 hex digest of exactly the string that is embedded."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class EmbedStats:
    """What one :func:`embed_with_cache` call did.

    ``embedded``: texts sent to the encoder; ``reused``: inputs served from the cache or from an
    equal key earlier in the same call (``embedded + reused`` is the number of inputs).
    """

    embedded: int
    reused: int
    seconds: float


class EmbeddingCache:
    """Float32 vectors in a SQLite file, keyed by ``(model_id, key)``. Thread-safe."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        """Open (creating file, parent folders and table if needed) the cache at ``path``.

        ``timeout`` is how many seconds to wait for another process's write lock.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
        except sqlite3.DatabaseError:
            self.close()
            raise

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"embedding cache {self.path} is closed")
        return self._conn

    def get_many(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for those ``keys`` that are present (missing keys are left out)."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            db = self._db()
            for start in range(0, len(unique), _SQL_CHUNK):
                chunk = unique[start : start + _SQL_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, dim, vector FROM embeddings WHERE model_id = ? AND key IN ({marks})",
                    [model_id, *chunk],
                ).fetchall()
                for key, dim, blob in rows:
                    vector = np.frombuffer(blob, dtype="<f4")
                    if vector.size == dim:  # a damaged row is treated as a miss
                        found[key] = vector.astype(np.float32)
        return found

    def put_many(self, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` under ``keys[i]`` (replacing old values) in one transaction."""
        arr = np.asarray(vectors)
        if arr.ndim != 2 or len(arr) != len(keys):
            raise ValueError(f"expected {len(keys)} vectors as a 2-D array, got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
            raise ValueError(f"vectors must be finite floats, got dtype {arr.dtype}")
        arr = arr.astype("<f4", copy=False)
        rows = [(model_id, key, arr.shape[1], arr[i].tobytes()) for i, key in enumerate(keys)]
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def count(self, model_id: str | None = None) -> int:
        """Number of cached vectors, for one model or for all."""
        with self._lock:
            if model_id is None:
                row = self._db().execute("SELECT COUNT(*) FROM embeddings").fetchone()
            else:
                sql = "SELECT COUNT(*) FROM embeddings WHERE model_id = ?"
                row = self._db().execute(sql, (model_id,)).fetchone()
        return int(row[0])

    def __len__(self) -> int:
        return self.count()

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def embed_with_cache(
    encode: Callable[[list[str]], np.ndarray],
    model_id: str,
    texts: Sequence[str],
    keys: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    batch_size: int = 256,
    progress: bool = False,
) -> tuple[np.ndarray, EmbedStats]:
    """Embed ``texts`` (float32 ``(n, dim)``, input order), encoding only keys not yet cached.

    Equal keys within the call are encoded once (they must belong to equal texts). Misses are
    encoded ``batch_size`` at a time and each batch is cached as soon as it is done. With no
    inputs the result has shape ``(0, 0)``. ``progress`` shows a tqdm bar on a terminal.
    """
    started = time.perf_counter()
    if len(texts) != len(keys):
        raise ValueError(f"{len(texts)} texts but {len(keys)} keys")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    first: dict[str, int] = {}
    for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
        if texts[first.setdefault(key, i)] != text:
            raise ValueError(f"key {key!r} is given for two different texts")
    found = cache.get_many(model_id, list(first)) if cache is not None else {}
    dims = {len(v) for v in found.values()}
    if len(dims) > 1:
        raise ValueError(f"cached vectors for {model_id!r} have several dims {sorted(dims)}")
    misses = [(key, texts[i]) for key, i in first.items() if key not in found]
    found.update(_encode_batches(encode, model_id, misses, cache, batch_size, progress, dims.pop() if dims else None))
    out = np.stack([found[key] for key in keys]) if len(keys) else np.empty((0, 0), dtype=np.float32)
    stats = EmbedStats(embedded=len(misses), reused=len(keys) - len(misses), seconds=time.perf_counter() - started)
    return out.astype(np.float32, copy=False), stats


def _encode_batches(
    encode: Callable[[list[str]], np.ndarray],
    model_id: str,
    items: list[tuple[str, str]],
    cache: EmbeddingCache | None,
    batch_size: int,
    progress: bool,
    dim: int | None,
) -> dict[str, np.ndarray]:
    """Encode ``(key, text)`` items in batches, caching each batch once it is done."""
    out: dict[str, np.ndarray] = {}
    with tqdm(total=len(items), desc="embedding", unit="text", disable=None if progress else True) as bar:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            vectors = np.asarray(encode([text for _, text in batch]), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(batch):
                raise ValueError(f"encode returned shape {vectors.shape} for {len(batch)} texts")
            if dim is not None and vectors.shape[1] != dim:
                raise ValueError(f"encoder gives dim {vectors.shape[1]} but the cache holds dim {dim} for {model_id!r}")
            dim = vectors.shape[1]
            if cache is not None:
                cache.put_many(model_id, [key for key, _ in batch], vectors)
            out.update(zip((key for key, _ in batch), vectors, strict=True))
            bar.update(len(batch))
    return out
