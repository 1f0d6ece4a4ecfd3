"""Exact search with faiss: ``IndexIDMap2(IndexFlatIP)``, the production backend.

faiss is imported on first use, so the other backends work without it. Its threads are set per
call (see :func:`default_faiss_threads`), never globally.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from embeddings.atomic import atomic_write
from embeddings.errors import IndexFormatError
from embeddings.vector_index.base import IndexBase, order_hits

FAISS_FILE = "vectors.faiss"
_SMALL_BATCH = 20  # below this many queries faiss takes its non-BLAS path


def _import_faiss() -> Any:
    import faiss

    return faiss


def default_faiss_threads(n_queries: int) -> int:
    """Threads for a faiss search of ``n_queries`` queries when FaissIndex is given none.

    Small batches (faiss's non-BLAS path, < 20 queries) get 1 thread: on a busy 2-core machine
    a second OpenMP thread made single-query search 5-25x slower. Larger batches get 2 threads
    (or fewer if fewer cores are usable).
    """
    if n_queries < _SMALL_BATCH:
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


class FaissIndex(IndexBase):
    """Exact search with ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``; saved as ``vectors.faiss``."""

    kind: ClassVar[str] = "faiss"
    files: ClassVar[tuple[str, ...]] = (FAISS_FILE,)

    def __init__(self, dim: int, *, threads: int | None = None) -> None:
        """Create an empty index; searches use ``threads`` threads (default: default_faiss_threads)."""
        super().__init__(dim)
        faiss = _import_faiss()
        self.threads = threads
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _empty_twin(self) -> Self:
        return type(self)(self.dim, threads=self.threads)

    def threads_for(self, n_queries: int) -> int:
        """Threads a search of ``n_queries`` queries runs on."""
        return default_faiss_threads(n_queries) if self.threads is None else self.threads

    def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        self._index.add_with_ids(vecs, ids)  # a copy; faiss runs no threads here

    def _remove(self, ids: list[int], rows: list[int]) -> None:
        self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        width = min(k + 1, len(self))  # one extra hit reveals a tie at the k-th place
        with faiss_threads(self.threads_for(len(q))):
            scores, ids = self._index.search(q, width)
        out_s, out_i = order_hits(scores, ids, k)
        if width > k:
            for row in np.nonzero((ids[:, k] >= 0) & (scores[:, k] == scores[:, k - 1]))[0]:
                out_s[row], out_i[row] = self._search_tied_row(q[row], k)
        return out_s, out_i

    def _search_tied_row(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Widen one query's search until all hits tied with its k-th place are in, then order."""
        n, width = len(self), min(2 * (k + 1), len(self))
        while True:
            with faiss_threads(self.threads_for(1)):
                scores, ids = self._index.search(query[None, :], width)
            if width >= n or scores[0, -1] < scores[0, k - 1]:
                s, i = order_hits(scores, ids, k)
                return s[0], i[0]
            width = min(2 * width, n)

    def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray:
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def save(self, directory: Path) -> None:
        """Write ``vectors.faiss`` into an existing directory (atomically replacing an old one)."""
        write_index = _import_faiss().write_index
        atomic_write(Path(directory) / FAISS_FILE, lambda tmp: write_index(self._index, str(tmp)))

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
