"""The answerability examples of the dumped pools and the held-out folds they are scored in.

Answerable: each set's questions over its own corpus. Unanswerable: questions of one dataset
asked of another dataset's corpus, plus eval/unanswerable_seed_questions.txt over the seeds (a
test set only: never trained or tuned on).

Folds. seed, cmrc and drcd are held out in turn (leave one dataset out: the model scored on a
dataset's questions never saw them nor its corpus). XQuAD (xquad_zh and its English questions,
xquad_en_over_xquad_zh: translations of each other) is split by article, the ``AA`` of a passage
id ``xquad_AA_PP``: article fold k holds the articles with AA % XQUAD_FOLDS == k. Its model is
trained on the other datasets' questions over the other datasets' corpora and on the XQuAD
questions of the other articles (Chinese and English, over their own corpus and over the other
corpora); no question of a held-out article and no answer passage of it was seen in training
(the held-out passages stand in the XQuAD corpus the training questions were asked of, as
distractors in their pools).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_sets import DATASET, SETS  # noqa: E402
from ranker_pools import cross_pairs  # noqa: E402

from qa.runs.evaluation import read_gold  # noqa: E402
from qa.search.answerability import ANSWER_FEATURES, language_pair  # noqa: E402

#: Article folds of the XQuAD dataset.
XQUAD_FOLDS = 4


@dataclass
class Examples:
    """Answerability feature rows with their label (1: answerable) and provenance.

    ``article``: the XQuAD article of the question ("" for other datasets); ``pair``: the
    language pair (question>text) as the model sees it.
    """

    x: np.ndarray
    y: np.ndarray
    asker: np.ndarray
    corpus: np.ndarray
    test_only: np.ndarray
    article: np.ndarray
    pair: np.ndarray

    def english(self) -> np.ndarray:
        """Rows whose question is English."""
        return self.x[:, ANSWER_FEATURES.index("q_english")] > 0.5


def _articles(name: str, rows: np.ndarray) -> np.ndarray:
    """The XQuAD article of the questions at ``rows`` of a set's question file ("" elsewhere)."""
    if DATASET.get(name) != "xquad":
        return np.full(len(rows), "")
    gold = read_gold(SETS[name][1])
    return np.array([gold[int(i)].source.split("_")[1] for i in rows])


def load_examples(work: Path, names: list[str]) -> Examples:
    """Every dumped (questions, corpus) pair of ``names``."""
    parts: list[tuple[np.ndarray, int, str, str, bool, np.ndarray]] = []
    for name in names:
        x = np.load(work / "pools" / f"{name}.npz")["answer"]
        parts.append((x, 1, DATASET[name], DATASET[name], False, _articles(name, np.arange(len(x)))))
    for asked, corpus in cross_pairs(names):
        data = np.load(work / "pools" / f"{asked}__over__{corpus}.npz")
        articles = _articles(asked, data["rows"])
        parts.append((data["answer"], 0, DATASET.get(asked, "seed"), DATASET[corpus], asked not in DATASET, articles))
    if any(p[0].shape[1] != len(ANSWER_FEATURES) for p in parts):
        raise SystemExit(f"{work / 'pools'}: pools of another answerability feature set; dump them again (--dump)")
    x = np.concatenate([p[0] for p in parts])

    def column(i: int) -> np.ndarray:
        return np.concatenate([np.full(len(p[0]), p[i]) for p in parts])

    articles = np.concatenate([p[5] for p in parts])
    return Examples(x, column(1), column(2), column(3), column(4), articles, np.array([language_pair(r) for r in x]))


def folds(data: Examples) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(fold name, training rows, held-out rows) of every fold (see the module's docstring)."""
    for dataset in sorted(set(data.asker) - {"xquad"}):
        train = (data.asker != dataset) & (data.corpus != dataset) & ~data.test_only
        yield dataset, train, data.asker == dataset
    elsewhere = (data.asker != "xquad") & (data.corpus != "xquad") & ~data.test_only
    for k in range(XQUAD_FOLDS if "xquad" in set(data.asker) else 0):
        held = np.array([a != "" and int(a) % XQUAD_FOLDS == k for a in data.article])
        yield f"xquad{k}", elsewhere | ((data.asker == "xquad") & ~held), (data.asker == "xquad") & held
