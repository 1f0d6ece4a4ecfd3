"""The state one app shares across requests: settings, the current engine, and the write path.

Reads take ``state.engine`` once and use that engine to the end of the request. Writes are
serialized by a lock; each builds a new index from a copy of the current one (copy-on-write),
saves it, and only then swaps the engine reference, so a query never sees a half-updated
index and never waits for a write.
"""

from __future__ import annotations

import threading
from typing import Literal

from api.errors import ConflictError, NotReadyError
from embeddings import EmbeddingCache
from qa.engine import Engine, open_cache, open_engine
from qa.errors import NotFoundError
from qa.index import CorpusIndex, save_index
from qa.settings import Settings
from qa.types import Document

WriteStatus = Literal["created", "replaced", "unchanged", "deleted"]


class AppState:
    """Settings, the engine in use, and the lock and embedding cache of the write path."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._write_lock = threading.Lock()
        self._cache: EmbeddingCache | None = None

    @property
    def ready(self) -> bool:
        """Whether an engine is loaded."""
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        """The engine to answer with (a request takes it once and keeps it)."""
        if self._engine is None:
            raise NotReadyError("the index is still loading; try again shortly")
        return self._engine

    def start(self, engine: Engine | None = None, *, progress: bool = False) -> None:
        """Use ``engine``, or open the configured one (building the index on first run)."""
        self._engine = engine or open_engine(self.settings, progress=progress)

    def close(self) -> None:
        """Release the embedding cache."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def create(self, doc: Document) -> tuple[WriteStatus, Engine]:
        """Add a new document; ConflictError if its id is taken."""
        with self._write_lock:
            if doc.id in self.engine.index.documents:
                raise ConflictError(f"document {doc.id!r} already exists; PUT /v1/documents/{{id}} replaces it")
            return "created", self._swap(upserts=[doc])

    def put(self, doc: Document) -> tuple[WriteStatus, Engine]:
        """Add or replace a document (nothing is re-embedded when text and metadata are unchanged)."""
        with self._write_lock:
            old = self.engine.index.documents.get(doc.id)
            if old is None:
                return "created", self._swap(upserts=[doc])
            if old.checksum == doc.checksum and old.meta.as_dict() == doc.meta.as_dict():
                return "unchanged", self.engine
            return "replaced", self._swap(upserts=[doc])

    def delete(self, doc_id: str) -> tuple[WriteStatus, Engine]:
        """Remove a document; NotFoundError if there is none with that id."""
        with self._write_lock:
            if doc_id not in self.engine.index.documents:
                raise NotFoundError(f"no document {doc_id!r} in the index")
            return "deleted", self._swap(removals=[doc_id])

    def _swap(self, upserts: list[Document] | None = None, removals: list[str] | None = None) -> Engine:
        """Build the changed index beside the current one, save it, then make it current (lock held)."""
        if self._cache is None:
            self._cache = open_cache(self.settings)
        new = self.engine.with_changes(upserts or [], removals or [], self._cache)
        if isinstance(new.index, CorpusIndex):  # a segmented index has committed the change itself
            save_index(new.index, self.settings.index_dir)
        self._engine = new
        return new
