"""Brute-force backend in NumPy: the test oracle of the other backends, and a fallback."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from embeddings.atomic import atomic_write
from embeddings.errors import IndexFormatError
from embeddings.vector_index.base import IndexBase, order_hits

NUMPY_VECTORS_FILE = "vectors.npy"
NUMPY_IDS_FILE = "ids.npy"
_QUERY_BLOCK = 256  # at most this many queries are scored at once (bounds memory)


class NumpyIndex(IndexBase):
    """Brute-force index in NumPy; saved as ``vectors.npy`` + ``ids.npy``."""

    kind: ClassVar[str] = "numpy"
    files: ClassVar[tuple[str, ...]] = (NUMPY_VECTORS_FILE, NUMPY_IDS_FILE)

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
            return order_hits(scores, np.broadcast_to(ids, scores.shape), k)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        out_s, out_i = order_hits(top_scores, ids[top], k)
        kth = top_scores.min(axis=1, keepdims=True)
        for row in np.nonzero((scores >= kth).sum(axis=1) > k)[0]:  # ties at the k-th place
            cand = np.nonzero(scores[row] >= kth[row])[0]
            s, i = order_hits(scores[row, cand][None, :], ids[cand][None, :], k)
            out_s[row], out_i[row] = s[0], i[0]
        return out_s, out_i

    def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray:
        return self._vecs[rows]

    def save(self, directory: Path) -> None:
        """Write ``vectors.npy`` and ``ids.npy`` into an existing directory (each atomically)."""
        for name, arr in ((NUMPY_VECTORS_FILE, self._vecs[: len(self)]), (NUMPY_IDS_FILE, self.ids())):
            atomic_write(Path(directory) / name, partial(_save_npy, arr=arr))

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
