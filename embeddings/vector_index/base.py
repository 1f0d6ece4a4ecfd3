"""The vector index contract, its argument checks and its tie order, shared by every backend.

An index is exact inner-product search over L2-normalized float32 vectors with caller-chosen
int64 ids. Stored vectors must be float32, finite and L2-normalized; ids non-negative and unique
(``-1`` pads results). ``search`` returns hits best first with ties broken by **lower id first**
(also at the k-th place) in every backend; scores may differ between backends in the last
float32 bits, so only *near*-ties can order differently. ``ids()`` is in insertion order, kept
across removals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Self, runtime_checkable

import numpy as np

_NORM_TOLERANCE = 1e-3


@runtime_checkable
class VectorIndex(Protocol):
    """An exact inner-product index over L2-normalized float32 vectors with int64 ids."""

    kind: ClassVar[str]  # the backend's name in the factory
    files: ClassVar[tuple[str, ...]]  # the files save() writes into a directory
    dim: int

    def __len__(self) -> int:
        """Number of stored vectors."""
        ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids (all or nothing).

        Args:
            ids: 1-D integer array of ids, unique, >= 0 and not yet in the index.
            vectors: ``(len(ids), dim)`` float32 array of finite, L2-normalized rows.

        Raises ValueError for any violation; nothing is added then.
        """
        ...

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id.

        Args:
            ids: 1-D integer array; ids not in the index are ignored.

        Returns:
            How many vectors were removed.
        """
        ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best ids by inner product for each query.

        Args:
            queries: ``(m, dim)`` or ``(dim,)`` float32 array of finite values.
            k: hits per query, >= 0.

        Returns:
            ``(scores, ids)``, each ``(m, k)``: float32 scores best first, ties by lower id first;
            missing hits are padded with score ``-inf`` and id ``-1``.
        """
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors.

        Args:
            ids: 1-D integer array of ids in the index (KeyError for one that is not).

        Returns:
            ``(len(ids), dim)`` float32 array in the order of ``ids``.
        """
        ...

    def ids(self) -> np.ndarray:
        """All ids as int64, in insertion order."""
        ...

    def copy(self) -> Self:
        """An independent index of the same backend and settings with the same ids, vectors and id order."""
        ...

    def save(self, directory: Path) -> None:
        """Write the index files into an existing ``directory``, each replaced atomically."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read the index saved in ``directory``; IndexFormatError if missing, unreadable or inconsistent."""
        ...


def as_ids(ids: np.ndarray, *, new: bool) -> np.ndarray:
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


def as_vectors(vectors: np.ndarray, dim: int, n: int) -> np.ndarray:
    """Validate ``n`` vectors to store: float32 ``(n, dim)``, finite, L2-normalized."""
    arr, squared = _as_matrix(vectors, dim, "vectors")
    if len(arr) != n:
        raise ValueError(f"got {n} ids but {len(arr)} vectors")
    if arr.size and np.abs(np.sqrt(squared) - 1.0).max() > _NORM_TOLERANCE:
        raise ValueError("vectors must be L2-normalized (found a norm far from 1)")
    return arr


def as_queries(queries: np.ndarray, dim: int, k: int) -> np.ndarray:
    """Validate queries (one vector or a matrix) and ``k``; return an ``(m, dim)`` matrix."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative int, got {k!r}")
    arr = np.asarray(queries)
    return _as_matrix(arr[None, :] if arr.ndim == 1 else arr, dim, "queries")[0]


def order_hits(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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


class IndexBase:
    """Argument checks, id bookkeeping and ``copy()`` shared by the backends.

    A backend implements ``_add``, ``_remove``, ``_search`` and ``_vectors`` on checked
    arguments, plus ``save``/``load``. ``_row`` maps id -> storage row in insertion order;
    a backend compacts its storage in order on removal, so the rows are renumbered the same way.
    """

    kind: ClassVar[str]
    files: ClassVar[tuple[str, ...]]

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
        ids64 = as_ids(ids, new=True)
        vecs = as_vectors(vectors, self.dim, len(ids64))
        clash = [i for i in ids64.tolist() if i in self._row]
        if clash:
            raise ValueError(f"ids already in the index: {clash[:10]}")
        if len(ids64):
            self._add(ids64, vecs)
            self._row.update(zip(ids64.tolist(), range(len(self), len(self) + len(ids64)), strict=True))

    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids; unknown ids are ignored. Returns how many were removed."""
        wanted = [i for i in dict.fromkeys(as_ids(ids, new=False).tolist()) if i in self._row]
        if wanted:
            self._remove(wanted, [self._row.pop(i) for i in wanted])
            self._row = dict(zip(self._row, range(len(self._row)), strict=True))
        return len(wanted)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids by inner product for each query (``(m, dim)`` or ``(dim,)``), best first."""
        q = as_queries(queries, self.dim, k)
        if len(self) == 0 or k == 0:
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        return self._search(q, k)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ``ids`` (in that order); KeyError for an id not in the index."""
        ids64 = as_ids(ids, new=False)
        missing = [i for i in ids64.tolist() if i not in self._row]
        if missing:
            raise KeyError(f"ids not in the index: {missing[:10]}")
        if not len(ids64):
            return np.empty((0, self.dim), dtype=np.float32)
        return self._vectors(ids64, [self._row[i] for i in ids64.tolist()])

    def copy(self) -> Self:
        """An independent index of the same class and settings with the same ids, vectors and id order."""
        twin = self._empty_twin()
        ids = self.ids()
        if len(ids):
            twin.add(ids, self.vectors(ids))
        return twin

    def _empty_twin(self) -> Self:
        """An empty index of this class with this index's settings (a backend with settings overrides it)."""
        return type(self)(self.dim)

    if TYPE_CHECKING:  # implemented by each backend

        def _add(self, ids: np.ndarray, vecs: np.ndarray) -> None: ...
        def _remove(self, ids: list[int], rows: list[int]) -> None: ...
        def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
        def _vectors(self, ids: np.ndarray, rows: list[int]) -> np.ndarray: ...
