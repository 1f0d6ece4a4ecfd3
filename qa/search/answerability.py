"""Whether the index holds an answer at all: calibrated logistic models over the candidate pool.

The features only look at the pool's best candidates as a set (best cosines, the margin to the
next one, how far the best stands above the whole pool; the translation's confidence for an
English question, how much of the question the best sentences and their neighbourhoods cover,
and how much of its own characters, longest run, question-word anchors and character pairs the
best sentence shares (the surface overlap, read for Chinese questions only), whether a sentence
holds the answer type asked, the languages of the question and of the head's text), so they do
not depend on the re-ranker's order. The cosines' level depends on the
languages (English questions over Chinese text score lower), so there is one model per language
pair (``models/answerability.json``: per pair the standardization, coefficients and decision
threshold), trained by ``scripts/train_ranker.py`` on questions asked of their own corpus
(answerable) and of other corpora (unanswerable).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from qa.errors import InputError
from qa.index.reader import IndexReader
from qa.search.features import FEATURE_NAMES, candidate_features
from qa.search.logistic import LogisticModel
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
    "head_han_share",
    "best_char_cover",
    "best_longest_common",
    "best_anchor_share",
    "best_pair_cover",
)
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
#: Mean Han share of the head's sentences from which the text counts as Chinese (Chinese corpora hold Latin lines,
#: which an English question draws into the head).
TEXT_HAN_SHARE = 0.05


def _z(values: np.ndarray) -> float:
    """How far the best value stands above the whole pool, in the pool's standard deviations."""
    std = float(values.std())
    return float((values.max() - values.mean()) / std) if std > 1e-9 else 0.0


def _margin(values: np.ndarray) -> float:
    top = np.sort(values)[::-1]
    return float(top[0] - top[1]) if len(top) > 1 else 1.0


def answer_features(index: IndexReader, pool: Pool, features: np.ndarray | None = None) -> np.ndarray:
    """The answerability features of one pool (``features``: its candidate features, when computed).

    A pool searched with the language shift is judged by the pool of its vector as encoded: the
    shift lifts every cosine, answerable or not.
    """
    if pool.encoded is not None:
        pool, features = pool.encoded, None
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
        float(rows[:, _COLUMN["han_share"]].mean()),
        top("char_cover"),
        top("longest_common"),
        top("anchor_share"),
        top("pair_cover"),
    ]
    return np.array(values, dtype=np.float32)


def language_pair(features: np.ndarray) -> str:
    """The question's and the text's language of one feature vector, as ``"en>zh"``.

    The text's language is that of the pool's head: Chinese when its sentences' mean share of Han
    characters reaches :data:`TEXT_HAN_SHARE`, English otherwise.
    """
    question = "en" if features[ANSWER_FEATURES.index("q_english")] > 0.5 else "zh"
    text = "zh" if features[ANSWER_FEATURES.index("head_han_share")] >= TEXT_HAN_SHARE else "en"
    return f"{question}>{text}"


@dataclass(frozen=True)
class AnswerabilityModel:
    """One logistic model per language pair (:func:`language_pair`), and a ``fallback`` for the other pairs.

    The pair models read the absolute cosines, whose level depends on the languages; the fallback
    reads only features that shift less with them (margins, z-scores, coverage).
    """

    pairs: Mapping[str, LogisticModel]
    fallback: LogisticModel

    def model_for(self, features: np.ndarray) -> LogisticModel:
        """The logistic model that judges this feature vector."""
        return self.pairs.get(language_pair(features), self.fallback)

    def probability(self, features: np.ndarray) -> float:
        """P(the index answers the question) from one vector of :data:`ANSWER_FEATURES`."""
        return self.model_for(features).probability(features, ANSWER_FEATURES)

    def threshold(self, features: np.ndarray) -> float:
        """The calibrated threshold on :meth:`probability` for this vector's language pair."""
        return self.model_for(features).threshold

    def unanswerable(self, features: np.ndarray) -> bool:
        """True when the probability falls under the threshold of the vector's language pair."""
        model = self.model_for(features)
        return model.probability(features, ANSWER_FEATURES) < model.threshold

    def to_json(self) -> str:
        """The committed model file's text."""
        pairs = {pair: model.to_dict() for pair, model in sorted(self.pairs.items())}
        return json.dumps({"pairs": pairs, "fallback": self.fallback.to_dict()}, indent=1) + "\n"


def load_answerability(path: Path | None = None) -> AnswerabilityModel:
    """The model at ``path`` (default: the one shipped in ``qa/search/models``)."""
    source = path or resources.files("qa.search") / "models" / "answerability.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), dict) or "fallback" not in data:
        raise InputError(f"{source}: answerability model of an older format; retrain it")
    pairs = {pair: LogisticModel.from_dict(fields, ANSWER_FEATURES, source) for pair, fields in data["pairs"].items()}
    return AnswerabilityModel(pairs, LogisticModel.from_dict(data["fallback"], ANSWER_FEATURES, source))
