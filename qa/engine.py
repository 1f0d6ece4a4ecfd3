"""The pieces a command or a server needs, opened once: encoder, embedding cache, index, retriever."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from embeddings import DEFAULT_MODEL_NAME, EmbeddingCache, Encoder
from qa.building import Report, build_index, open_cache, open_encoder, require_documents
from qa.claims import ClaimCheck, check_claim
from qa.index import (
    CorpusIndex,
    add_documents,
    directory_state,
    load_index,
    open_index,
    read_current,
    remove_document,
)
from qa.index.generations import open_segmented
from qa.index.milvus import MilvusIndex, filter_expression, is_built, open_milvus, sync_milvus
from qa.index.milvus import apply_changes as apply_milvus_changes
from qa.index.reader import IndexReader
from qa.index.segment_writes import apply_changes
from qa.index.segmented import SegmentedIndex
from qa.ingest import iter_documents
from qa.search import (
    AnswerabilityModel,
    Hit,
    Reranker,
    RetrievalConfig,
    Retriever,
    answer_features,
    build_hits,
    load_answerability,
    load_ranker,
    promote_stated,
)
from qa.settings import Settings
from qa.text import check_text
from qa.types import Document

#: Retrieved sentences a claim is checked against.
_CLAIM_POOL = 20


@dataclass
class Engine:
    """An index and the encoder that queries it, with the optional re-ranker and answerability model."""

    index: IndexReader
    encoder: Encoder
    config: RetrievalConfig
    reranker: Reranker | None = None
    answerability: AnswerabilityModel | None = None

    @property
    def retriever(self) -> Retriever:
        """A retriever over the current index."""
        return Retriever(self.index, self.encoder, self.config, self.reranker)

    def ask_many(self, questions: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Hits for each question (queries encoded together); InputError for text that is not valid Unicode."""
        return [hits for hits, _ in self.ask_checked(questions, k)]

    def ask_checked(self, questions: Sequence[str], k: int = 10) -> list[tuple[list[Hit], bool | None]]:
        """Hits for each question, and whether the answerability model finds no source (None: no model)."""
        for question in questions:
            check_text(question, "question")
        retriever = self.retriever
        out: list[tuple[list[Hit], bool | None]] = []
        for pool in retriever.pools(questions):
            ranked = promote_stated(self.index, pool.question, retriever.ranked(pool, max(k * 3, k + 10)))
            hits = build_hits(self.index, ranked, k)
            model = self.answerability
            out.append((hits, None if model is None else model.unanswerable(answer_features(self.index, pool))))
        return out

    def ask(self, question: str, k: int = 10) -> list[Hit]:
        """Hits for one question."""
        return self.ask_many([question], k)[0]

    def cite(self, claim: str, k: int = 3) -> ClaimCheck:
        """The source sentences of a claim with a verdict each (see :mod:`qa.claims.verdicts`)."""
        fused = replace(self, reranker=None)  # the re-ranker is trained on questions, not claims
        return check_claim(self.index, claim, fused.ask(claim, max(_CLAIM_POOL, 3 * k)), k)

    def narrowed(self, sources: Collection[str] | None, date_from: str | None, date_to: str | None) -> Engine:
        """An engine whose dense searches keep to ``sources`` and the date range, where the index can (Milvus).

        Hits outside them may still come back (from the lexical leg, or from a local index): the
        caller drops them, as it does for any index.
        """
        if not isinstance(self.index, MilvusIndex) or (sources is None and date_from is None and date_to is None):
            return self
        return replace(self, index=self.index.restricted(filter_expression(sources, date_from, date_to)))

    def with_changes(
        self,
        upserts: Sequence[Document] = (),
        removals: Sequence[str] = (),
        cache: EmbeddingCache | None = None,
    ) -> Engine:
        """A new engine over a copy of this index with ``removals`` dropped and ``upserts`` added or replaced.

        Copy-on-write: this engine and its index are left untouched, so queries can keep using
        them while the new index is built. A removal of an unknown id raises NotFoundError. A
        segmented index commits the change to its directory (a new small segment, nothing copied).
        """
        if isinstance(self.index, SegmentedIndex):
            new, _, _ = apply_changes(self.index.directory, self.index, upserts, removals, self.encoder, cache)
            return replace(self, index=new)
        if isinstance(self.index, MilvusIndex):
            milvus, _, _ = apply_milvus_changes(self.index, upserts, removals, self.encoder, cache)
            return replace(self, index=milvus)
        if not isinstance(self.index, CorpusIndex):
            raise TypeError(f"cannot write to an index of type {type(self.index).__name__}")
        index = copy_index(self.index)
        for doc_id in removals:
            index.document(doc_id)
            remove_document(index, doc_id)
        for doc in upserts:
            if doc.id in index.documents:
                remove_document(index, doc.id)
        add_documents(index, list(upserts), self.encoder, cache)
        _ = index.lexical, index.row_of  # derived structures built here, not by the first query
        return replace(self, index=index)


