"""Exact inner-product vector indexes with caller-chosen int64 ids.

:class:`FaissIndex` (``IndexIDMap2(IndexFlatIP)``) is the production backend; :class:`NumpyIndex`,
brute force, is its test oracle and a fallback. Stored vectors must be float32, finite and
L2-normalized; ids non-negative and unique (``-1`` pads results). ``search`` returns hits best
first with ties broken by **lower id first** (also at the k-th place) in both backends; their
scores may differ in the last float32 bits, so only *near*-ties can order differently.
``ids()`` is in insertion order, kept across removals. Faiss threads are set per call (see
:func:`default_faiss_threads`), never globally.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

FAISS_FILE = "vectors.faiss"
NUMPY_VECTORS_FILE = "vectors.npy"
NUMPY_IDS_FILE = "ids.npy"
_NORM_TOLERANCE = 1e-3
_QUERY_BLOCK = 256  # NumpyIndex scores at most this many queries at once (bounds memory)


class IndexFormatError(ValueError):
    """A saved vector index is missing, unreadable or inconsistent."""


@runtime_checkable
class VectorIndex(Protocol):
    """An exact inner-product index over L2-normalized float32 vectors with int64 ids."""

    dim: int

    def __len__(self) -> int: ...
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> int: ...
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors(self, ids: np.ndarray) -> np.ndarray: ...
    def ids(self) -> np.ndarray: ...
    def save(self, directory: Path) -> None: ...
    @classmethod
    def load(cls, directory: Path) -> Self: ...


def _as_ids(ids: np.ndarray, *, new: bool) -> np.ndarray:
    """Validate a 1-D integer id array; ``new`` ids must also be unique and non-negative."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be a 1-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if new and arr.size and arr.min() < 0:
        raise ValueError("ids must be >= 0 (-1 marks padding in search results)")
    if new and len(np.unique(arr)) != len(arr):
        raise ValueError("duplicate ids within one add() call")
    return arr


def _as_matrix(x: np.ndarray, dim: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Check a float32 ``(n, dim)`` matrix of finite values; return it and its squared row norms."""
    arr = np.asarray(x)
    if arr.dtype != np.float32:
        raise ValueError(f"{what} must be float32, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{what} must have shape (n, {dim}), got {arr.shape}")
    squared = np.einsum("nd,nd->n", arr, arr)  # NaN/inf anywhere in a row makes this non-finite
    if not np.isfinite(squared).all():
        raise ValueError(f"{what} contain NaN, infinity or overflowing values")
    return np.ascontiguousarray(arr), squared


def _as_vectors(vectors: np.ndarray, dim: int, n: int) -> np.ndarray:
    arr, squared = _as_matrix(vectors, dim, "vectors")
    if len(arr) != n:
        raise ValueError(f"got {n} ids but {len(arr)} vectors")
    if arr.size and np.abs(np.sqrt(squared) - 1.0).max() > _NORM_TOLERANCE:
        raise ValueError("vectors must be L2-normalized (found a norm far from 1)")
    return arr


def _as_queries(queries: np.ndarray, dim: int, k: int) -> np.ndarray:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative int, got {k!r}")
    arr = np.asarray(queries)
    return _as_matrix(arr[None, :] if arr.ndim == 1 else arr, dim, "queries")[0]


def _order_hits(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort candidate hits per row by (score desc, id asc), cut or pad to ``k`` columns."""
    scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
    order = np.lexsort((ids, -scores))[:, :k]
    s = np.take_along_axis(scores, order, axis=1)
    i = np.take_along_axis(ids, order, axis=1).astype(np.int64)
    pad = k - s.shape[1]
    if pad > 0:
        s = np.pad(s, ((0, 0), (0, pad)), constant_values=-np.inf)
        i = np.pad(i, ((0, 0), (0, pad)), constant_values=-1)
    return s, i


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary sibling (created under the umask) and an atomic rename."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"not a directory: {path.parent}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _IndexBase:
    """Argument checks and id bookkeeping shared by both backends.

    ``_row`` maps id -> storage row in insertion order; both backends compact storage in order
    on removal, so the rows are renumbered the same way.
    """

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.dim = int(dim)
        self._row: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, n={len(self)})"

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._row

    def ids(self) -> np.ndarray:
        """All ids, int64, in insertion order."""
        return np.fromiter(self._row, dtype=np.int64, count=len(self._row))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids; an id already present raises ValueError (nothing is added)."""
        ids64 = _as_ids(ids, new=True)
        vecs = _as_vectors(vectors, self.dim, len(ids64))
        clash = [i for i in ids64.tolist() if i in self._row]
        if clash:
            raise ValueError(f"ids already in the index: {clash[:10]}")
        if len(ids64):
            self._add(ids64, vecs)
            self._row.update(zip(ids64.tolist(), range(len(self), len(self) + len(ids64)), strict=True))

    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids; unknown ids are ignored. Returns how many were removed."""
        wanted = [i for i in dict.fromkeys(_as_ids(ids, new=False).tolist()) if i in self._row]
        if wanted:
            self._remove(wanted, [self._row.pop(i) for i in wanted])
            self._row = dict(zip(self._row, range(len(self._row)), strict=True))
        return len(wanted)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids by inner product for each query (``(m, dim)`` or ``(dim,)``), best first."""
        q = _as_queries(queries, self.dim, k)
        if len(self) == 0 or k == 0:
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        return self._search(q, k)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ``ids`` (in that order); KeyError for an id not in the index."""
        ids64 = _as_ids(ids, new=False)
        missing = [i for i in ids64.tolist() if i not in self._row]
        if missing:
            raise KeyError(f"ids not in the index: {missing[:10]}")
        if not len(ids64):
            return np.empty((0, self.dim), dtype=np.float32)
        return self._vectors(ids64, [self._row[i] for i in ids64.tolist()])

    if TYPE_CHECKING:  # implemented by each backend

        def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None: ...
        def _remove(self, ids: list[int], rows: list[int]) -> None: ...
        def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
        def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray: ...


