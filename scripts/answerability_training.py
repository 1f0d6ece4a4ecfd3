"""Training and held-out evaluation of the answerability model (see qa/search/answerability.py).

The examples and the folds are described in scripts/answerability_data.py: seed, cmrc and drcd
are held out as whole datasets, XQuAD by article. One logistic model per language pair
(question>text) seen in training with both answerable and unanswerable questions, over every
feature; a fallback model, over the features that shift less with the languages (no absolute
cosines), for the other pairs. Each threshold is set on the training rows alone: it flags at
most FALSE_FLAG_RATE of the answerable questions of each training dataset (the lowest of their
quantiles), since the cosines' level also shifts from one corpus to another (drcd's traditional
text scores lower than cmrc2018's). Only held-out figures are reported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answerability_data import Examples, folds, load_examples  # noqa: E402

from qa.search.answerability import ANSWER_FEATURES, AnswerabilityModel  # noqa: E402
from qa.search.answers import NO_ANSWER_COSINE  # noqa: E402
from qa.search.logistic import LogisticModel  # noqa: E402

#: Share of the training folds' answerable questions (of a language pair) the threshold flags.
FALSE_FLAG_RATE = 0.03
#: Training questions of each class a language pair needs for a model of its own.
MIN_PAIR_QUESTIONS = 100
#: Answerable training questions a dataset needs to take part in setting the threshold.
MIN_THRESHOLD_QUESTIONS = 100
#: Features whose level shifts with the question's and the text's language: pair models only.
ABSOLUTE = ("best_dense", "best_cosine", "best_context", "mean_dense")
#: Features constant within a language pair (they choose the model).
LANGUAGE = ("q_english", "head_han_share")
#: Surface overlap of the question's own characters with the text: for Chinese questions only (an English
#: question over Chinese text shares next to none, answerable or not).
SURFACE = ("best_char_cover", "best_longest_common", "best_anchor_share", "best_pair_cover")
PAIR_FEATURES = tuple(f for f in ANSWER_FEATURES if f not in LANGUAGE)
ENGLISH_PAIR_FEATURES = tuple(f for f in PAIR_FEATURES if f not in SURFACE)
FALLBACK_FEATURES = tuple(f for f in ANSWER_FEATURES if f not in (*ABSOLUTE, *SURFACE, "head_han_share"))
_BEST_DENSE = ANSWER_FEATURES.index("best_dense")


def fit_logistic(features: np.ndarray, y: np.ndarray, groups: np.ndarray, columns: tuple[str, ...]) -> LogisticModel:
    """Standardized logistic regression over ``columns``, thresholded to flag at most FALSE_FLAG_RATE of the
    answerable rows of each of ``groups`` (their datasets) that has MIN_THRESHOLD_QUESTIONS of them."""
    from sklearn.linear_model import LogisticRegression

    x = features[:, [ANSWER_FEATURES.index(c) for c in columns]]
    mean, std = x.mean(axis=0), x.std(axis=0)
    scale = np.where(std > 1e-6, std, 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000, random_state=17)
    model.fit((x - mean) / scale, y)
    coef, intercept = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    fitted = LogisticModel(mean.astype(np.float32), scale.astype(np.float32), coef, intercept, 0.5, columns)
    probability = np.array([fitted.probability(row, ANSWER_FEATURES) for row in features])
    quantiles = [
        np.quantile(probability[(y == 1) & (groups == g)], FALSE_FLAG_RATE)
        for g in sorted(set(groups[y == 1]))
        if ((y == 1) & (groups == g)).sum() >= MIN_THRESHOLD_QUESTIONS
    ]
    threshold = float(min(quantiles, default=np.quantile(probability[y == 1], FALSE_FLAG_RATE)))
    return LogisticModel(fitted.mean, fitted.scale, coef, intercept, threshold, columns)


def fit(data: Examples, rows: np.ndarray) -> AnswerabilityModel:
    """The pair models and the fallback, trained on ``rows`` of ``data``."""
    pairs = {}
    for pair in sorted(set(data.pair[rows])):
        mine = rows & (data.pair == pair)
        if min((data.y[mine] == 1).sum(), (data.y[mine] == 0).sum()) >= MIN_PAIR_QUESTIONS:
            columns = ENGLISH_PAIR_FEATURES if pair.startswith("en>") else PAIR_FEATURES
            pairs[pair] = fit_logistic(data.x[mine], data.y[mine], data.asker[mine], columns)
    return AnswerabilityModel(pairs, fit_logistic(data.x[rows], data.y[rows], data.asker[rows], FALLBACK_FEATURES))


def held_out(data: Examples, out: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Held-out probability and threshold of every row (each fold's model written to OUT/<fold>.answerability.json)."""
    probability, threshold = np.zeros(len(data.y)), np.zeros(len(data.y))
    for name, train, test in folds(data):
        model = fit(data, train)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{name}.answerability.json").write_text(model.to_json(), encoding="utf-8")
        for i in np.flatnonzero(test):
            probability[i], threshold[i] = model.probability(data.x[i]), model.threshold(data.x[i])
    return probability, threshold