def copy_index(index: CorpusIndex) -> CorpusIndex:
    """An independent copy of an index (its documents and chunks are never changed in place, so they are shared)."""
    return CorpusIndex(
        index.model_id,
        index.dim,
        index.sentence_index.copy(),
        index.context_index.copy(),
        documents=dict(index.documents),
        chunks=dict(index.chunks),
        generation=index.generation,
    )


def open_engine(
    settings: Settings,
    *,
    progress: bool = False,
    config: RetrievalConfig | None = None,
    report: Report | None = None,
    build: bool = False,
) -> Engine:
    """Load and verify the configured index; with ``build`` (a server's first run), build it from the
    configured corpus when the index directory is absent or empty (with a progress bar if ``progress``).
    Nothing else ever writes it. A first-run model conversion is told to ``report``.

    The re-ranker and the answerability model are used with the default embedding model only;
    with another one the fused order and the cosine rule decide.
    """
    encoder = open_encoder(settings, report=report)
    if settings.index_backend == "milvus":
        index: IndexReader = _open_milvus(settings, encoder, build=build, progress=progress)
    elif build and directory_state(settings.index_dir) in ("absent", "empty"):
        with open_cache(settings) as cache:
            index, _ = build_index(
                [settings.corpus],
                settings.index_dir,
                encoder,
                cache,
                progress=progress,
                backend=settings.index_backend,
                kind=settings.vector_index,
                nprobe=settings.ivf_nprobe,
            )
    else:
        index = open_index(
            settings.index_dir, setting=settings.index_backend, model_id=encoder.model_id, nprobe=settings.ivf_nprobe
        )
    trained_for = settings.model == DEFAULT_MODEL_NAME  # both models learnt the default model's scores
    return Engine(
        index,
        encoder,
        config or RetrievalConfig(),
        load_ranker() if settings.ranker == "on" and trained_for else None,
        load_answerability() if settings.no_answer == "model" and trained_for else None,
    )


def _open_milvus(settings: Settings, encoder: Encoder, *, build: bool, progress: bool) -> IndexReader:
    """The Milvus index of ``settings``; with ``build``, built from the configured corpus when it holds none."""
    target = settings.milvus_target()
    if build and not is_built(target):
        with open_cache(settings) as cache:
            docs = require_documents(iter_documents([settings.corpus]), [settings.corpus])
            return sync_milvus(target, docs, encoder, cache, progress=progress)[0]
    return open_milvus(target, model_id=encoder.model_id)


def reload_engine(engine: Engine, directory: Path) -> Engine:
    """The engine over the index committed at ``directory`` now (``engine`` itself when it is that one).

    An index in Milvus is always read as it is now: its engine is kept.
    """
    if isinstance(engine.index, MilvusIndex) or read_current(directory) == engine.index.generation:
        return engine
    if isinstance(engine.index, SegmentedIndex):
        reopened = open_segmented(directory, model_id=engine.encoder.model_id, nprobe=engine.index.nprobe)
        return replace(engine, index=reopened)
    return replace(engine, index=load_index(directory, model_id=engine.encoder.model_id))
