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
from ranker_fit import Part, Pools, fit, units  # noqa: E402

from qa.search.answerability import AnswerabilityModel  # noqa: E402
from qa.search.features import FEATURE_NAMES  # noqa: E402
from qa.search.ranker import LANGUAGES  # noqa: E402
from qa.settings import Settings  # noqa: E402

MODELS = ROOT / "qa" / "search" / "models"
#: Training questions of a language below which the model is not applied to that language.
MIN_LANGUAGE_QUESTIONS = 100
#: Feature groups left out one at a time in the ablation: name prefixes (a leading "_": a suffix).
GROUPS = {
    "leg scores and ranks": ("fused", "dense", "cosine", "context"),
    "bm25": ("bm25",),
    "neighbours (their BM25, cosine and coverage)": ("prev_", "next_"),
    "what the sentence adds, opening reference": ("novel_", "opens_reference"),
    "coverage": ("cover",),
    "answer type": ("asks_", "holds_", "type_match"),
    "label, length, position": ("is_label", "chars", "han_share", "position", "relative_position"),
    "document": ("doc_gap", "doc_count", "rank_in_doc", "doc_cosine_gap"),
    "within the document": ("local_cover", "unique_cover", "doc_cover_gap", "doc_cosine_rank", "doc_own_cosine_gap"),
    "question-word anchors and character pairs": ("anchor_", "pair_cover"),
    "question overlap (longest run, characters)": ("longest_common", "char_cover"),
    "question": ("q_",),
    "English-to-Chinese terms": ("translated_",),
    "against the pool's best (gap, rank)": ("_to_best", "_in_pool"),
}


def in_group(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a feature is one of a group's (see GROUPS)."""
    return any(name.endswith(p) if p.startswith("_") else name.startswith(p) for p in prefixes)


def languages(parts: list[Part]) -> list[str]:
    """The question languages with at least MIN_LANGUAGE_QUESTIONS training questions in ``parts``."""
    counts = {lang: sum(int((p.language[chosen] == lang).sum()) for p, chosen in parts) for lang in LANGUAGES}
    return [lang for lang in LANGUAGES if counts[lang] >= MIN_LANGUAGE_QUESTIONS]


def save(model: object, parts: list[Part], path: Path) -> None:
    """Write a model and, beside it (.json), the question languages it was trained on."""
    model.save_model(str(path))  # type: ignore[attr-defined]
    path.with_suffix(".json").write_text(json.dumps({"languages": languages(parts)}) + "\n", encoding="utf-8")


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


def held_out(
    sets: dict[str, Pools],
    columns: np.ndarray,
    *,
    articles: bool = False,
    folds: Path | None = None,
    only: set[str] | None = None,
) -> dict[str, np.ndarray]:
    """First-correct ranks of each question under the model that never saw its unit (``only``: these datasets)."""
    unit_of = {s: units(DATASET[s], p, articles) for s, p in sets.items()}
    ranks = {s: p.fused_rank.copy() for s, p in sets.items()}
    chosen = sorted({str(u) for s, found in unit_of.items() if only is None or DATASET[s] in only for u in found})
    for unit in chosen:
        parts = [(p, unit_of[s] != unit) for s, p in sets.items()]
        model = fit(parts, columns)
        if folds is not None:
            folds.mkdir(parents=True, exist_ok=True)
            save(model, parts, folds / f"{unit}.txt")
        for s, p in sets.items():
            if (unit_of[s] == unit).any():
                found = ranks_under(model, languages(parts), p, columns)
                ranks[s][unit_of[s] == unit] = found[unit_of[s] == unit]
    return ranks


def ablation(sets: dict[str, Pools], full: dict[str, np.ndarray], datasets: set[str], articles: bool) -> None:
    """Held-out R@1 of the sets of ``datasets`` with each feature group left out, against all features."""
    shown = [s for s in sets if DATASET[s] in datasets]
    print("\n| features | " + " | ".join(shown) + " |\n|---|" + "---|" * len(shown))
    print("| all | " + " | ".join(f"{np.mean(full[s] == 1):.3f}" for s in shown) + " |")
    for group, prefixes in GROUPS.items():
        keep = np.array([i for i, n in enumerate(FEATURE_NAMES) if not in_group(n, prefixes)])
        ranks = held_out(sets, keep, articles=articles, only=datasets)
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
    parser.add_argument("--articles", action="store_true", help="with --only-ablation: XQuAD held out by article")
    parser.add_argument("--ship-only", action="store_true", help="only train and write the shipped models")
    parser.add_argument("--answerability-only", action="store_true", help="only the answerability model")
    parser.add_argument("--ranker-only", action="store_true", help="only train and write the shipped re-ranker")
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
    sets = {s: Pools(args.work / "pools" / f"{s}.npz", SETS[s][1]) for s in names}
    everything = np.arange(len(FEATURE_NAMES))
    if args.only_ablation:
        datasets = set(args.ablation.split(","))
        full = held_out(sets, everything, articles=args.articles, only=datasets)
        ablation(sets, full, datasets, args.articles)
        return
    if args.ship_only or args.ranker_only:
        ship(sets, None if args.ranker_only else fit_answerability(args.work, names))
        return
    ranks = held_out(sets, everything, folds=args.work / "folds")
    by_article = held_out(sets, everything, articles=True)
    print("\n| set | fused R@1 / R@5 / MRR | held out: dataset | held out: XQuAD article |\n|---|---|---|---|")
    for s, p in sets.items():
        print(f"| {s} ({len(p.sizes)}) | {describe(p.fused_rank)} | {describe(ranks[s])} | {describe(by_article[s])} |")
    if args.ablation:
        ablation(sets, ranks, set(args.ablation.split(",")), False)
    answerability = train_answerability(args.work, names)
    if not args.no_ship:
        ship(sets, answerability)


def ship(sets: dict[str, Pools], answerability: AnswerabilityModel | None) -> None:
    """Train the ranker on every set and write it (and the answerability model, if given) to qa/search/models."""
    MODELS.mkdir(parents=True, exist_ok=True)
    parts = [(p, np.ones(len(p.sizes), dtype=bool)) for p in sets.values()]
    save(fit(parts, np.arange(len(FEATURE_NAMES))), parts, MODELS / "ranker.txt")
    if answerability is not None:
        write_answerability(answerability)


def write_answerability(model: AnswerabilityModel) -> None:
    """Write the answerability model to qa/search/models."""
    MODELS.mkdir(parents=True, exist_ok=True)
    (MODELS / "answerability.json").write_text(model.to_json(), encoding="utf-8")
    print(f"models written to {MODELS}")


if __name__ == "__main__":
    main()
