"""Train the re-ranker and the answerability model from the benchmark sets, with held-out figures.

Usage: python scripts/train_ranker.py [--work DIR] [--dump [--keep]] [--ablation DATASETS [--only-ablation]] [--no-ship]
       [--answerability-only]

--dump first builds every set's index and dumps its candidate pools (scripts/ranker_pools.py;
embeddings come from the shared cache). Then, leave one dataset out (the three XQuAD sets are one
dataset): for each dataset a model is trained on the others and scored on it; those held-out
figures are the ones reported. The fold models are written to WORK/folds/<dataset>.txt (the
benchmark uses them), and the shipped models, trained on every set, to qa/search/models/.
Fixed seeds and deterministic LightGBM: the same pools give the same models.
--answerability-only evaluates and writes the answerability model alone (its folds: see
scripts/answerability_data.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answerability_training import fit_answerability, train_answerability  # noqa: E402
from bench_sets import DATASET, SETS, apply_subsamples  # noqa: E402

from qa.search.answerability import AnswerabilityModel  # noqa: E402
from qa.search.features import FEATURE_NAMES  # noqa: E402
from qa.search.ranker import LANGUAGES  # noqa: E402
from qa.settings import Settings  # noqa: E402

MODELS = ROOT / "qa" / "search" / "models"
PARAMS = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 5],
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 20,
    "seed": 17,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
ROUNDS = 300
#: Training questions of a language below which the model is not applied to that language.
MIN_LANGUAGE_QUESTIONS = 100
#: Feature groups left out one at a time in the ablation.
GROUPS = {
    "leg scores and ranks": ("fused", "dense", "cosine", "context"),
    "bm25": ("bm25",),
    "neighbours": ("prev_", "next_"),
    "coverage": ("cover",),
    "answer type": ("asks_", "holds_", "type_match"),
    "label, length, position": ("is_label", "chars", "han_share", "position", "relative_position"),
    "document": ("doc_", "rank_in_doc"),
    "question overlap (longest run, characters)": ("longest_common", "char_cover"),
    "question": ("q_",),
    "English-to-Chinese terms": ("translated_",),
}


class Pools:
    """The dumped pools of one set: per-question slices of the feature matrix."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.features, self.labels, self.sizes = data["features"], data["labels"], data["sizes"]
        self.fused_rank, self.answer = data["fused_rank"], data["answer"]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        english = self.features[self.offsets[:-1][self.sizes > 0], FEATURE_NAMES.index("q_english")] > 0.5
        self.language = np.full(len(self.sizes), "zh")
        self.language[np.flatnonzero(self.sizes > 0)[english]] = "en"

    def first_correct(self, scores: np.ndarray) -> np.ndarray:
        """1-based rank of the first correct candidate per question under ``scores`` (0: none in the head)."""
        ranks = np.zeros(len(self.sizes), dtype=np.int64)
        for q, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:], strict=True)):
            hits = np.flatnonzero(self.labels[a:b][np.argsort(-scores[a:b], kind="stable")])
            ranks[q] = hits[0] + 1 if len(hits) else 0
        return ranks


def languages(pools: list[Pools]) -> list[str]:
    """The question languages with at least MIN_LANGUAGE_QUESTIONS training questions in ``pools``."""
    counts = {lang: sum(int((p.language == lang).sum()) for p in pools) for lang in LANGUAGES}
    return [lang for lang in LANGUAGES if counts[lang] >= MIN_LANGUAGE_QUESTIONS]


def save(model: object, pools: list[Pools], path: Path) -> None:
    """Write a model and, beside it (.json), the question languages it was trained on."""
    model.save_model(str(path))  # type: ignore[attr-defined]
    path.with_suffix(".json").write_text(json.dumps({"languages": languages(pools)}) + "\n", encoding="utf-8")


def ranks_under(model: object, trained: list[str], p: Pools, columns: np.ndarray) -> np.ndarray:
    """First-correct ranks under a model; questions in a language it was not trained on keep the fused order."""
    ranks = p.first_correct(model.predict(p.features[:, columns], num_threads=1))  # type: ignore[attr-defined]
    other = ~np.isin(p.language, trained)
    ranks[other] = p.fused_rank[other]
    return ranks


def describe(ranks: np.ndarray) -> str:
    """R@1 / R@5 / MRR@10 of first-correct ranks."""
    top10 = np.where((ranks > 0) & (ranks <= 10), ranks, 0)
    mrr = float(np.mean(np.where(top10 > 0, 1.0 / np.maximum(top10, 1), 0.0)))
    return f"{np.mean((ranks > 0) & (ranks <= 1)):.3f} / {np.mean((ranks > 0) & (ranks <= 5)):.3f} / {mrr:.3f}"


