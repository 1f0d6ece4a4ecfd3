"""Where the re-ranker's held-out first-rank errors fall, from the dumped pools (scripts/train_ranker.py --dump).

Usage: python scripts/ranker_errors.py [--work DIR] [--sets S1,S2] [--show N]

Each dataset is held out in turn (the XQuAD sets together): a model trained on the others ranks
its questions, as in train_ranker.py's folds. A question whose first hit is not a gold sentence
is counted by where that hit stands against the nearest gold sentence of the pool: the sentence
right after it or right before it, two sentences away, farther in the same passage, or in another
passage; "no gold in the pool" when none of the first DEPTH candidates is correct. Questions in a
language the model saw too few times keep the fused order, as at serving time. ``--show N``
prints N examples of each kind (seeded) with the question, the first hit and the gold sentence.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import DATASET, SETS  # noqa: E402
from ranker_fit import Pools, fit  # noqa: E402
from train_ranker import languages  # noqa: E402

from qa.index.opening import open_index  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.search.features import FEATURE_NAMES  # noqa: E402

KINDS = (
    "first",
    "the sentence after",
    "the sentence before",
    "two away",
    "farther in the passage",
    "another passage",
    "no gold in the pool",
)


def where(index: IndexReader, top: int, gold: list[int]) -> str:
    """The kind of error of a first hit ``top`` against the pool's gold chunk ids (see KINDS)."""
    if not gold:
        return "no gold in the pool"
    if top in gold:
        return "first"
    source = index.chunks[top].chunk.source
    same = [g for g in gold if index.chunks[g].chunk.source == source]
    if not same:
        return "another passage"
    offset = min((top - g for g in same), key=abs)  # chunk ids run in sentence order within a document
    if abs(offset) == 1:
        return "the sentence after" if offset > 0 else "the sentence before"
    return "two away" if abs(offset) == 2 else "farther in the passage"


def held_out_scores(sets: dict[str, Pools], dataset: str) -> dict[str, np.ndarray]:
    """Per set of ``dataset``: each candidate's score under the model trained on the other datasets."""
    parts = [(p, np.full(len(p.sizes), DATASET[s] != dataset)) for s, p in sets.items()]
    model = fit(parts, np.arange(len(FEATURE_NAMES)))
    trained = languages(parts)
    scores = {}
    for s, p in sets.items():
        if DATASET[s] != dataset:
            continue
        found = model.predict(p.features, num_threads=1)  # type: ignore[attr-defined]
        for q in np.flatnonzero(~np.isin(p.language, trained)):  # the fused order, as the engine keeps it
            a, b = p.offsets[q], p.offsets[q + 1]
            found[a:b] = -np.arange(b - a, dtype=np.float64)
        scores[s] = found
    return scores


def first_hits(pools: Pools, scores: np.ndarray) -> list[tuple[int, list[int]]]:
    """Per question: the chunk id of the first hit under ``scores`` (-1: empty pool) and the pool's gold chunk ids."""
    chunks = pools.chunks
    if chunks is None:
        raise SystemExit("these pools keep no chunk ids: dump them again (train_ranker.py --dump)")
    found = []
    for a, b in zip(pools.offsets[:-1], pools.offsets[1:], strict=True):
        top = int(chunks[a + int(np.argmax(scores[a:b]))]) if b > a else -1
        found.append((top, [int(c) for c, label in zip(chunks[a:b], pools.labels[a:b], strict=True) if label]))
    return found


def tally(name: str, hits: list[tuple[int, list[int]]], index: IndexReader) -> dict[str, list[int]]:
    """The questions of one set by kind of first hit (see KINDS), printed as counts."""
    kinds: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for q, (top, gold) in enumerate(hits):
        kinds[where(index, top, gold)].append(q)
    counts = Counter({kind: len(found) for kind, found in kinds.items()})
    total = len(hits)
    errors = total - counts["first"] - counts["no gold in the pool"]
    print(f"\n{name}: {total} questions, {counts['first']} first ({counts['first'] / total:.3f}), {errors} errors")
    for kind in KINDS[1:]:
        share = f" ({counts[kind] / errors:.0%} of errors)" if errors and kind != "no gold in the pool" else ""
        print(f"  {kind}: {counts[kind]}{share}")
    return kinds


def show(name: str, kinds: dict[str, list[int]], hits: list[tuple[int, list[int]]], index: IndexReader, n: int) -> None:
    """Print ``n`` seeded examples of each kind of error."""
    lines = SETS[name][1].read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    rng = np.random.default_rng(17)
    for kind in KINDS[1:-1]:
        for q in rng.permutation(kinds[kind])[:n]:
            top, gold = hits[q]
            print(f"\n[{kind}] {questions[q]}")
            print(f"  first: {index.chunks[top].chunk.text}\n  gold:  {index.chunks[gold[0]].chunk.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "ranker")
    parser.add_argument("--sets", default="seed_dev,cmrc2018_dev,drcd_dev,xquad_zh,xquad_en_over_xquad_zh")
    parser.add_argument("--show", type=int, default=0, metavar="N", help="N examples of each kind of error")
    args = parser.parse_args()
    names = args.sets.split(",")
    sets = {s: Pools(args.work / "pools" / f"{s}.npz", SETS[s][1]) for s in names}
    for dataset in dict.fromkeys(DATASET[s] for s in names):
        for name, scores in held_out_scores(sets, dataset).items():
            hits = first_hits(sets[name], scores)
            index = open_index(args.work / name / "index")
            kinds = tally(name, hits, index)
            if args.show:
                show(name, kinds, hits, index, args.show)


if __name__ == "__main__":
    main()