class NumpyIndex(_IndexBase):
    """Brute-force index in NumPy; saved as ``vectors.npy`` + ``ids.npy``."""

    def __init__(self, dim: int) -> None:
        """Create an empty index for ``dim``-dimensional vectors."""
        super().__init__(dim)
        self._vecs = np.empty((0, self.dim), dtype=np.float32)  # capacity grows by doubling
        self._ids = np.empty(0, dtype=np.int64)

    def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        n, end = len(self), len(self) + len(ids)
        if end > len(self._ids):
            capacity = max(end, 2 * len(self._ids), 16)
            self._vecs = np.concatenate([self._vecs[:n], np.empty((capacity - n, self.dim), np.float32)])
            self._ids = np.concatenate([self._ids[:n], np.empty(capacity - n, np.int64)])
        self._vecs[n:end], self._ids[n:end] = vecs, ids

    def _remove(self, ids: list[int], rows: list[int]) -> None:
        n = len(self) + len(rows)  # the ids are already gone from _row
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        self._vecs[: len(self)] = self._vecs[:n][keep]
        self._ids[: len(self)] = self._ids[:n][keep]

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [self._search_block(q[s : s + _QUERY_BLOCK], k) for s in range(0, len(q), _QUERY_BLOCK)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _search_block(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # einsum (not BLAS) scores every row the same way, so equal vectors get equal scores
        scores, ids = np.einsum("qd,nd->qn", q, self._vecs[: len(self)]), self._ids[: len(self)]
        if k >= len(self):
            return _order_hits(scores, np.broadcast_to(ids, scores.shape), k)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        out_s, out_i = _order_hits(top_scores, ids[top], k)
        kth = top_scores.min(axis=1, keepdims=True)
        for row in np.nonzero((scores >= kth).sum(axis=1) > k)[0]:  # ties at the k-th place
            cand = np.nonzero(scores[row] >= kth[row])[0]
            s, i = _order_hits(scores[row, cand][None, :], ids[cand][None, :], k)
            out_s[row], out_i[row] = s[0], i[0]
        return out_s, out_i

    def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray:
        return self._vecs[rows]

    def save(self, directory: Path) -> None:
        """Write ``vectors.npy`` and ``ids.npy`` into an existing directory (each atomically)."""
        for name, arr in ((NUMPY_VECTORS_FILE, self._vecs[: len(self)]), (NUMPY_IDS_FILE, self.ids())):
            _atomic_write(Path(directory) / name, partial(_save_npy, arr=arr))

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read ``vectors.npy`` + ``ids.npy``; IndexFormatError if missing, corrupt or inconsistent."""
        paths = [Path(directory) / NUMPY_VECTORS_FILE, Path(directory) / NUMPY_IDS_FILE]
        for p in paths:
            if not p.is_file():
                raise IndexFormatError(f"missing index file: {p}")
        try:
            vecs, ids = (np.load(p, allow_pickle=False) for p in paths)
        except (OSError, ValueError, EOFError) as exc:
            raise IndexFormatError(f"cannot read numpy index in {directory}: {exc}") from exc
        if vecs.ndim != 2 or vecs.shape[1] < 1 or ids.shape != (len(vecs),) or ids.dtype != np.int64:
            raise IndexFormatError(f"inconsistent numpy index in {directory}: {vecs.shape} vs {ids.shape}")
        index = cls(vecs.shape[1])
        try:
            index.add(ids, vecs)
        except ValueError as exc:
            raise IndexFormatError(f"invalid numpy index in {directory}: {exc}") from exc
        return index


def _save_npy(path: Path, arr: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, arr, allow_pickle=False)


def _import_faiss() -> Any:
    import faiss  # imported on first use so that NumpyIndex works without faiss

    return faiss


def default_faiss_threads(n_queries: int) -> int:
    """Threads for a faiss search of ``n_queries`` queries when FaissIndex is given none.

    Small batches (faiss's non-BLAS path, < 20 queries) get 1 thread: on a busy 2-core machine
    a second OpenMP thread made single-query search 5-25x slower. Larger batches get 2 threads
    (or fewer if fewer cores are usable).
    """
    if n_queries < 20:
        return 1
    return max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2))


@contextmanager
def faiss_threads(threads: int) -> Iterator[None]:
    """Limit faiss (OpenMP) to ``threads`` threads inside the body, then restore the old value.

    OpenMP keeps this setting per calling thread, so other threads are not affected.
    """
    faiss = _import_faiss()
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, threads))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class FaissIndex(_IndexBase):
    """Exact search with ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``; saved as ``vectors.faiss``."""

    def __init__(self, dim: int, *, threads: int | None = None) -> None:
        """Create an empty index; searches use ``threads`` threads (default: default_faiss_threads)."""
        super().__init__(dim)
        faiss = _import_faiss()
        self.threads = threads
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _threads_for(self, n_queries: int) -> int:
        return default_faiss_threads(n_queries) if self.threads is None else self.threads

    def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        self._index.add_with_ids(vecs, ids)  # a copy; faiss runs no threads here

    def _remove(self, ids: list[int], rows: list[int]) -> None:
        self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        width = min(k + 1, len(self))  # one extra hit reveals a tie at the k-th place
        with faiss_threads(self._threads_for(len(q))):
            scores, ids = self._index.search(q, width)
        out_s, out_i = _order_hits(scores, ids, k)
        if width > k:
            for row in np.nonzero((ids[:, k] >= 0) & (scores[:, k] == scores[:, k - 1]))[0]:
                out_s[row], out_i[row] = self._search_tied_row(q[row], k)
        return out_s, out_i

    def _search_tied_row(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Widen one query's search until all hits tied with its k-th place are in, then order."""
        n, width = len(self), min(2 * (k + 1), len(self))
        while True:
            with faiss_threads(self._threads_for(1)):
                scores, ids = self._index.search(query[None, :], width)
            if width >= n or scores[0, -1] < scores[0, k - 1]:
                s, i = _order_hits(scores, ids, k)
                return s[0], i[0]
            width = min(2 * width, n)

    def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray:
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write ``vectors.faiss`` into an existing directory (atomically replacing an old one)."""
        write_index = _import_faiss().write_index
        _atomic_write(Path(directory) / FAISS_FILE, lambda tmp: write_index(self._index, str(tmp)))

    @classmethod
    def load(cls, directory: Path, *, threads: int | None = None) -> Self:
        """Read ``vectors.faiss``; IndexFormatError if missing, unreadable or of another index type."""
        path = Path(directory) / FAISS_FILE
        if not path.is_file():
            raise IndexFormatError(f"missing index file: {path}")
        faiss = _import_faiss()
        try:
            raw = faiss.read_index(str(path))
        except (RuntimeError, MemoryError) as exc:
            raise IndexFormatError(f"cannot read faiss index {path}: {exc}") from exc
        inner = faiss.downcast_index(raw.index) if isinstance(raw, faiss.IndexIDMap2) else None
        if not isinstance(inner, faiss.IndexFlat) or inner.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexFormatError(f"{path} is not an IndexIDMap2 over IndexFlatIP")
        id_list = faiss.vector_to_array(raw.id_map).tolist()
        if len(set(id_list)) != raw.ntotal or any(i < 0 for i in id_list):
            raise IndexFormatError(f"{path} has duplicate or negative ids")
        index = cls(raw.d, threads=threads)
        index._index, index._row = raw, {i: r for r, i in enumerate(id_list)}
        return index


def new_vector_index(dim: int, kind: str = "faiss") -> VectorIndex:
    """Create an empty index of ``kind`` ``"faiss"`` (default) or ``"numpy"``."""
    if kind == "faiss":
        return FaissIndex(dim)
    if kind == "numpy":
        return NumpyIndex(dim)
    raise ValueError(f"unknown vector index kind {kind!r}; expected 'faiss' or 'numpy'")


def open_vector_index(directory: Path) -> VectorIndex:
    """Load the index saved in ``directory``, choosing the class from the files present."""
    d = Path(directory)
    has_faiss = (d / FAISS_FILE).is_file()
    has_numpy = (d / NUMPY_VECTORS_FILE).is_file() or (d / NUMPY_IDS_FILE).is_file()
    if has_faiss and has_numpy:
        raise IndexFormatError(f"{d} holds both a faiss and a numpy index; remove one of them")
    if has_faiss:
        return FaissIndex.load(d)
    if has_numpy:
        return NumpyIndex.load(d)
    raise IndexFormatError(f"no vector index files in {d}")
