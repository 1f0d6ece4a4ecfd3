"""Exact inner-product vector indexes: one contract (:mod:`.base`), one module per backend, and
the factory that maps a backend name (or a dotted path ``package.module:Class``) to its class.

A new backend is a new module implementing :class:`VectorIndex` plus one line in ``BACKENDS``.
Immutable, memory-mapped vector segments (flat or IVF, searched with deleted rows left out) for
the segmented index are :mod:`.segment`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from embeddings.errors import IndexFormatError
from embeddings.vector_index.base import IndexBase, VectorIndex
from embeddings.vector_index.faiss import FAISS_FILE, FaissIndex, default_faiss_threads, faiss_threads
from embeddings.vector_index.numpy import NUMPY_IDS_FILE, NUMPY_VECTORS_FILE, NumpyIndex

__all__ = [
    "BACKENDS",
    "FAISS_FILE",
    "NUMPY_IDS_FILE",
    "NUMPY_VECTORS_FILE",
    "FaissIndex",
    "IndexBase",
    "IndexFormatError",
    "NumpyIndex",
    "VectorIndex",
    "backend_class",
    "default_faiss_threads",
    "faiss_threads",
    "new_vector_index",
    "open_vector_index",
]

#: Backend name -> ``module:Class``. The first is the default.
BACKENDS: dict[str, str] = {
    "faiss": "embeddings.vector_index.faiss:FaissIndex",
    "numpy": "embeddings.vector_index.numpy:NumpyIndex",
}


def backend_class(kind: str) -> type[VectorIndex]:
    """The index class named ``kind``: a key of ``BACKENDS`` or a dotted path (``pkg.mod:Class`` or ``pkg.mod.Class``).

    Raises ValueError for a name that names no index class.
    """
    path = BACKENDS.get(kind, kind)
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr) if module_name else None
    except (ImportError, AttributeError):
        cls = None
    if not isinstance(cls, type) or not all(hasattr(cls, name) for name in ("kind", "files", "load", "copy")):
        known = ", ".join(repr(name) for name in BACKENDS)
        raise ValueError(f"unknown vector index kind {kind!r}; expected {known} or a dotted path to an index class")
    return cls


def new_vector_index(dim: int, kind: str = next(iter(BACKENDS))) -> VectorIndex:
    """Create an empty index of ``kind`` (default ``"faiss"``) for ``dim``-dimensional vectors."""
    return backend_class(kind)(dim)  # type: ignore[call-arg]


def open_vector_index(directory: Path) -> VectorIndex:
    """Load the index saved in ``directory``, choosing the backend from the files present."""
    d = Path(directory)
    present = [cls for cls in map(backend_class, BACKENDS) if any((d / name).is_file() for name in cls.files)]
    if len(present) > 1:
        kinds = " and ".join(f"a {cls.kind}" for cls in present)
        raise IndexFormatError(f"{d} holds both {kinds} index; remove one of them")
    if not present:
        raise IndexFormatError(f"no vector index files in {d}")
    return present[0].load(d)
