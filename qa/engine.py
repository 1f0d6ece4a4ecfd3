"""The pieces a command or a server needs, opened once: encoder, embedding cache, index, retriever."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings.cache import EmbeddingCache, default_cache_path
from embeddings.encoders import Encoder, load_encoder
from embeddings.vector_index import NumpyIndex, VectorIndex, new_vector_index
from qa.claims import ClaimCheck, check_claim
from qa.errors import InputError
from qa.index import (
    CorpusIndex,
    IndexSummary,
    add_documents,
    load_index,
    load_user_dictionary,
    open_for_update,
    remove_document,
    save_index,
    update_index,
)
from qa.ingest import iter_documents
from qa.search import Hit, RetrievalConfig, Retriever, build_hits
from qa.settings import Settings
from qa.text import check_text
from qa.types import Document


def open_encoder(settings: Settings) -> Encoder:
    """The configured embedding model (the default one is converted on first use)."""
    if settings.user_dict is not None:
        load_user_dictionary(settings.user_dict)
    return load_encoder(settings.model, model_dir=settings.model_dir, device=settings.device)


def open_cache(settings: Settings) -> EmbeddingCache:
    """The embedding cache (content-hash keyed, shared by every index)."""
    path = settings.cache_dir / "embeddings.sqlite" if settings.cache_dir else default_cache_path()
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
) -> tuple[CorpusIndex, IndexSummary]:
    """Create or update the index at ``directory`` from ``paths`` and save it atomically.

    A directory that cannot be written fails before anything is read or embedded; input with
    no document at all is refused (it would empty the index) unless ``allow_empty``.
    """
    check_writable(directory)
    index, reusable = open_for_update(directory, encoder, rebuild=rebuild)
    documents = iter_documents(list(paths))
    summary = update_index(
        index,
        documents if allow_empty else require_documents(documents, paths),
        encoder,
        cache,
        reusable=reusable,
        keep_missing=keep_missing,
        progress=progress,
    )
    save_index(index, directory)
    return index, summary


def check_writable(directory: Path) -> None:
    """InputError unless an index can be written at ``directory`` (its parent is created if need be)."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory.parent):
            pass
    except OSError as exc:
        raise InputError(f"{directory}: an index cannot be written there ({exc.strerror or exc})") from None


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


#: Retrieved sentences a claim is checked against.
_CLAIM_POOL = 20


@dataclass
class Engine:
    """An index and the encoder that queries it."""

    index: CorpusIndex
    encoder: Encoder
    config: RetrievalConfig

    @property
    def retriever(self) -> Retriever:
        """A retriever over the current index."""
        return Retriever(self.index, self.encoder, self.config)

    def ask_many(self, questions: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Hits for each question (queries encoded together); InputError for text that is not valid Unicode."""
        for question in questions:
            check_text(question, "question")
        ranked = self.retriever.search_many(questions, k=max(k * 3, k + 10))
        return [build_hits(self.index, r, k) for r in ranked]

    def ask(self, question: str, k: int = 10) -> list[Hit]:
        """Hits for one question."""
        return self.ask_many([question], k)[0]

    def cite(self, claim: str, k: int = 3) -> ClaimCheck:
        """The source sentences of a claim with a verdict each (see :mod:`qa.claims.verdicts`)."""
        return check_claim(self.index, claim, self.ask(claim, max(_CLAIM_POOL, 3 * k)), k)

    def with_changes(
        self,
        upserts: Sequence[Document] = (),
        removals: Sequence[str] = (),
        cache: EmbeddingCache | None = None,
    ) -> Engine:
        """A new engine over a copy of this index with ``removals`` dropped and ``upserts`` added or replaced.

        Copy-on-write: this engine and its index are left untouched, so queries can keep using
        them while the new index is built. A removal of an unknown id raises NotFoundError.
        """
        index = copy_index(self.index)
        for doc_id in removals:
            index.document(doc_id)
            remove_document(index, doc_id)
        for doc in upserts:
            if doc.id in index.documents:
                remove_document(index, doc.id)
        add_documents(index, list(upserts), self.encoder, cache)
        _ = index.lexical, index.row_of  # derived structures built here, not by the first query
        return Engine(index, self.encoder, self.config)


def _copy_vectors(vectors: VectorIndex) -> VectorIndex:
    copy = new_vector_index(vectors.dim, "numpy" if isinstance(vectors, NumpyIndex) else "faiss")
    ids = vectors.ids()
    if len(ids):
        copy.add(ids, vectors.vectors(ids))
    return copy


def copy_index(index: CorpusIndex) -> CorpusIndex:
    """An independent copy of an index (its documents and chunks are never changed in place, so they are shared)."""
    return CorpusIndex(
        index.model_id,
        index.dim,
        documents=dict(index.documents),
        chunks=dict(index.chunks),
        vectors=_copy_vectors(index.vector_index),
        context_vectors=_copy_vectors(index.context_index),
    )


def open_engine(settings: Settings, *, progress: bool = False, config: RetrievalConfig | None = None) -> Engine:
    """Load the configured index (building it from the configured corpus when absent)."""
    encoder = open_encoder(settings)
    if (settings.index_dir / "manifest.json").is_file():
        index = load_index(settings.index_dir, model_id=encoder.model_id)
    else:
        with open_cache(settings) as cache:
            index, _ = build_index([settings.corpus], settings.index_dir, encoder, cache, progress=progress)
    return Engine(index, encoder, config or RetrievalConfig())
