"""Training and held-out evaluation of the answerability model (see qa/search/answerability.py).

Answerable: each set's questions over its own corpus. Unanswerable: questions of one dataset
asked of another dataset's corpus, plus eval/unanswerable_seed_questions.txt over the seeds
(a test set only). Leave one dataset out: the model scored on a dataset's questions never saw
that dataset's questions nor its corpus. The threshold is set on the training folds so that
3% of their answerable questions are flagged.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import DATASET  # noqa: E402
from ranker_pools import cross_pairs  # noqa: E402

from qa.search.answerability import ANSWER_FEATURES, AnswerabilityModel  # noqa: E402
from qa.search.answers import NO_ANSWER_COSINE  # noqa: E402

#: Share of the training folds' answerable questions the threshold flags.
FALSE_FLAG_RATE = 0.03
#: The features the model uses: absolute cosines are left out, since they shift with the question's
#: language (English questions over Chinese text score lower) where margins and z-scores shift less.
ABSOLUTE = ("best_dense", "best_cosine", "best_context", "mean_dense")
MODEL_FEATURES = tuple(f for f in ANSWER_FEATURES if f not in ABSOLUTE)
_ENGLISH = ANSWER_FEATURES.index("q_english")
_BEST_DENSE = ANSWER_FEATURES.index("best_dense")


@dataclass
class Examples:
    """Answerability feature rows with their label (1: answerable) and provenance."""

    x: np.ndarray
    y: np.ndarray
    asker: np.ndarray
    corpus: np.ndarray
    test_only: np.ndarray


def load_examples(work: Path, names: list[str]) -> Examples:
    """Every dumped (questions, corpus) pair of ``names``."""
    parts: list[tuple[np.ndarray, int, str, str, bool]] = []
    for name in names:
        parts.append((np.load(work / "pools" / f"{name}.npz")["answer"], 1, DATASET[name], DATASET[name], False))
    for asked, corpus in cross_pairs(names):
        x = np.load(work / "pools" / f"{asked}__over__{corpus}.npz")["answer"]
        parts.append((x, 0, DATASET.get(asked, "seed"), DATASET[corpus], asked not in DATASET))
    n = [len(p[0]) for p in parts]
    return Examples(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([np.full(k, p[1]) for k, p in zip(n, parts, strict=True)]),
        np.concatenate([np.full(k, p[2]) for k, p in zip(n, parts, strict=True)]),
        np.concatenate([np.full(k, p[3]) for k, p in zip(n, parts, strict=True)]),
        np.concatenate([np.full(k, p[4]) for k, p in zip(n, parts, strict=True)]),
    )


def fit(features: np.ndarray, y: np.ndarray) -> AnswerabilityModel:
    """Standardized logistic regression over MODEL_FEATURES, thresholded at FALSE_FLAG_RATE of the answerable rows."""
    from sklearn.linear_model import LogisticRegression

    x = features[:, [ANSWER_FEATURES.index(c) for c in MODEL_FEATURES]]
    mean, scale = x.mean(axis=0), np.where(x.std(axis=0) > 1e-6, x.std(axis=0), 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=17)
    model.fit((x - mean) / scale, y)
    coef, intercept = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    fitted = AnswerabilityModel(mean.astype(np.float32), scale.astype(np.float32), coef, intercept, 0.5, MODEL_FEATURES)
    probabilities = np.array([fitted.probability(row) for row in features[y == 1]])
    threshold = float(np.quantile(probabilities, FALSE_FLAG_RATE))
    return AnswerabilityModel(fitted.mean, fitted.scale, coef, intercept, threshold, MODEL_FEATURES)


def _rates(flagged: np.ndarray, y: np.ndarray) -> str:
    caught, false = flagged[y == 0], flagged[y == 1]
    precision = caught.sum() / max(1, flagged.sum())
    return (
        f"{caught.mean() if len(caught) else float('nan'):.3f} ({caught.sum()}/{len(caught)}) | "
        f"{false.mean() if len(false) else float('nan'):.3f} ({false.sum()}/{len(false)}) | {precision:.3f}"
    )


def _held_out(data: Examples, folds: Path) -> tuple[np.ndarray, np.ndarray]:
    """Held-out probability and flag of every row; each fold's model is written to FOLDS."""
    probability, flagged = np.zeros(len(data.y)), np.zeros(len(data.y), dtype=bool)
    for dataset in sorted(set(data.asker)):
        train = (data.asker != dataset) & (data.corpus != dataset) & ~data.test_only
        model = fit(data.x[train], data.y[train])
        (folds / f"{dataset}.answerability.json").write_text(model.to_json(), encoding="utf-8")
        test = data.asker == dataset
        probability[test] = [model.probability(row) for row in data.x[test]]
        flagged[test] = probability[test] < model.threshold
    return probability, flagged


def train_answerability(work: Path, names: list[str]) -> AnswerabilityModel:
    """Print held-out flag rates (model and today's cosine rule) and return the model fitted on everything."""
    data = load_examples(work, names)
    probability, flagged = _held_out(data, work / "folds")
    cosine = data.x[:, _BEST_DENSE] < NO_ANSWER_COSINE
    print("\n| held out | questions | unanswerable flagged | answerable flagged | precision |\n|---|---|---|---|---|")
    english = data.x[:, _ENGLISH] > 0.5
    for dataset in sorted(set(data.asker)):
        for lang, mask in (("zh", ~english), ("en", english)):
            rows = (data.asker == dataset) & mask
            if rows.any():
                print(f"| {dataset} | {lang} | {_rates(flagged[rows], data.y[rows])} |")
    for label, rows in (("all, model", slice(None)), ("all, cosine 0.88", slice(None))):
        chosen = flagged if "model" in label else cosine
        print(f"| {label} | all | {_rates(chosen[rows], data.y[rows])} |")
    seeds = data.test_only
    print(f"| unanswerable_seed_questions.txt | zh | {_rates(flagged[seeds], data.y[seeds])} |")
    print("\nthreshold trade-off (held out): P(answerable) under t -> unanswerable flagged / answerable flagged")
    for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        rates = []
        for lang, mask in (("all", np.ones_like(english)), ("zh", ~english), ("en", english)):
            f, y = probability[mask] < t, data.y[mask]
            rates.append(f"{lang} {f[y == 0].mean():.3f} / {f[y == 1].mean():.3f}")
        print(f"t={t:.1f}: " + "; ".join(rates))
    return fit_answerability(work, names)


def fit_answerability(work: Path, names: list[str]) -> AnswerabilityModel:
    """The model fitted on every example but the test-only ones."""
    data = load_examples(work, names)
    return fit(data.x[~data.test_only], data.y[~data.test_only])
