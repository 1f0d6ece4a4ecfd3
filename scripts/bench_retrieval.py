"""Retrieval benchmark: each leg alone and the fused ranking, on the seed dev set and ../shared/bench.

Usage: python scripts/bench_retrieval.py [--sets seed_dev,cmrc2018_dev,...] [--limit N] [--out DIR]

Indexes each corpus into DIR/<set>/index (embeddings come from the shared cache, so a rerun
re-embeds nothing), answers the questions in every mode, writes DIR/<set>/<mode>.jsonl (the
batch contract, for ../shared/eval/judge.py) and prints one table. Query latency (p50/p90 of
single in-process questions) is measured on the seed corpus.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.engine import Engine, build_index, open_cache, open_encoder  # noqa: E402
from qa.runs import answer_records, read_gold, score  # noqa: E402
from qa.search.retrieval import RetrievalConfig  # noqa: E402
from qa.settings import Settings  # noqa: E402

#: ../shared beside the checkout (or beside the folder of worktrees holding it).
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT.parent / "shared")
SETS = {
    "seed_dev": (ROOT / "seeds", SHARED / "eval" / "seed_questions_dev.jsonl"),
    "cmrc2018_dev": (SHARED / "bench/cmrc2018_dev/corpus.jsonl", SHARED / "bench/cmrc2018_dev/questions.jsonl"),
    "drcd_dev": (SHARED / "bench/drcd_dev/corpus.jsonl", SHARED / "bench/drcd_dev/questions.jsonl"),
    "xquad_zh": (SHARED / "bench/xquad_zh/corpus.jsonl", SHARED / "bench/xquad_zh/questions.jsonl"),
    "xquad_en_over_xquad_zh": (
        SHARED / "bench/xquad_en_over_xquad_zh/corpus.jsonl",
        SHARED / "bench/xquad_en_over_xquad_zh/questions.jsonl",
    ),
}
MODES = ("lexical", "dense", "hybrid")


def run_set(name: str, engine_for: dict[str, Engine], gold_path: Path, out: Path, limit: int | None) -> dict[str, str]:
    gold = read_gold(gold_path)[:limit]
    row = {}
    for mode, engine in engine_for.items():
        results = {}
        with (out / f"{mode}.jsonl").open("w", encoding="utf-8") as handle:
            for record in answer_records(gold, engine.ask_many, 10):
                results[record["id"]] = record["hits"]
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        s = score(gold, results)
        row[mode] = f"{s.recall[1]:.2f} / {s.recall[5]:.2f} / {s.mrr:.2f}"
        print(
            f"{name} {mode}: n={s.n} r1={s.recall[1]:.3f} r5={s.recall[5]:.3f} r10={s.recall[10]:.3f} mrr={s.mrr:.3f}",
            flush=True,
        )
    return row


def latency(engine: Engine, questions: list[str], rounds: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            engine.ask(q, 10)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--model", default=None)
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=CORPUS:QUESTIONS", help="another set")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="RetrievalConfig override")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    for extra in args.extra:
        name, paths = extra.split("=", 1)
        corpus_path, questions_path = paths.split(":", 1)
        SETS[name] = (Path(corpus_path), Path(questions_path))
    overrides = {key: float(value) for key, value in (item.split("=", 1) for item in args.config)}
    base = replace(RetrievalConfig(), **overrides)
    settings = Settings(**({"model": args.model} if args.model else {}))  # type: ignore[arg-type]
    encoder = open_encoder(settings)
    table = {}
    with open_cache(settings) as cache:
        for name in args.sets.split(","):
            corpus, gold_path = SETS[name]
            out = args.out / name
            out.mkdir(parents=True, exist_ok=True)
            index, summary = build_index([corpus], out / "index", encoder, cache, progress=sys.stderr.isatty())
            print(f"{name} index: {summary.describe()}", flush=True)
            modes = args.modes.split(",")
            engines = {m: Engine(index, encoder, replace(base, mode=m)) for m in modes}
            table[name] = run_set(name, engines, gold_path, out, args.limit)
            if name == "seed_dev" and "hybrid" in engines:
                p50, p90 = latency(engines["hybrid"], [g.question for g in read_gold(gold_path)])
                print(f"seed query latency, in process: p50 {p50:.1f} ms, p90 {p90:.1f} ms", flush=True)
    print("\n| set | lexical R@1 / R@5 / MRR | dense R@1 / R@5 / MRR | hybrid R@1 / R@5 / MRR |")
    print("|---|---|---|---|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(row.get(m, "-") for m in MODES) + " |")


if __name__ == "__main__":
    main()
