"""How the Milvus lexical leg ranks against the local one: top-10 overlap and score agreement per question.

Usage: python scripts/bench_milvus_lexical.py [--corpus seeds] [--questions ../shared/eval/seed_questions_dev.jsonl]
                                              [--out DIR]

Indexes the corpus twice with the fake encoder (the lexical leg does not depend on the model):
into the in-memory store and into a Milvus Lite file under DIR. For each question it prints the
share of the local top 10 found in Milvus's top 10, whether the first hit is the same, and the
largest relative difference of the shared sentences' BM25 scores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import SHARED  # noqa: E402

from embeddings.encoders import FakeEncoder  # noqa: E402
from qa.building import build_index  # noqa: E402
from qa.index import tokenize  # noqa: E402
from qa.index.milvus import MilvusTarget  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "seed_questions_dev.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "milvus_lexical")
    args = parser.parse_args()
    encoder = FakeEncoder()
    local, _ = build_index([args.corpus], args.out / "index", encoder, None, rebuild=True)
    target = MilvusTarget(str(args.out / "milvus.db"), prefix="lexical")
    milvus, _ = build_index(
        [args.corpus], args.out / "index", encoder, None, rebuild=True, backend="milvus", milvus=target
    )
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines()]
    overlaps, firsts, worst = [], [], 0.0
    for question in questions:
        tokens = tokenize(question)
        top = {}
        for name, index in (("local", local), ("milvus", milvus)):
            ids, scores = index.lexical.top(tokens, 100)
            order = sorted(zip(ids.tolist(), scores.tolist(), strict=True), key=lambda p: (-p[1], p[0]))[:10]
            top[name] = [(index.chunks[i].chunk.source, index.chunks[i].chunk.start, s) for i, s in order]
        local_keys = [(s, start) for s, start, _ in top["local"]]
        milvus_scores = {(s, start): score for s, start, score in top["milvus"]}
        shared = [k for k in local_keys if k in milvus_scores]
        overlaps.append(len(shared) / len(local_keys) if local_keys else float(not top["milvus"]))
        firsts.append(
            top["local"][:1] == top["milvus"][:1]
            or (top["local"][:1] and top["milvus"][:1] and top["local"][0][:2] == top["milvus"][0][:2])
        )
        for s, start, score in top["local"]:
            if (s, start) in milvus_scores:
                worst = max(worst, abs(milvus_scores[(s, start)] - score) / max(score, 1e-9))
        print(f"{len(shared)}/{len(local_keys)} shared, same first hit: {firsts[-1]}  {question}", flush=True)
    print(
        f"\n{len(questions)} questions: top-10 overlap mean {statistics.mean(overlaps):.3f}, "
        f"min {min(overlaps):.3f}; same first hit {sum(firsts)}/{len(firsts)}; "
        f"largest relative BM25 difference of a shared sentence {worst:.2e}"
    )


if __name__ == "__main__":
    main()
