"""Retrieval benchmark: each leg alone, fused, and re-ranked, on the seed dev set and ../shared/bench.

Usage: python scripts/bench_retrieval.py [--sets seed_dev,cmrc2018_dev,...] [--limit N] [--out DIR] [--folds DIR]
                                        [--backend memory|segments|milvus]

Indexes each corpus into DIR/<set>/index (with ``--backend milvus``: a Milvus Lite file
DIR/<set>/milvus.db, or the server ``QA_MILVUS_URI`` names, collections prefixed by the set's name;
embeddings come from the shared cache, so a rerun
re-embeds nothing), answers the questions in every mode, writes DIR/<set>/<mode>.jsonl (the
batch contract, for ../shared/eval/judge.py) and prints one table. The `ranker` mode uses, for
each set, the models that never saw its dataset (FOLDS/<dataset>.txt and .answerability.json,
written by scripts/train_ranker.py). "No source found" is scored on a sample of each set's
questions asked of the other datasets' corpora (unanswerable) and on all of them over their own
(answerable). Query latency (p50/p90 of single in-process questions) is measured on the seed
corpus, fused order against re-ranked with the answerability model, interleaved in one run.
The index's store and vector type follow QA_INDEX_BACKEND and QA_VECTOR_INDEX (flat against IVF:
QA_INDEX_BACKEND=segments QA_VECTOR_INDEX=ivf, with another --out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import DATASET, SETS, QueryCachingEncoder, apply_subsamples  # noqa: E402

from embeddings.encoders import Encoder  # noqa: E402
from qa.building import build_index, open_cache, open_encoder  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.index.milvus import MilvusTarget  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.runs.evaluation import Gold, read_gold, score  # noqa: E402
from qa.search import answer_features, load_answerability, load_ranker  # noqa: E402
from qa.search.retrieval import RetrievalConfig  # noqa: E402
from qa.search.translation import is_english  # noqa: E402
from qa.settings import Settings  # noqa: E402

MODES = ("lexical", "dense", "hybrid", "ranker")
#: Questions of a set asked of each other dataset's corpus for the no-answer figures.
NO_ANSWER_SAMPLE = 100


def fold_engine(index: IndexReader, encoder: Encoder, config: RetrievalConfig, dataset: str, folds: Path) -> Engine:
    """An engine with the re-ranker and answerability model that never saw ``dataset`` (when trained)."""
    ranker_path = folds / f"{dataset}.txt"
    answer_path = folds / f"{dataset}.answerability.json"
    if not ranker_path.is_file():
        print(f"warning: no fold model {ranker_path}; the shipped one (trained on every set) is used", flush=True)
    return Engine(
        index,
        encoder,
        config,
        load_ranker(ranker_path if ranker_path.is_file() else None),
        load_answerability(answer_path if answer_path.is_file() else None),
    )


def milvus_target(settings: Settings, out: Path, name: str) -> MilvusTarget:
    """A set's Milvus index: a Lite file in its folder, or collections named after it on the configured server."""
    uri = settings.milvus_uri if "://" in settings.milvus_uri else str(out / "milvus.db")
    return MilvusTarget(uri, settings.milvus_token, name)


def run_set(name: str, engine_for: dict[str, Engine], gold: list[Gold], out: Path) -> dict[str, str]:
    """Scores of every mode (each mode's batch file written to OUT/<mode>.jsonl)."""
    row = {}
    for mode, engine in engine_for.items():
        results = {}
        with (out / f"{mode}.jsonl").open("w", encoding="utf-8") as handle:
            for start in range(0, len(gold), 64):
                group = gold[start : start + 64]
                for item, hits in zip(group, engine.ask_many([g.question for g in group], 10), strict=True):
                    results[item.id] = [h.as_dict() for h in hits]
                    handle.write(json.dumps({"id": item.id, "hits": results[item.id]}, ensure_ascii=False) + "\n")
        s = score(gold, results)
        row[mode] = f"{s.recall[1]:.3f} / {s.recall[5]:.3f} / {s.mrr:.3f}"
        print(
            f"{name} {mode}: n={s.n} r1={s.recall[1]:.3f} r5={s.recall[5]:.3f} r10={s.recall[10]:.3f} mrr={s.mrr:.3f}",
            flush=True,
        )
    return row


def latency(engines: list[Engine], questions: list[str], rounds: int = 3) -> list[tuple[float, float]]:
    """p50/p90 ms of single in-process questions for each engine, measured interleaved."""
    for engine in engines:
        engine.ask_checked(questions[:1], 10)  # warm-up
    times: list[list[float]] = [[] for _ in engines]
    for _ in range(rounds):
        for q in questions:
            for spent, engine in zip(times, engines, strict=True):
                started = time.perf_counter()
                engine.ask_checked([q], 10)
                spent.append((time.perf_counter() - started) * 1000)
    return [(statistics.median(t), sorted(t)[int(len(t) * 0.9)]) for t in times]


