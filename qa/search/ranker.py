"""The learned re-ranker: a LightGBM lambdarank model over :mod:`qa.search.features`.

It re-scores the first :data:`DEPTH` candidates of the fused ranking; the rest keep their fused
order below them. The model (``models/ranker.txt``, LightGBM's text format) is trained by
``scripts/train_ranker.py``; its feature names must match :data:`FEATURE_NAMES`. Beside it,
``ranker.json`` lists the question languages it was trained on: a question in another language
keeps its fused order (a model that never saw English questions over Chinese text ranks them
worse than fusion does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import InputError
from qa.index.reader import IndexReader
from qa.search.booster import load_booster
from qa.search.features import FEATURE_NAMES, candidate_features
from qa.search.retrieval import Pool
from qa.search.translation import is_english

#: Fused candidates the model re-scores.
DEPTH = 40
#: Question languages a model may be trained on.
LANGUAGES = ("zh", "en")


class Ranker:
    """A loaded ranking model; ``scores`` follows the :class:`qa.search.retrieval.Reranker` protocol."""

    def __init__(
        self, model_text: str, depth: int = DEPTH, origin: str = "model", languages: Sequence[str] = LANGUAGES
    ) -> None:
        try:
            self.booster: Any = load_booster(model_text)
        except ValueError as exc:
            raise InputError(f"{origin}: cannot load ranking model ({exc})") from None
        if tuple(self.booster.feature_name()) != FEATURE_NAMES:
            raise InputError(f"{origin}: ranking model built for other features; retrain it")
        self.depth = depth
        self.languages = frozenset(languages)

    def scores(self, index: IndexReader, pool: Pool) -> np.ndarray:
        """Model score of each candidate of ``pool`` (its fused score for a language the model never saw)."""
        if not len(pool.candidates):
            return np.zeros(0, dtype=np.float32)
        if language_of(pool.question) not in self.languages:
            return pool.fused.astype(np.float32)
        return self.score_features(candidate_features(index, pool))

    def score_features(self, features: np.ndarray) -> np.ndarray:
        """Model score of each row of a feature matrix."""
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float32)


def language_of(question: str) -> str:
    """ "en" for a question in Latin letters, else "zh"."""
    return "en" if is_english(question) else "zh"


def load_ranker(path: Path | None = None, depth: int = DEPTH) -> Ranker:
    """The model at ``path`` (default: the one shipped in ``qa/search/models``) and its languages.

    The languages come from the ``.json`` file beside the model (every language when there is none).
    """
    folder = path.parent if path is not None else resources.files("qa.search") / "models"
    name = path.name if path is not None else "ranker.txt"
    source, sidecar = folder / name, folder / (name.removesuffix(".txt") + ".json")
    try:
        text = source.read_text(encoding="utf-8")
        languages = json.loads(sidecar.read_text(encoding="utf-8"))["languages"] if sidecar.is_file() else LANGUAGES
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{source}: cannot read ranking model ({exc})") from None
    return Ranker(text, depth, str(source), languages)
