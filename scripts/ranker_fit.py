"""Dumped candidate pools, the held-out units they are split into, and the lambdarank fit (scripts/train_ranker.py).

A held-out unit is a dataset (the XQuAD sets, translations of each other, are one), or with
``articles`` half of the XQuAD articles (the ``AA`` of a ``xquad_AA_PP`` passage; even or odd),
held out in both languages together: a model that scores a question never saw its article.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_sets import article_half

from qa.search.features import FEATURE_NAMES

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
#: Boosting rounds (early stopping on a validation split of the training questions was measured: worse on cmrc2018).
ROUNDS = 300


class Pools:
    """The dumped pools of one set: per-question slices of the feature matrix, and each question's passage."""

    def __init__(self, path: Path, questions: Path) -> None:
        data = np.load(path)
        self.features, self.labels, self.sizes = data["features"], data["labels"], data["sizes"]
        self.fused_rank, self.answer = data["fused_rank"], data["answer"]
        #: Each candidate's chunk id (absent from pools dumped before they were kept).
        self.chunks = data.get("chunks")
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        english = self.features[self.offsets[:-1][self.sizes > 0], FEATURE_NAMES.index("q_english")] > 0.5
        self.language = np.full(len(self.sizes), "zh")
        self.language[np.flatnonzero(self.sizes > 0)[english]] = "en"
        source = {}
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                source[item["id"]] = item["source"]
        self.sources = np.array([source.get(str(i), "") for i in data["ids"]])

    def first_correct(self, scores: np.ndarray) -> np.ndarray:
        """1-based rank of the first correct candidate per question under ``scores`` (0: none in the head)."""
        ranks = np.zeros(len(self.sizes), dtype=np.int64)
        for q, (a, b) in enumerate(zip(self.offsets[:-1], self.offsets[1:], strict=True)):
            hits = np.flatnonzero(self.labels[a:b][np.argsort(-scores[a:b], kind="stable")])
            ranks[q] = hits[0] + 1 if len(hits) else 0
        return ranks


def units(dataset: str, pools: Pools, articles: bool) -> np.ndarray:
    """The held-out unit of each question of a set of ``dataset`` (see the module docstring)."""
    if not (articles and dataset == "xquad"):
        return np.full(len(pools.sizes), dataset)
    return np.array([f"xquad-{article_half(s)}" for s in pools.sources])


#: Training questions: a set's pools and which of its questions to use.
Part = tuple[Pools, np.ndarray]


def fit(parts: Sequence[Part], columns: np.ndarray) -> object:
    """A lambdarank model on the chosen questions (those without a correct candidate carry no signal)."""
    import lightgbm

    rows, labels, groups = [], [], []
    for p, chosen in parts:
        for q in np.flatnonzero(chosen):
            a, b = p.offsets[q], p.offsets[q + 1]
            if p.labels[a:b].any():
                rows.append(p.features[a:b][:, columns])
                labels.append(p.labels[a:b])
                groups.append(b - a)
    names = [FEATURE_NAMES[i] for i in columns]
    data = lightgbm.Dataset(np.concatenate(rows), np.concatenate(labels), group=groups, feature_name=names)
    return lightgbm.train(PARAMS, data, num_boost_round=ROUNDS)
