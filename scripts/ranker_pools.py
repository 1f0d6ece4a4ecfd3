"""Candidate pools of the benchmark sets, dumped once so that training and evaluation never re-encode.

For each set: its index (WORK/<set>/index, embeddings from the shared cache), its query vectors
(kept in the embedding cache) and WORK/pools/<set>.npz: the re-ranker features of the first DEPTH
fused candidates of every question with their labels (the sentence is from the gold source and
holds a whole gold span, as judge.py decides), their chunk ids, the fused order's first correct
rank, and the answerability features. WORK/pools/<questions>__over__<corpus>.npz holds the answerability
features of a set's questions asked of another corpus (unanswerable) and, in ``rows``, the
positions of those questions in the set's question file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import DATASET, SETS, UNANSWERABLE_SEED, QueryCachingEncoder, article_half, query_vectors  # noqa: E402
from language_shift import held_out_shifts  # noqa: E402

from embeddings.cache import EmbeddingCache  # noqa: E402
from embeddings.encoders import Encoder  # noqa: E402
from qa.building import build_index, open_cache, open_encoder  # noqa: E402
from qa.index import CorpusIndex  # noqa: E402
from qa.runs.evaluation import MAX_CITED_CHARS, Gold, read_gold  # noqa: E402
from qa.search.answerability import answer_features  # noqa: E402
from qa.search.features import candidate_features  # noqa: E402
from qa.search.ranker import DEPTH  # noqa: E402
from qa.search.retrieval import Pool, Retriever, head_of  # noqa: E402
from qa.settings import Settings  # noqa: E402

#: Questions of a set asked of another corpus (a fixed, seeded sample).
CROSS_SAMPLE = 300


def set_index(name: str, work: Path, encoder: Encoder, cache: EmbeddingCache) -> CorpusIndex:
    """The index of a set's corpus (built or updated in WORK/<set>/index)."""
    index, _ = build_index([SETS[name][0]], work / name / "index", encoder, cache)
    return index


def is_correct(index: CorpusIndex, chunk_id: int, gold: Gold) -> bool:
    """judge.py's rule: from the gold source, holding one whole gold span, at most MAX_CITED_CHARS long."""
    chunk = index.chunks[chunk_id].chunk
    if chunk.source != gold.source or chunk.end - chunk.start > MAX_CITED_CHARS:
        return False
    return any(chunk.start <= a and b <= chunk.end for a, b in gold.spans)


#: Per half of XQuAD's articles, the English questions' shift measured without that half (language_shift.py).
Shifts = dict[str, np.ndarray]


def held_out_pools(
    retriever: Retriever, questions: list[str], vectors: np.ndarray, halves: list[str | None], shifts: Shifts
) -> list[Pool]:
    """The pools of ``questions``; those of a half of XQuAD's articles under the shift that never saw that half."""
    pools: list[Pool | None] = [None] * len(questions)
    shipped = retriever.english_shift
    for half in (None, "even", "odd"):
        chosen = [i for i, h in enumerate(halves) if h == half]
        retriever.english_shift = shipped if half is None else shifts[half]
        for i, pool in zip(chosen, retriever.pools([questions[i] for i in chosen], vectors[chosen]), strict=True):
            pools[i] = pool
    retriever.english_shift = shipped
    return [p for p in pools if p is not None]


