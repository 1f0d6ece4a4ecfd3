"""In-process measurements of scripts/bench_scale.py: query latency and ANN recall against flat search.

- :func:`query_latency`: ``Engine.ask_checked`` on the opened index with the shipped re-ranker and
  answerability model (what a server on the default model runs), p50/p99 without query encoding
  (the fake encoder's vectors) and, when a real encoder is given, with it (each question is also
  encoded by the real model, whose vector is then replaced by the fake one the index needs).
- :func:`index_recall`: recall@10 of each IVF segment of a built index against exact search
  over the same stored vectors, for the bench questions' (fake) vectors.
- :func:`real_recall`: recall@10 of IVF against flat on real embeddings: the sentence and
  context vectors of the bench corpora found in the embedding cache, searched with the cached
  vectors of their questions (model id ``<model>:query``), for several ``nlist`` and ``nprobe``.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings import EmbeddingCache, Encoder, FakeEncoder, content_key
from embeddings.vector_index.segment import (
    HNSW_SEARCH_EF,
    SegmentVectors,
    default_nprobe,
    ivf_lists,
    write_segment_vectors,
)
from qa.engine import Engine
from qa.index import open_index
from qa.index.generations import open_segmented
from qa.index.reader import IndexReader
from qa.ingest import context_texts, iter_documents, segment
from qa.search import RetrievalConfig, load_answerability, load_ranker


class _TimedEncoder:
    """Encodes queries with the real model (for its time) and returns the fake vectors the index holds."""

    def __init__(self, real: Encoder, fake: FakeEncoder) -> None:
        self.real, self.fake = real, fake
        self.model_id, self.dim = fake.model_id, fake.dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.real.encode_queries(list(texts))
        return self.fake.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.fake.encode_documents(texts)


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return 1000 * statistics.median(ordered), 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def query_latency(
    index_dir: Path, dim: int, asked: list[str], real: Encoder | None, backend: str = "segments"
) -> dict[str, float]:
    """p50/p99 (ms) of one question at a time, in process, without and (given ``real``) with query encoding.

    With ``real``, each pass takes its own half of ``asked``, so neither answers from what the
    other left in the caches.
    """
    fake = FakeEncoder(dim)
    index: IndexReader = open_index(index_dir, setting=backend)
    out: dict[str, float] = {}
    passes: list[tuple[str, object, list[str]]] = (
        [("inproc", fake, asked[0::2]), ("inproc_enc", _TimedEncoder(real, fake), asked[1::2])]
        if real
        else [("inproc", fake, asked)]
    )
    for name, encoder, questions in passes:
        engine = Engine(index, encoder, RetrievalConfig(), load_ranker(), load_answerability())  # type: ignore[arg-type]
        engine.ask_checked(["园区"], 10)  # loads jieba and the models; a question of no bench set
        gc.freeze()  # as `qa serve` does once started
        latencies = []
        for question in questions:
            start = time.perf_counter()
            engine.ask_checked([question], 10)
            latencies.append(time.perf_counter() - start)
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = _percentiles(latencies)
    return out


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each row's exact top ids that were found."""
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found.tolist(), exact.tolist(), strict=True)]))


def _exact(vectors: SegmentVectors, queries: np.ndarray, k: int) -> np.ndarray:
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.empty((len(queries), 0), np.int64)
    for start in range(0, len(vectors), 100_000):
        rows = np.arange(start, min(start + 100_000, len(vectors)))
        scores = queries @ vectors.reconstruct(rows).T
        best_s, best_i = np.hstack([best_s, scores]), np.hstack([best_i, np.broadcast_to(rows, scores.shape)])
        order = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, order, 1), np.take_along_axis(best_i, order, 1)
    return best_i


def index_recall(index_dir: Path, dim: int, asked: list[str], k: int = 10) -> float:
    """Recall@k of the ANN segments of an index against exact search over their stored vectors (nan if none)."""
    queries = FakeEncoder(dim).encode_queries(asked)
    found = []
    for part in open_segmented(index_dir).parts:
        for vectors in (part.segment.sentence, part.segment.context):
            if vectors.kind != "flat":
                found.append(recall_at(vectors.search(queries, k)[1], _exact(vectors, queries, k)))
    return float(np.mean(found)) if found else float("nan")


def _cached_vectors(cache: EmbeddingCache, model_id: str, corpus: Path) -> tuple[np.ndarray, np.ndarray]:
    sentence_keys, context_keys = [], []
    for doc in iter_documents([corpus]):
        chunks = segment(doc)
        sentence_keys += [content_key(c.text) for c in chunks]
        context_keys += [content_key(t) for t in context_texts(chunks, doc.meta)]
    views = []
    for keys in (sentence_keys, context_keys):
        found = cache.get_many(model_id, keys)
        views.append(np.array([found[k] for k in keys if k in found], dtype=np.float32).reshape(-1, cache_dim(found)))
    return views[0], views[1]


def cache_dim(found: dict[str, np.ndarray]) -> int:
    """The width of the cached vectors (384 when none was found)."""
    return len(next(iter(found.values()))) if found else 384


def real_recall(cache_path: Path, model_id: str, sets: dict[str, tuple[Path, list[str]]], k: int = 10) -> list[str]:
    """Lines of a table: recall@k of HNSW and IVF (per nlist, nprobe) against flat on the cached real
    embeddings of ``sets``; HNSW also at depth 100, the candidates a question takes from each view."""
    with EmbeddingCache(cache_path) as cache:
        parts = [_cached_vectors(cache, model_id, corpus) for corpus, _ in sets.values()]
        questions = [q for _, qs in sets.values() for q in qs]
        found = cache.get_many(f"{model_id}:query", [content_key(q) for q in questions])
    queries = np.array(list(found.values()), dtype=np.float32)
    lines = [f"real embeddings of {', '.join(sets)}: {len(queries)} cached questions"]
    for view, data in (("sentence", np.vstack([p[0] for p in parts])), ("context", np.vstack([p[1] for p in parts]))):
        with tempfile.TemporaryDirectory() as tmp:
            write_segment_vectors(Path(tmp) / "flat.faiss", data, "flat")
            flat = SegmentVectors(Path(tmp) / "flat.faiss")
            write_segment_vectors(Path(tmp) / "hnsw.faiss", data, "hnsw")
            hnsw = SegmentVectors(Path(tmp) / "hnsw.faiss")
            for depth in (k, 100):
                effort = f"ef {max(HNSW_SEARCH_EF, 2 * depth)}"
                lines.append(_recall_line(view, len(data), "hnsw", effort, depth, hnsw, flat, queries))
            for nlist in sorted({ivf_lists(len(data)), 64, 128, 256}):
                write_segment_vectors(Path(tmp) / "ivf.faiss", data, "ivf", nlist=nlist)
                for nprobe in sorted({nlist // 16, nlist // 8, default_nprobe(nlist), nlist // 4}):
                    ivf = SegmentVectors(Path(tmp) / "ivf.faiss", nprobe=nprobe)
                    line = _recall_line(view, len(data), f"ivf {nlist}", f"nprobe {nprobe}", k, ivf, flat, queries)
                    lines.append(line)
    return lines


def _recall_line(
    view: str, n: int, kind: str, effort: str, k: int, ann: SegmentVectors, flat: SegmentVectors, queries: np.ndarray
) -> str:
    exact, got = flat.search(queries, k)[1], ann.search(queries, k)[1]
    top1 = float(np.mean(got[:, 0] == exact[:, 0]))
    return f"| {view} | {n} | {kind} | {effort} | {k} | {recall_at(got, exact):.4f} | {top1:.4f} |"
