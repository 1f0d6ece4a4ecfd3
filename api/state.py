"""The state one app shares across requests: settings, the current engine, and the write path.

Reads take ``state.engine`` once and use that engine to the end of the request. Writes are
serialized by a lock in this process and by the index directory's writer lock across
processes; each first reloads the index if another process committed a newer generation, then
builds a new index from a copy of the current one (copy-on-write), commits it, and only then
swaps the engine reference, so a query never sees a half-updated index and never waits for a
write. A watcher thread serves an index another process committed (``qa index``) within
:data:`WATCH_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Literal

from api.errors import ConflictError, NotReadyError
from embeddings import EmbeddingCache
from qa.building import open_cache
from qa.engine import Engine, open_engine, reload_engine
from qa.errors import NotFoundError, QAError
from qa.index import CorpusIndex, save_index, writing
from qa.settings import Settings
from qa.types import Document

WriteStatus = Literal["created", "replaced", "unchanged", "deleted"]
#: Change = what a write does to the current engine: (status, upserts, removals); it may raise to refuse
Change = Callable[[Engine], tuple[WriteStatus, list[Document], list[str]]]
#: how often the index directory is checked for a generation committed by another process
WATCH_SECONDS = 2.0
#: how long a write waits for another process writing the same index before giving up (409)
WRITE_WAIT_SECONDS = 10.0

log = logging.getLogger(__name__)


class AppState:
    """Settings, the engine in use, and the lock and embedding cache of the write path."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._write_lock = threading.Lock()
        self._cache: EmbeddingCache | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

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
        self._engine = engine or open_engine(self.settings, progress=progress, build=True)

    def watch(self) -> None:
        """Start the thread that serves an index committed by another process."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="index-watcher", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        reported = ""
        while not self._stop.wait(WATCH_SECONDS):
            try:
                self.refresh()
                reported = ""
            except QAError as exc:  # a damaged new generation: keep serving the whole one in memory
                if str(exc) != reported:
                    log.error("still serving the index loaded before; the one on disk is refused: %s", exc)
                    reported = str(exc)

    def refresh(self) -> bool:
        """Serve the generation committed on disk if it is not the one in use; whether it changed."""
        with self._write_lock:
            old = self.engine
            self._engine = reload_engine(old, self.settings.index_dir)
            return self._engine is not old

    def close(self) -> None:
        """Stop the watcher and release the embedding cache."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def create(self, doc: Document) -> tuple[WriteStatus, Engine]:
        """Add a new document; ConflictError if its id is taken."""

        def change(engine: Engine) -> tuple[WriteStatus, list[Document], list[str]]:
            if doc.id in engine.index.documents:
                raise ConflictError(f"document {doc.id!r} already exists; PUT /v1/documents/{{id}} replaces it")
            return "created", [doc], []

        return self._write(change)

    def put(self, doc: Document) -> tuple[WriteStatus, Engine]:
        """Add or replace a document (nothing is re-embedded when text and metadata are unchanged)."""

        def change(engine: Engine) -> tuple[WriteStatus, list[Document], list[str]]:
            old = engine.index.documents.get(doc.id)
            if old is None:
                return "created", [doc], []
            if old.checksum == doc.checksum and old.meta.as_dict() == doc.meta.as_dict():
                return "unchanged", [], []
            return "replaced", [doc], []

        return self._write(change)

    def delete(self, doc_id: str) -> tuple[WriteStatus, Engine]:
        """Remove a document; NotFoundError if there is none with that id."""

        def change(engine: Engine) -> tuple[WriteStatus, list[Document], list[str]]:
            if doc_id not in engine.index.documents:
                raise NotFoundError(f"no document {doc_id!r} in the index")
            return "deleted", [], [doc_id]

        return self._write(change)

    def _write(self, change: Change) -> tuple[WriteStatus, Engine]:
        """Apply ``change`` to the index as committed on disk now, commit the result, then make it current.

        IndexConflictError (409) when another process holds the index's writer lock for longer
        than :data:`WRITE_WAIT_SECONDS`.
        """
        directory = self.settings.index_dir
        # Milvus orders the writes itself (each document flips to its new version in one upsert)
        local = self.settings.index_backend != "milvus"
        with self._write_lock, writing(directory, timeout=WRITE_WAIT_SECONDS) if local else nullcontext():
            self._engine = reload_engine(self.engine, directory)
            status, upserts, removals = change(self._engine)
            if status == "unchanged":
                return status, self._engine
            if self._cache is None:
                self._cache = open_cache(self.settings)
            new = self._engine.with_changes(upserts, removals, self._cache)
            if isinstance(new.index, CorpusIndex):  # a segmented index has committed the change itself
                save_index(new.index, directory)
            self._engine = new
            return status, new