def probabilities(engine: Engine, questions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The answerability model's P(answerable) of each question over the engine's index, and its threshold."""
    model = engine.answerability
    assert model is not None
    rows = [answer_features(engine.index, pool) for pool in engine.retriever.pools(questions)]
    return np.array([model.probability(r) for r in rows]), np.array([model.threshold(r) for r in rows])


def no_answer_rows(name: str, own: Engine, over: list[Engine], gold: list[Gold]) -> list[str]:
    """Flag rates at the model's threshold and the threshold's trade-off, per question language.

    Answerable: the set's questions over its own corpus; unanswerable: a sample of them over each
    other dataset's corpus. A flag is "no source found"; precision is the share of flags that are right.
    """
    pick = sorted(np.random.default_rng(17).choice(len(gold), min(NO_ANSWER_SAMPLE, len(gold)), replace=False))
    sample = [gold[i].question for i in pick]
    answerable, own_threshold = probabilities(own, [g.question for g in gold])
    scored = [probabilities(engine, sample) for engine in over]
    unanswerable, over_threshold = np.concatenate([p for p, _ in scored]), np.concatenate([t for _, t in scored])
    english = np.array([is_english(g.question) for g in gold])
    english_sample = np.tile(np.array([is_english(q) for q in sample]), len(over))
    rows = []
    for lang, yes, no in (("zh", ~english, ~english_sample), ("en", english, english_sample)):
        if not yes.any():
            continue
        curve = []
        for t in (None, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            under, over_t = (own_threshold[yes], over_threshold[no]) if t is None else (t, t)
            caught, false = int((unanswerable[no] < over_t).sum()), int((answerable[yes] < under).sum())
            curve.append(
                f"{caught / max(1, no.sum()):.3f} / {false / yes.sum():.3f} / {caught / max(1, caught + false):.3f}"
            )
        rows.append(f"| {name} | {lang} | {int(no.sum())} / {int(yes.sum())} | " + " | ".join(curve) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--model", default=None)
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=CORPUS:QUESTIONS", help="another set")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="RetrievalConfig override")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--folds", type=Path, default=ROOT / "var" / "ranker" / "folds", help="held-out models")
    parser.add_argument("--passages", action="append", default=[], metavar="SET=N", help="a set's first N passages")
    parser.add_argument(
        "--backend", choices=("memory", "segments", "milvus"), help="index store (default: QA_INDEX_BACKEND)"
    )
    args = parser.parse_args()
    apply_subsamples(args.passages, args.out / "subsets")
    for extra in args.extra:
        name, paths = extra.split("=", 1)
        corpus_path, questions_path = paths.split(":", 1)
        SETS[name] = (Path(corpus_path), Path(questions_path))
    overrides = {key: float(value) for key, value in (item.split("=", 1) for item in args.config)}
    base = replace(RetrievalConfig(), **overrides)
    settings = Settings(**({"model": args.model} if args.model else {}))  # type: ignore[arg-type]
    modes = args.modes.split(",")
    table, indexes, golds = {}, {}, {}
    with open_cache(settings) as cache:
        raw = open_encoder(settings)
        encoder = QueryCachingEncoder(raw, cache)
        for name in args.sets.split(","):
            corpus, gold_path = SETS[name]
            out = args.out / name
            out.mkdir(parents=True, exist_ok=True)
            index, summary = build_index(
                [corpus],
                out / "index",
                encoder,
                cache,
                progress=sys.stderr.isatty(),
                backend=args.backend or settings.index_backend,
                kind=settings.vector_index,
                milvus=milvus_target(settings, out, name),
            )
            print(f"{name} index: {summary.describe()}", flush=True)
            indexes[name], golds[name] = index, read_gold(gold_path)[: args.limit]
            dataset = DATASET.get(name, name)
            engines = {
                m: fold_engine(index, encoder, base, dataset, args.folds)
                if m == "ranker"
                else Engine(index, encoder, replace(base, mode=m))
                for m in modes
            }
            table[name] = run_set(name, engines, golds[name], out)
            if name == "seed_dev" and "ranker" in engines:
                before, after = Engine(index, raw, base), Engine(index, raw, base, load_ranker(), load_answerability())
                (b50, b90), (a50, a90) = latency([before, after], [g.question for g in golds[name]])
                print(
                    f"seed query latency, in process: fused p50 {b50:.1f} ms, p90 {b90:.1f} ms; "
                    f"re-ranked with answerability p50 {a50:.1f} ms, p90 {a90:.1f} ms",
                    flush=True,
                )
        print("\n| set | lexical R@1 / R@5 / MRR | dense | hybrid (fusion) | learned ranker (held out) |")
        print("|---|---|---|---|---|")
        for name, row in table.items():
            print(f"| {name} | " + " | ".join(row.get(m, "-") for m in MODES) + " |")
        if "ranker" in modes:
            no_answer_table(table, indexes, golds, encoder, base, args.folds)


def no_answer_table(
    table: dict[str, dict[str, str]],
    indexes: dict[str, IndexReader],
    golds: dict[str, list[Gold]],
    encoder: Encoder,
    base: RetrievalConfig,
    folds: Path,
) -> None:
    """Print "no source found" on held-out folds: unanswerable flagged / answerable flagged / precision."""
    print('\n"no source found", held out: unanswerable flagged / answerable flagged / precision, at the')
    print("fold model's threshold, then with P(answerable) under t")
    thresholds = " | ".join(f"t={t:.1f}" for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))
    print(f"\n| questions | lang | unanswerable / answerable | model threshold | {thresholds} |")
    print("|---|---|---|---|" + "---|" * 7)
    for name in table:
        dataset = DATASET.get(name, name)
        others = [o for o in indexes if DATASET.get(o, o) != dataset and o != "xquad_en_over_xquad_zh"]
        over = [fold_engine(indexes[o], encoder, base, dataset, folds) for o in others]
        if over:
            own = fold_engine(indexes[name], encoder, base, dataset, folds)
            print("\n".join(no_answer_rows(name, own, over, golds[name])), flush=True)


if __name__ == "__main__":
    main()
