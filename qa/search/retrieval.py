"""Hybrid retrieval: dense and lexical candidates, fused on normalized scores, ranked as sentences.

Fusion works on scores, not ranks. Each leg's scores are standardized against its own
top-candidate distribution, and the lexical leg's weight scales with how much of the
question it actually matched, so a lexical leg that matches nothing (an English question
over Chinese text) has no vote. Sentences then get a share of the best evidence found in
their own passage, and a small bonus when they hold the kind of answer the question asks
for (a number for 多少, a date for 哪一年). Short lines without closing punctuation (headings,
captions) are pushed down, unless they hold that kind of answer (a date line for 哪一天).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple, Protocol

import numpy as np

from embeddings import Encoder
from qa.index import tokenize
from qa.index.reader import DenseView, IndexReader, chunks_of
from qa.search.answer_types import answer_type_bonus, is_label
from qa.search.crosslingual import FOREIGN_COVERAGE, english_shift, moved_query
from qa.search.translation import is_english, rendered

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs of the ranking; the defaults are the measured best (see scripts/bench_retrieval.py)."""

    mode: Mode = "hybrid"
    candidates: int = 100
    context_weight: float = 1.0
    lexical_weight: float = 1.0
    passage_weight: float = 0.3
    answer_type_weight: float = 0.3
    label_penalty: float = 1.0
    translated_weight: float = 0.5
    language_shift: bool = True


@dataclass(frozen=True)
class Scored:
    """A candidate chunk with its fused score and the evidence behind it."""

    chunk_id: int
    score: float
    dense: float
    lexical: float


