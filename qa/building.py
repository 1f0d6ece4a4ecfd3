"""Opening what building and querying need: the encoder (loaded only when first used), the embedding
cache, and building or updating an index of any store from documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import cast

import numpy as np

from embeddings import CACHE_FILE, EmbeddingCache, Encoder, load_encoder
from embeddings.vector_index.segment import VectorKind
from qa.errors import InputError
from qa.index import (
    IndexSummary,
    choose_store,
    load_user_dictionary,
    open_for_update,
    save_index,
    update_index,
    writing,
)
from qa.index.milvus import MilvusTarget, sync_milvus
from qa.index.reader import IndexReader
from qa.index.segment_update import update_segmented
from qa.ingest import iter_documents
from qa.settings import IndexBackend, Settings
from qa.types import Document

#: Receives a line of text about slow one-time work (the first-run model conversion).
Report = Callable[[str], None]


def open_encoder(settings: Settings, *, report: Report | None = None) -> Encoder:
    """The configured embedding model (the default one is converted on first use, told to ``report``)."""
    if settings.user_dict is not None:
        load_user_dictionary(settings.user_dict)
    return load_encoder(
        settings.model,
        model_dir=settings.model_dir,
        device=settings.device,
        progress=report,
        backend=settings.encoder_backend,
        threads=settings.threads,
    )


class LazyEncoder:
    """An encoder loaded on first use: an index update with nothing to embed never loads the model."""

    def __init__(self, load: Callable[[], Encoder]) -> None:
        self._load = load
        self._encoder: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        """The encoder itself (loaded now if it was not yet)."""
        if self._encoder is None:
            self._encoder = self._load()
        return self._encoder

    @property
    def model_id(self) -> str:
        """The model's id (loads the model)."""
        return self.encoder.model_id

    @property
    def dim(self) -> int:
        """The vector width (loads the model)."""
        return self.encoder.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""
        return self.encoder.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages to be searched."""
        return self.encoder.encode_documents(texts, batch_size=batch_size, progress=progress)


def lazy_encoder(settings: Settings, *, report: Report | None = None) -> Encoder:
    """The configured encoder, loaded only when something is embedded (see :class:`LazyEncoder`)."""
    # read-only model_id/dim properties serve every reader of the Encoder protocol
    return cast(Encoder, LazyEncoder(lambda: open_encoder(settings, report=report)))


def open_cache(settings: Settings) -> EmbeddingCache:
    """The embedding cache (content-hash keyed, shared by every index)."""
    path = settings.cache_dir.expanduser() / CACHE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddingCache(path)


def build_index(
    paths: Sequence[Path],
    directory: Path,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    *,
    rebuild: bool = False,
    keep_missing: bool = False,
    allow_empty: bool = False,
    progress: bool = False,
    backend: IndexBackend = "auto",
    kind: VectorKind = "auto",
    milvus: MilvusTarget | None = None,
    nprobe: int | None = None,
) -> tuple[IndexReader, IndexSummary]:
    """Create or update the index at ``directory`` from ``paths`` and commit it.

    A directory that cannot be written fails (taking the lock) before anything is read or embedded;
    input with no document at all is refused (it would empty the index) unless ``allow_empty``. The
    writer lock is held from reading the index to committing the new one, so no other writer's work
    is lost in between. Nothing is written when nothing changed, and the encoder is only used for
    what must be embedded (give a :class:`LazyEncoder` to load it only then). ``backend``
    ``"segments"`` builds a segmented index (format 5) whose new vectors are of ``kind``; ``"auto"``
    keeps an existing index's store and picks one for a new index by the input's size
    (:func:`qa.index.opening.choose_store`); ``"milvus"`` writes the changed documents into the
    collections ``milvus`` names (``directory`` is not used). A segmented index returned searches
    ``nprobe`` IVF lists (None: the default).
    """
    found = iter_documents(list(paths))
    docs = found if allow_empty else require_documents(found, paths)
    if backend == "milvus":
        target = milvus or MilvusTarget()
        return sync_milvus(target, docs, encoder, cache, rebuild=rebuild, keep_missing=keep_missing, progress=progress)
    if choose_store(backend, directory, paths) == "segments":
        return update_segmented(
            directory,
            docs,
            encoder,
            cache,
            rebuild=rebuild,
            keep_missing=keep_missing,
            kind=kind,
            progress=progress,
            nprobe=nprobe,
        )
    with writing(directory):
        index, reusable = open_for_update(directory, encoder, rebuild=rebuild)
        summary = update_index(
            index, docs, encoder, cache, reusable=reusable, keep_missing=keep_missing, progress=progress
        )
        if summary.changed or not reusable:
            save_index(index, directory)
    return index, summary


def require_documents(documents: Iterable[Document], paths: Sequence[Path]) -> Iterator[Document]:
    """``documents`` as they come; InputError at the end when there was none."""
    empty = True
    for doc in documents:
        empty = False
        yield doc
    if empty:
        names = ", ".join(str(p) for p in paths)
        raise InputError(
            f"{names}: no documents (.txt, .md, .html or a corpus .jsonl); indexing nothing would empty the index "
            "(pass --allow-empty to do that)"
        )
