"""Check ``qa eval``'s metrics against ir_measures (pytrec_eval) on the batch files of the retrieval benchmark.

Usage: python scripts/compare_ir_measures.py [--sets seed_dev,xquad_zh] [--mode hybrid] [--out DIR]

For each set, reads DIR/<set>/<mode>.jsonl and DIR/<set>/index (what scripts/bench_retrieval.py
writes), writes DIR/<set>/<mode>.trec and DIR/<set>/gold.qrels, and prints both scorers side by
side. qa eval's recall@k counts a question found when any correct sentence is in the top k: that
is ir_measures' Success@k, and equals R@k when a question has one relevant sentence.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import ir_measures
from ir_measures import RR, R, Success

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_retrieval import SETS  # noqa: E402

from qa.index import load_index  # noqa: E402
from qa.runs import output_format, qrels, read_gold, read_results, score  # noqa: E402
from qa.runs.trec import render_run  # noqa: E402

MEASURES = [R @ 1, R @ 5, Success @ 1, Success @ 5, Success @ 10, RR @ 10]


def compare(name: str, folder: Path, mode: str) -> None:
    gold = read_gold(SETS[name][1])
    index = load_index(folder / "index")
    results = read_results(folder / f"{mode}.jsonl", output_format("jsonl"))
    run, qrels_path = folder / f"{mode}.trec", folder / "gold.qrels"
    run.write_text("".join(render_run({"id": q, "hits": hits}) for q, hits in results.items()), encoding="utf-8")

    def sentences(source: str) -> list[tuple[int, int]]:
        chunks = index.document_chunks(source) if source in index.documents else []
        return [(c.start, c.end) for c in chunks]

    text = qrels(gold, sentences)
    qrels_path.write_text(text, encoding="utf-8")
    ours = score(gold, results)
    theirs = ir_measures.calc_aggregate(
        MEASURES, list(ir_measures.read_trec_qrels(str(qrels_path))), list(ir_measures.read_trec_run(str(run)))
    )
    per_question = Counter(line.split()[0] for line in text.splitlines())
    several = sum(1 for n in per_question.values() if n > 1)
    print(f"{name} ({ours.n} questions, {several} with more than one relevant sentence)")
    print(f"  qa eval:     recall@1 {ours.recall[1]:.3f}  recall@5 {ours.recall[5]:.3f}  mrr@10 {ours.mrr:.3f}")
    print(
        f"  ir_measures: Success@1 {theirs[Success @ 1]:.3f}  Success@5 {theirs[Success @ 5]:.3f}  "
        f"RR@10 {theirs[RR @ 10]:.3f}  (R@1 {theirs[R @ 1]:.3f}  R@5 {theirs[R @ 5]:.3f})"
    )
    agree = [
        (round(ours.recall[1], 3), round(theirs[Success @ 1], 3)),
        (round(ours.recall[5], 3), round(theirs[Success @ 5], 3)),
        (round(ours.recall[10], 3), round(theirs[Success @ 10], 3)),
        (round(ours.mrr, 3), round(theirs[RR @ 10], 3)),
    ]
    print("  agree to 3 decimals:", all(a == b for a, b in agree))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="seed_dev,xquad_zh")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    for name in args.sets.split(","):
        compare(name, args.out / name, args.mode)


if __name__ == "__main__":
    main()
