"""Immutable, memory-mapped vector segments: exact (flat) below a size, an ANN index (HNSW or IVF) above it.

A segment holds ``n`` L2-normalized float32 vectors under the rows ``0..n-1`` in one faiss
file, written once and opened with ``mmap`` (``IO_FLAG_MMAP_IFC`` for flat storage, the HNSW
graph and its codes included, ``IO_FLAG_MMAP`` for IVF inverted lists), so opening costs
little time and memory: pages are read when a search touches them. Kinds:

- ``flat``: ``IndexFlatIP``, exact inner product.
- ``hnsw``: ``IndexHNSWSQ``: a graph of :data:`HNSW_M` links a node (twice as many on its
  lowest layer, 256 bytes a vector), built with ``efConstruction`` :data:`HNSW_BUILD_EF`, over
  ``QT_8bit`` codes (a quarter of the bytes of float32; a reconstruction is within 1e-3 of the
  stored vector on the default model's vectors, its cosine to a query within 1e-3), searched with
  ``efSearch = max(HNSW_SEARCH_EF, 2k)``. A search visits a few thousand vectors whatever ``n``
  is, and a segment costs 640 bytes a vector on disk and, as far as searches touch it, in memory.
- ``ivf``: ``IndexIVFScalarQuantizer`` with ``QT_fp16`` codes and ``nlist = clamp(2**round(
  log2(sqrt(n))), 64, 4096)`` lists, trained on at most 64 vectors a list, searched with
  :func:`default_nprobe` lists (decided when the index is opened, not when it is written). A
  search scans a share of all vectors, so its cost grows with ``n``.
- ``auto``: ``flat`` below :data:`ANN_THRESHOLD` vectors, ``hnsw`` from there on.

Recall@10 against flat on the bench sets' e5 vectors is in the README (Scale). Deleted rows
are excluded inside the search (an ``IDSelector``), never by over-fetching.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.vector_index.faiss import default_faiss_threads, faiss_threads

VectorKind = Literal["flat", "hnsw", "ivf", "auto"]
ANN_THRESHOLD = 100_000
#: fewer vectors than this are stored flat even when ivf is asked for (10 training points a list)
MIN_IVF = 640
TRAIN_PER_LIST = 64
VECTOR_KINDS = ("flat", "hnsw", "ivf", "auto")
#: links a node of the HNSW graph keeps (twice as many on its lowest layer)
HNSW_M = 32
#: candidates an HNSW insertion explores
HNSW_BUILD_EF = 40
#: vectors the 8-bit codes' ranges are taken from (a random sample)
HNSW_TRAIN = 65536
#: least candidates an HNSW search explores (at least twice the hits asked for)
HNSW_SEARCH_EF = 128
_FLAT_HEADERS = (b"IxFI", b"IxF2")  # faiss's tags of IndexFlatIP / IndexFlatL2 files
_HNSW_HEADERS = (b"IHNs",)  # IndexHNSWSQ: its graph and codes are memory-mapped as flat storage is


def _faiss() -> Any:
    import faiss

    return faiss


def ivf_lists(n: int) -> int:
    """The number of IVF lists for ``n`` vectors: a power of two near sqrt(n), within 64..4096."""
    return int(min(4096, max(64, 2 ** round(math.log2(max(1.0, math.sqrt(n)))))))


def default_nprobe(nlist: int) -> int:
    """Lists searched per query: a quarter of them up to 256 lists, an eighth above, at least 32."""
    return min(nlist, max(32, nlist // 4 if nlist <= 256 else nlist // 8))


def resolve_kind(kind: VectorKind, n: int) -> Literal["flat", "hnsw", "ivf"]:
    """``auto`` becomes flat below ANN_THRESHOLD vectors and hnsw above; an ANN index needs enough vectors."""
    if kind not in VECTOR_KINDS:
        raise ValueError(f"unknown vector index type {kind!r}; expected one of {', '.join(VECTOR_KINDS)}")
    if kind == "auto":
        kind = "hnsw" if n >= ANN_THRESHOLD else "flat"
    if kind != "flat" and n < MIN_IVF:
        return "flat"
    return kind


def write_segment_vectors(
    path: Path, vectors: np.ndarray, kind: VectorKind = "auto", *, seed: int = 7, nlist: int | None = None
) -> str:
    """Write ``vectors`` (rows 0..n-1) as a faiss file at ``path``; returns the kind written.

    ``nlist`` overrides :func:`ivf_lists` (benchmarks compare list counts).
    """
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    chosen = resolve_kind(kind, n)
    if chosen == "flat":
        index = faiss.IndexFlatIP(dim)
    elif chosen == "hnsw":
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_BUILD_EF
        index.train(vectors[np.sort(np.random.default_rng(seed).permutation(n)[:HNSW_TRAIN])])  # codes' ranges
    else:
        nlist = nlist or ivf_lists(n)
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(seed).permutation(n)[: nlist * TRAIN_PER_LIST]
        index.train(vectors[np.sort(sample)])
        index.nprobe = default_nprobe(nlist)
    for start in range(0, n, 65536):
        index.add(vectors[start : start + 65536])
    faiss.write_index(index, str(path))
    return chosen


class SegmentVectors:
    """A vector segment opened read-only from its file (memory-mapped)."""

    def __init__(self, path: Path, *, nprobe: int | None = None) -> None:
        """Open the faiss file at ``path``; ``nprobe`` overrides the IVF lists searched."""
        faiss = _faiss()
        self.path = Path(path)
        with self.path.open("rb") as handle:
            ivf = handle.read(4) not in _FLAT_HEADERS + _HNSW_HEADERS
        flags = faiss.IO_FLAG_READ_ONLY | (faiss.IO_FLAG_MMAP if ivf else faiss.IO_FLAG_MMAP_IFC)
        self._index: Any = faiss.read_index(str(self.path), flags)
        self.kind = (
            "ivf"
            if isinstance(self._index, faiss.IndexIVF)
            else "hnsw"
            if isinstance(self._index, faiss.IndexHNSW)
            else "flat"
        )
        if self.kind == "ivf":
            self._index.make_direct_map(True)
            self._index.nprobe = nprobe if nprobe is not None else default_nprobe(int(self._index.nlist))
        self.dim = int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, queries: np.ndarray, k: int, excluded: Excluded | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, rows) per query, the ``excluded`` rows left out; -1 pads missing hits."""
        faiss = _faiss()
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k <= 0:
            return np.empty((len(q), 0), np.float32), np.empty((len(q), 0), np.int64)
        sel = excluded.selector if excluded is not None else None
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=int(self._index.nprobe), sel=sel)
        elif self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_SEARCH_EF, 2 * k), sel=sel)
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        with faiss_threads(default_faiss_threads(len(q))):
            scores, rows = self._index.search(q, k, params=params)
        return np.asarray(scores, np.float32), np.asarray(rows, np.int64)

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows`` (float32; as their codes give them for ivf and hnsw)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.empty((0, self.dim), np.float32)
        return np.asarray(self._index.reconstruct_batch(rows), dtype=np.float32)


class Excluded:
    """A set of rows a search leaves out (built once, shared by every search of a snapshot)."""

    def __init__(self, rows: np.ndarray) -> None:
        """Exclude ``rows`` (int64)."""
        faiss = _faiss()
        self.rows = np.ascontiguousarray(rows, dtype=np.int64)
        self._batch = faiss.IDSelectorBatch(self.rows)  # kept alive: the negation points at it
        self.selector = faiss.IDSelectorNot(self._batch)