def whole_dataset(data: Examples, dataset: str, out: Path) -> None:
    """Print the flag rates of ``dataset`` held out as a whole and write its model (bench_retrieval's fold model)."""
    train = (data.asker != dataset) & (data.corpus != dataset) & ~data.test_only
    model, english = fit(data, train), data.english()
    (out / f"{dataset}.answerability.json").write_text(model.to_json(), encoding="utf-8")
    for lang, mask in (("zh", ~english), ("en", english)):
        rows = (data.asker == dataset) & mask
        flagged = np.array([model.unanswerable(row) for row in data.x[rows]])
        print(f"| {dataset} as a whole (no question of it in training) | {lang} | {rates(flagged, data.y[rows])} |")


def rates(flagged: np.ndarray, y: np.ndarray) -> str:
    """'unanswerable flagged (n/N) | answerable flagged (n/N) | precision' as table cells."""
    caught, false = flagged[y == 0], flagged[y == 1]
    precision = caught.sum() / max(1, flagged.sum())
    return (
        f"{caught.mean() if len(caught) else float('nan'):.3f} ({caught.sum()}/{len(caught)}) | "
        f"{false.mean() if len(false) else float('nan'):.3f} ({false.sum()}/{len(false)}) | {precision:.3f}"
    )


def report(data: Examples, probability: np.ndarray, threshold: np.ndarray) -> None:
    """Held-out flag rates per dataset and question language, and the trade-off of one threshold for all."""
    flagged, english = probability < threshold, data.english()
    print("\n| held out | questions | unanswerable flagged | answerable flagged | precision |\n|---|---|---|---|---|")
    for dataset in sorted(set(data.asker)):
        for lang, mask in (("zh", ~english), ("en", english)):
            rows = (data.asker == dataset) & mask & ~data.test_only
            if rows.any():
                print(f"| {dataset} | {lang} | {rates(flagged[rows], data.y[rows])} |")
    for lang, mask in (("zh", ~english), ("en", english)):
        print(f"| all, model | {lang} | {rates(flagged[mask & ~data.test_only], data.y[mask & ~data.test_only])} |")
    cosine = data.x[:, _BEST_DENSE] < NO_ANSWER_COSINE
    print(f"| all, cosine {NO_ANSWER_COSINE} | all | {rates(cosine[~data.test_only], data.y[~data.test_only])} |")
    seeds = data.test_only
    print(f"| unanswerable_seed_questions.txt (seed fold) | zh | {rates(flagged[seeds], data.y[seeds])} |")
    print("\nthreshold trade-off (held out): P(answerable) under t -> unanswerable flagged / answerable flagged")
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        cells = []
        for lang, mask in (("zh", ~english), ("en", english)):
            f, y = probability[mask & ~data.test_only] < t, data.y[mask & ~data.test_only]
            cells.append(f"{lang} {f[y == 0].mean():.3f} / {f[y == 1].mean():.3f}")
        print(f"t={t:.2f}: " + "; ".join(cells))


def train_answerability(work: Path, names: list[str]) -> AnswerabilityModel:
    """Print the held-out figures (fold models to WORK/folds) and return the model fitted on everything."""
    data = load_examples(work, names)
    report(data, *held_out(data, work / "folds"))
    if "xquad" in set(data.asker):
        whole_dataset(data, "xquad", work / "folds")
    model = fit(data, ~data.test_only)
    flagged = np.array([model.unanswerable(row) for row in data.x[data.test_only]])
    print(f"unanswerable_seed_questions.txt, shipped model (never trained on them): {flagged.sum()}/{len(flagged)}")
    return model


def fit_answerability(work: Path, names: list[str]) -> AnswerabilityModel:
    """The model fitted on every example but the test-only ones."""
    data = load_examples(work, names)
    return fit(data, ~data.test_only)
