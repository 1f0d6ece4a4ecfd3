"""Whether the index holds an answer at all: a calibrated logistic model over the candidate pool.

The features only look at the pool's best candidates as a set (best cosines, the margin to the
next one, how far the best stands above the whole pool: a measure that shifts less with the
question's language than the cosines do; the translation's confidence for an English question,
how much of the question the best sentences and their neighbourhoods cover, whether a sentence
holds the answer type asked), so they do not depend on the re-ranker's order. The
model (``models/answerability.json``: standardization, coefficients, the decision threshold) is
trained by ``scripts/train_ranker.py`` on questions asked of their own corpus (answerable) and of
other corpora (unanswerable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from qa.errors import InputError
from qa.index.reader import IndexReader
from qa.search.features import FEATURE_NAMES, candidate_features
from qa.search.retrieval import Pool, head_of

#: Candidates (in fused order) the features look at.
HEAD = 10
ANSWER_FEATURES = (
    "best_dense",
    "best_cosine",
    "best_context",
    "dense_margin",
    "mean_dense",
    "fused_margin",
    "q_coverage",
    "q_english",
    "best_cover",
    "best_cover_words",
    "best_cover_context",
    "type_match",
    "best_han_share",
    "dense_z",
    "cosine_z",
    "context_z",
    "translation",
)
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _z(values: np.ndarray) -> float:
    """How far the best value stands above the whole pool, in the pool's standard deviations."""
    std = float(values.std())
    return float((values.max() - values.mean()) / std) if std > 1e-9 else 0.0


def _margin(values: np.ndarray) -> float:
    top = np.sort(values)[::-1]
    return float(top[0] - top[1]) if len(top) > 1 else 1.0


def answer_features(index: IndexReader, pool: Pool, features: np.ndarray | None = None) -> np.ndarray:
    """The answerability features of one pool (``features``: its candidate features, when computed)."""
    if not len(pool.candidates):
        return np.zeros(len(ANSWER_FEATURES), dtype=np.float32)
    head = head_of(pool, HEAD)
    rows = (features if features is not None else candidate_features(index, head, translated=False))[:HEAD]
    best = int(np.argmax(head.dense))

    def top(name: str) -> float:
        return float(rows[:, _COLUMN[name]].max())

    values = [
        float(head.dense.max()),
        float(head.cosine.max()),
        float(head.context_cosine.max()),
        _margin(head.dense),
        float(head.dense.mean()),
        _margin(head.fused),
        pool.coverage,
        float(rows[0, _COLUMN["q_english"]]),
        top("cover"),
        top("cover_words"),
        top("cover_context"),
        float(rows[:5, _COLUMN["type_match"]].max()),
        float(rows[best, _COLUMN["han_share"]]),
        _z(pool.dense),
        _z(pool.cosine),
        _z(pool.context_cosine),
        pool.translation,
    ]
    return np.array(values, dtype=np.float32)


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardized ``columns`` of :data:`ANSWER_FEATURES`; ``threshold`` on P(answerable)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    columns: tuple[str, ...] = ANSWER_FEATURES

    def probability(self, features: np.ndarray) -> float:
        """P(the index answers the question) from one vector of :data:`ANSWER_FEATURES`."""
        used = features[[ANSWER_FEATURES.index(c) for c in self.columns]]
        z = float(((used - self.mean) / self.scale) @ self.coef) + self.intercept
        return float(1.0 / (1.0 + np.exp(-z)))

    def unanswerable(self, features: np.ndarray) -> bool:
        """True when the probability falls under the calibrated threshold."""
        return self.probability(features) < self.threshold

    def to_json(self) -> str:
        """The committed model file's text."""
        fields = {"features": list(self.columns), "intercept": self.intercept, "threshold": self.threshold}
        arrays = {k: [round(float(v), 6) for v in getattr(self, k)] for k in ("mean", "scale", "coef")}
        return json.dumps(fields | arrays, indent=1) + "\n"


def load_answerability(path: Path | None = None) -> AnswerabilityModel:
    """The model at ``path`` (default: the one shipped in ``qa/search/models``)."""
    source = path or resources.files("qa.search") / "models" / "answerability.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    columns = data.get("features")
    if not isinstance(columns, list) or not columns or not set(columns) <= set(ANSWER_FEATURES):
        raise InputError(f"{source}: answerability model built for other features; retrain it")
    arrays = {k: np.array(data[k], dtype=np.float32) for k in ("mean", "scale", "coef")}
    threshold = float(data["threshold"])
    return AnswerabilityModel(**arrays, intercept=float(data["intercept"]), threshold=threshold, columns=tuple(columns))