def _standardize(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    std = float(reference.std()) if len(reference) else 0.0
    if std < 1e-9:
        return np.zeros_like(values)
    return (values - float(reference.mean())) / std


def lexical_trust(coverage: float) -> float:
    """How far to trust BM25, from the share of question tokens it found in the index.

    Chinese questions over Chinese text match 65-90% of their tokens (10th-90th percentile on
    xquad_zh); an English question over Chinese text matches at most a few names and numbers
    (90th percentile 40%). Up to 40% the lexical leg gets no vote; from 75% on, a full one.
    """
    return float(np.clip((coverage - 0.4) / 0.35, 0.0, 1.0))


@dataclass(frozen=True)
class Pool:
    """The candidates of one question, best fused score first, with every score the fusion saw.

    ``lexical_tokens`` are the question's lexical tokens (None when the lexical leg is off): the
    index's ``lexical.score`` gives BM25 of any other sentence for them;
    ``cosine``/``context_cosine`` are the cosines of the sentence alone and in context. For an
    English question over text it hardly matches word for word, ``translated`` is the BM25 score
    of each candidate for the question's Chinese renderings and ``translation`` the share of its
    content words rendered (None and 0 otherwise). For an English question whose query vector
    was moved by the language shift (:mod:`qa.search.crosslingual`), ``encoded`` is the pool the
    vector as encoded gives (what "no source found" and the cosine thresholds were measured on).
    """

    question: str
    query: np.ndarray | None
    candidates: np.ndarray
    fused: np.ndarray
    dense: np.ndarray
    cosine: np.ndarray
    context_cosine: np.ndarray
    lexical: np.ndarray
    lexical_tokens: tuple[str, ...] | None
    coverage: float
    translated: np.ndarray | None = None
    translation: float = 0.0
    encoded: Pool | None = None


class _LexicalLegs(NamedTuple):
    """A question's lexical candidates and its translated terms' candidates (whatever its query vector)."""

    ids: np.ndarray
    top: np.ndarray
    tokens: tuple[str, ...] | None
    coverage: float
    translated_ids: np.ndarray
    translated_top: np.ndarray
    terms: tuple[str, ...] | None
    translation: float


class Reranker(Protocol):
    """Re-scores the head of a pool (see :mod:`qa.search.ranker`)."""

    depth: int

    def scores(self, index: IndexReader, pool: Pool) -> np.ndarray:
        """One score per candidate of ``pool`` (higher is better)."""
        ...


class Retriever:
    """Ranks the sentences of one index for questions, with one encoder and an optional re-ranker."""

    def __init__(
        self,
        index: IndexReader,
        encoder: Encoder,
        config: RetrievalConfig | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        #: Taken from the query vector of an English question over text in another language (None: kept as is).
        self.english_shift = english_shift(index.model_id) if self.config.language_shift else None

    def search_many(self, questions: Sequence[str], k: int = 10) -> list[list[Scored]]:
        """Ranked candidates for each question (queries are encoded in one batch)."""
        return [self.ranked(pool, k) for pool in self.pools(questions)]

    def pools(self, questions: Sequence[str], vectors: np.ndarray | None = None) -> list[Pool]:
        """The candidate pool of each question; ``vectors`` are its query vectors when already encoded."""
        if not questions:
            return []
        if vectors is None and self.config.mode != "lexical":
            vectors = self.encoder.encode_queries(list(questions))
        return [self._pool(q, None if vectors is None else vectors[i]) for i, q in enumerate(questions)]

    def ranked(self, pool: Pool, k: int) -> list[Scored]:
        """The best ``k`` of a pool: the re-ranker orders its head, the fused score the rest."""
        scores = pool.fused
        if self.reranker is not None and len(pool.candidates):
            depth = min(self.reranker.depth, len(pool.candidates))
            head = self.reranker.scores(self.index, head_of(pool, depth))
            tail = pool.fused[depth:] - pool.fused[depth - 1] + float(head.min()) - 1.0
            scores = np.concatenate([head, tail]).astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        dense = pool.dense[order]
        if pool.encoded is not None and pool.encoded.query is not None:  # thresholds know the vector as encoded
            dense = self._dense(*self._cosines(pool.candidates[order], pool.encoded.query))
        return [
            Scored(int(pool.candidates[i]), float(scores[i]), float(d), float(pool.lexical[i]))
            for i, d in zip(order, dense, strict=True)
        ]

    def _dense_candidates(self, qvec: np.ndarray) -> np.ndarray:
        """Ids of the best sentences alone and the best sentences in context."""
        query = qvec[None, :].astype(np.float32)
        found = [vectors.search(query, self.config.candidates)[1][0] for vectors in self._dense_views()]
        ids = np.concatenate(found)
        return ids[ids >= 0]

    def _dense_views(self) -> list[DenseView]:
        return [self.index.sentence_index] + ([self.index.context_index] if self.config.context_weight else [])

    def _cosines(self, candidates: np.ndarray, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's cosine alone and in context (the latter zero when context is off)."""
        alone = np.asarray(self.index.sentence_index.vectors(candidates) @ qvec, dtype=np.float32)
        if not self.config.context_weight:
            return alone, np.zeros_like(alone)
        return alone, np.asarray(self.index.context_index.vectors(candidates) @ qvec, dtype=np.float32)

    def _lexical_candidates(self, question: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], float]:
        """(top chunk ids, their BM25 scores, the question's tokens, share of them found in the index)."""
        tokens = tokenize(question)
        ids, scores = self.index.lexical.top(tokens, self.config.candidates)
        return ids, scores, tuple(tokens), self._coverage(tokens)

    def _translated_candidates(
        self, question: str, coverage: float
    ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None, float]:
        """(top chunk ids, their BM25 scores, the terms, confidence) for an English question's Chinese renderings.

        Only in hybrid mode, and when the index matches under FOREIGN_COVERAGE of the question's own tokens.
        """
        nothing = (np.array([], np.int64), np.array([], np.float32), None, 0.0)
        if self.config.mode != "hybrid" or not self.config.translated_weight or coverage >= FOREIGN_COVERAGE:
            return nothing
        groups, share = rendered(question) if is_english(question) else ([], 0.0)
        if not groups:
            return nothing
        terms = tuple(tokenize(" ".join(t for g in groups for t in g)))
        ids, scores = self.index.lexical.top(terms, self.config.candidates)
        return ids, scores, terms, share

    def _coverage(self, tokens: Sequence[str]) -> float:
        """The share of the question's tokens found in the index."""
        return len(self.index.lexical.known(tokens)) / len(tokens) if tokens else 0.0

    def _pool(self, question: str, qvec: np.ndarray | None) -> Pool:
        legs = self._lexical_legs(question)
        if qvec is None or self.english_shift is None or not is_english(question):
            return self._fused(question, qvec, legs)
        known = legs.coverage if legs.tokens is not None else self._coverage(tokenize(question))
        moved = moved_query(qvec, self.english_shift, known)
        encoded = None if moved is qvec else self._fused(question, qvec, legs)
        return self._fused(question, moved, legs, encoded)

    def _lexical_legs(self, question: str) -> _LexicalLegs:
        ids, top, tokens, coverage = (
            self._lexical_candidates(question)
            if self.config.mode != "dense"
            else (np.array([], np.int64), np.array([], np.float32), None, 0.0)
        )
        translated_ids, translated_top, terms, translation = self._translated_candidates(question, coverage)
        return _LexicalLegs(ids, top, tokens, coverage, translated_ids, translated_top, terms, translation)

    def _fused(self, question: str, qvec: np.ndarray | None, legs: _LexicalLegs, encoded: Pool | None = None) -> Pool:
        cfg = self.config
        index = self.index
        lex_ids, lex_top, tokens, coverage, trans_ids, trans_top, terms, translation = legs
        dense_ids = self._dense_candidates(qvec) if qvec is not None else np.array([], np.int64)
        candidates = np.unique(np.concatenate([dense_ids, lex_ids, trans_ids])).astype(np.int64)
        empty = np.zeros(len(candidates), dtype=np.float32)
        cosine, context = self._cosines(candidates, qvec) if qvec is not None else (empty, empty)
        dense = self._dense(cosine, context)
        lexical = index.lexical.score(tokens, candidates) if tokens is not None else empty
        fused: np.ndarray = np.zeros(len(candidates), dtype=np.float32)
        if qvec is not None:
            fused += _standardize(dense, dense[np.isin(candidates, dense_ids)])
        if tokens is not None and lexical.max(initial=0.0) > 0:
            weight = 1.0 if cfg.mode == "lexical" else cfg.lexical_weight * lexical_trust(coverage)
            fused += weight * _standardize(lexical, lex_top)
        translated = index.lexical.score(terms, candidates) if terms is not None else None
        if translated is not None and translated.max(initial=0.0) > 0:
            fused = fused + cfg.translated_weight * translation * _standardize(translated, trans_top)
        chunks = chunks_of(index, candidates)
        fused = self._with_passage([c.source for c in chunks], fused)
        texts = [c.text for c in chunks]
        holds_asked = answer_type_bonus(question, texts)
        fused = fused + cfg.answer_type_weight * holds_asked
        labels = np.array([is_label(t) for t in texts], dtype=np.float32) * (1.0 - holds_asked)
        fused = fused - cfg.label_penalty * labels
        o = np.argsort(-fused, kind="stable")
        ordered = (candidates[o], fused[o], dense[o], cosine[o], context[o], lexical[o])
        in_order = None if translated is None else translated[o]
        return Pool(question, qvec, *ordered, tokens, coverage, in_order, translation, encoded)

    def _dense(self, cosine: np.ndarray, context: np.ndarray) -> np.ndarray:
        weight = self.config.context_weight
        return (cosine + weight * context) / (1.0 + weight)

    def _with_passage(self, sources: list[str], fused: np.ndarray) -> np.ndarray:
        """Add a share of the best score of each candidate's paragraph neighbourhood and document."""
        if not self.config.passage_weight:
            return fused
        best_in_doc: dict[str, float] = {}
        for source, score in zip(sources, fused, strict=True):
            best_in_doc[source] = max(best_in_doc.get(source, -np.inf), float(score))
        doc_best = np.array([best_in_doc[source] for source in sources], dtype=np.float32)
        return fused + self.config.passage_weight * doc_best


def head_of(pool: Pool, n: int) -> Pool:
    """The first ``n`` candidates of a pool."""
    return replace(
        pool,
        candidates=pool.candidates[:n],
        fused=pool.fused[:n],
        dense=pool.dense[:n],
        cosine=pool.cosine[:n],
        context_cosine=pool.context_cosine[:n],
        lexical=pool.lexical[:n],
        translated=None if pool.translated is None else pool.translated[:n],
    )