def fit(pools: list[Pools], columns: np.ndarray) -> object:
    """A lambdarank model over the given pools (questions without a correct candidate carry no signal)."""
    import lightgbm

    rows, labels, groups = [], [], []
    for p in pools:
        for a, b in zip(p.offsets[:-1], p.offsets[1:], strict=True):
            if p.labels[a:b].any():
                rows.append(p.features[a:b][:, columns])
                labels.append(p.labels[a:b])
                groups.append(b - a)
    names = [FEATURE_NAMES[i] for i in columns]
    data = lightgbm.Dataset(np.concatenate(rows), np.concatenate(labels), group=groups, feature_name=names)
    return lightgbm.train(PARAMS, data, num_boost_round=ROUNDS)


def held_out(
    sets: dict[str, Pools], columns: np.ndarray, folds: Path | None = None, only: set[str] | None = None
) -> dict[str, np.ndarray]:
    """First-correct ranks of each set under the model that never saw its dataset (``only``: these datasets)."""
    ranks = {}
    for dataset in sorted(only or set(DATASET[s] for s in sets)):
        training = [p for s, p in sets.items() if DATASET[s] != dataset]
        model = fit(training, columns)
        if folds is not None:
            folds.mkdir(parents=True, exist_ok=True)
            save(model, training, folds / f"{dataset}.txt")
        for s, p in sets.items():
            if DATASET[s] == dataset:
                ranks[s] = ranks_under(model, languages(training), p, columns)
    return ranks


def ablation(sets: dict[str, Pools], full: dict[str, np.ndarray], datasets: set[str]) -> None:
    """Held-out R@1 of the sets of ``datasets`` with each feature group left out, against all features."""
    shown = [s for s in sets if DATASET[s] in datasets]
    print("\n| features | " + " | ".join(shown) + " |\n|---|" + "---|" * len(shown))
    print("| all | " + " | ".join(f"{np.mean(full[s] == 1):.3f}" for s in shown) + " |")
    for group, prefixes in GROUPS.items():
        keep = np.array([i for i, n in enumerate(FEATURE_NAMES) if not n.startswith(prefixes)])
        ranks = held_out(sets, keep, only=datasets)
        print(f"| without {group} | " + " | ".join(f"{np.mean(ranks[s] == 1):.3f}" for s in shown) + " |", flush=True)


def parse_args() -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "ranker")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--dump", action="store_true", help="build the indexes and dump the pools first")
    parser.add_argument("--keep", action="store_true", help="with --dump, keep the pools already dumped")
    parser.add_argument("--ablation", default="", metavar="DATASETS", help="ablation on these held-out datasets")
    parser.add_argument("--only-ablation", action="store_true", help="skip the folds and the shipped models")
    parser.add_argument("--ship-only", action="store_true", help="only train and write the shipped models")
    parser.add_argument("--answerability-only", action="store_true", help="only the answerability model")
    parser.add_argument("--no-ship", action="store_true", help="do not overwrite the models in qa/search/models")
    parser.add_argument("--passages", action="append", default=[], metavar="SET=N", help="a set's first N passages")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    apply_subsamples(args.passages, args.work / "subsets")
    names = args.sets.split(",")
    if args.dump:
        from ranker_pools import dump_all

        dump_all(names, args.work, Settings(), keep=args.keep)
    if args.answerability_only:
        answerability = train_answerability(args.work, names)
        if not args.no_ship:
            write_answerability(answerability)
        return
    sets = {s: Pools(args.work / "pools" / f"{s}.npz") for s in names}
    everything = np.arange(len(FEATURE_NAMES))
    if args.only_ablation:
        datasets = set(args.ablation.split(","))
        ablation(sets, held_out(sets, everything, only=datasets), datasets)
        return
    if args.ship_only:
        ship(sets, fit_answerability(args.work, names))
        return
    ranks = held_out(sets, everything, args.work / "folds")
    print("\n| set | fused R@1 / R@5 / MRR | ranker, held out |\n|---|---|---|")
    for s, p in sets.items():
        print(f"| {s} ({len(p.sizes)}) | {describe(p.fused_rank)} | {describe(ranks[s])} |")
    if args.ablation:
        ablation(sets, ranks, set(args.ablation.split(",")))
    answerability = train_answerability(args.work, names)
    if not args.no_ship:
        ship(sets, answerability)


def ship(sets: dict[str, Pools], answerability: AnswerabilityModel) -> None:
    """Train the ranker on every set and write both models to qa/search/models."""
    MODELS.mkdir(parents=True, exist_ok=True)
    model = fit(list(sets.values()), np.arange(len(FEATURE_NAMES)))
    save(model, list(sets.values()), MODELS / "ranker.txt")
    write_answerability(answerability)


def write_answerability(model: AnswerabilityModel) -> None:
    """Write the answerability model to qa/search/models."""
    MODELS.mkdir(parents=True, exist_ok=True)
    (MODELS / "answerability.json").write_text(model.to_json(), encoding="utf-8")
    print(f"models written to {MODELS}")


if __name__ == "__main__":
    main()