def dump_own(name: str, index: CorpusIndex, encoder: Encoder, work: Path, shifts: Shifts) -> None:
    """Features, labels and answerability features of a set's questions over its own corpus."""
    gold = read_gold(SETS[name][1])
    questions = [g.question for g in gold]
    halves = [article_half(g.source) for g in gold]
    pools = held_out_pools(Retriever(index, encoder), questions, query_vectors(questions, encoder), halves, shifts)
    features, labels, sizes, answer, fused_rank, chunks = [], [], [], [], [], []
    for item, pool in zip(gold, pools, strict=True):
        head = head_of(pool, DEPTH)
        rows = candidate_features(index, head)
        chunks.append(head.candidates.astype(np.int64))
        correct = [is_correct(index, int(c), item) for c in pool.candidates]
        features.append(rows)
        labels.append(np.array(correct[: len(head.candidates)], dtype=np.int8))
        sizes.append(len(head.candidates))
        answer.append(answer_features(index, pool, rows))
        fused_rank.append(correct.index(True) + 1 if any(correct) else 0)
    np.savez_compressed(
        work / "pools" / f"{name}.npz",
        features=np.concatenate(features),
        labels=np.concatenate(labels),
        sizes=np.array(sizes),
        answer=np.stack(answer),
        fused_rank=np.array(fused_rank),
        chunks=np.concatenate(chunks),
        ids=np.array([g.id for g in gold]),
    )


def questions_of(name: str) -> tuple[list[str], list[str | None]]:
    """A set's questions and the half of XQuAD's articles each is from ('unanswerable_seed': the seed corpus's list
    of questions it cannot answer)."""
    if name == "unanswerable_seed":
        found = [q.strip() for q in UNANSWERABLE_SEED.read_text(encoding="utf-8").splitlines() if q.strip()]
        return found, [None] * len(found)
    gold = read_gold(SETS[name][1])
    return [g.question for g in gold], [article_half(g.source) for g in gold]


def dump_cross(
    questions_from: str, corpus_of: str, index: CorpusIndex, encoder: Encoder, work: Path, shifts: Shifts
) -> None:
    """Answerability features of a seeded sample of one set's questions asked of another set's corpus."""
    questions, halves = questions_of(questions_from)
    vectors = query_vectors(questions, encoder)
    pick = np.arange(len(questions))
    if len(questions) > CROSS_SAMPLE:
        pick = np.sort(np.random.default_rng(17).choice(len(questions), CROSS_SAMPLE, replace=False))
        questions, vectors, halves = [questions[i] for i in pick], vectors[pick], [halves[i] for i in pick]
    pools = held_out_pools(Retriever(index, encoder), questions, vectors, halves, shifts)
    answer = np.stack([answer_features(index, pool) for pool in pools])
    np.savez_compressed(work / "pools" / f"{questions_from}__over__{corpus_of}.npz", answer=answer, rows=pick)


#: Sets whose questions are asked of the other datasets' corpora (xquad_en_over_xquad_zh: the English ones).
ASKERS = ("seed_dev", "cmrc2018_dev", "drcd_dev", "xquad_zh", "xquad_en_over_xquad_zh")


def cross_pairs(names: list[str]) -> list[tuple[str, str]]:
    """(question set, corpus) pairs with no answer: every asker over every other dataset's corpus."""
    corpora = [c for c in names if c != "xquad_en_over_xquad_zh"]  # the xquad_zh corpus again
    pairs = [(q, c) for q in ASKERS if q in names for c in corpora if DATASET[q] != DATASET[c]]
    return pairs + ([("unanswerable_seed", "seed_dev")] if "seed_dev" in names else [])


def dump_all(names: list[str], work: Path, settings: Settings, *, keep: bool = False) -> None:
    """Index every set, then dump its own pools and the cross pairs (with ``keep``, only the missing ones)."""
    pools = work / "pools"
    pools.mkdir(parents=True, exist_ok=True)
    with open_cache(settings) as cache:
        encoder = QueryCachingEncoder(open_encoder(settings), cache)
        indexes = {name: set_index(name, work, encoder, cache) for name in names}
        shifts = held_out_shifts(encoder)
        for name in names:
            if not (keep and (pools / f"{name}.npz").is_file()):
                print(f"pools of {name}", flush=True)
                dump_own(name, indexes[name], encoder, work, shifts)
        for asked, corpus in cross_pairs(names):
            if not (keep and (pools / f"{asked}__over__{corpus}.npz").is_file()):
                print(f"pools of {asked} over {corpus}", flush=True)
                dump_cross(asked, corpus, indexes[corpus], encoder, work, shifts)
