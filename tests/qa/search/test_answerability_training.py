"""The answerability training's folds (scripts/answerability_data.py): held-out questions are never trained on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from answerability_data import XQUAD_FOLDS, Examples, folds, load_examples
from answerability_training import FALLBACK_FEATURES, SURFACE, fit

from qa.search.answerability import ANSWER_FEATURES

XQUAD_KINDS = (("xquad", 1), ("drcd", 0))


def _examples() -> Examples:
    """Rows of every kind: own-corpus and cross-corpus, Chinese and English, XQuAD articles 00..07."""
    rng = np.random.default_rng(3)
    others = [("cmrc", "cmrc", 1), ("cmrc", "xquad", 0), ("drcd", "drcd", 1), ("drcd", "seed", 0)]
    others += [("seed", "seed", 1), ("seed", "cmrc", 0)]
    kinds = [(*k, "") for k in others] + [("xquad", c, y, f"{a:02d}") for a in range(8) for c, y in XQUAD_KINDS]
    rows = [(k, english) for k in kinds for english in (False, True) for _ in range(40)]
    x = rng.normal(size=(len(rows), len(ANSWER_FEATURES))).astype(np.float32)
    x[:, ANSWER_FEATURES.index("q_english")] = [english for _, english in rows]
    x[:, ANSWER_FEATURES.index("head_han_share")] = 0.9
    y = np.array([k[2] for k, _ in rows])
    x[:, ANSWER_FEATURES.index("best_dense")] += 2.0 * y - 0.8 * x[:, ANSWER_FEATURES.index("q_english")]
    column = [np.array([k[i] for k, _ in rows]) for i in range(4)]
    pair = np.array(["en>zh" if english else "zh>zh" for _, english in rows])
    test_only = np.zeros(len(rows), dtype=bool)
    return Examples(x, y, column[0], column[1], test_only, column[3], pair)


def test_held_out_rows_are_never_trained_on_and_every_xquad_article_is_held_out_once() -> None:
    data = _examples()
    seen = np.zeros(len(data.y), dtype=int)
    for name, train, test in folds(data):
        assert not (train & test).any()
        if name.startswith("xquad"):
            held = set(data.article[test])
            assert not held & set(data.article[train & (data.asker == "xquad")])
            assert not (train & (data.corpus == "xquad") & (data.asker != "xquad")).any()
        else:
            assert not (train & ((data.asker == name) | (data.corpus == name))).any()
        seen += test
    assert (seen == 1).all()
    assert len([n for n, _, _ in folds(data)]) == 3 + XQUAD_FOLDS


def test_each_language_pair_gets_a_model_and_its_threshold_flags_few_of_its_answerable_rows() -> None:
    data = _examples()
    model = fit(data, np.ones(len(data.y), dtype=bool))
    assert set(model.pairs) == {"zh>zh", "en>zh"}
    assert set(model.fallback.columns) == set(FALLBACK_FEATURES)
    for pair in model.pairs:
        answerable = data.x[(data.pair == pair) & (data.y == 1)]
        flagged = np.mean([model.unanswerable(row) for row in answerable])
        assert 0.0 < flagged <= 0.05


def test_surface_overlap_judges_chinese_questions_only() -> None:
    data = _examples()
    model = fit(data, np.ones(len(data.y), dtype=bool))
    assert set(SURFACE) <= set(model.pairs["zh>zh"].columns)
    assert not set(SURFACE) & set(model.pairs["en>zh"].columns)
    assert not set(SURFACE) & set(model.fallback.columns)


def test_pools_of_another_feature_set_are_refused_with_a_plain_message(tmp_path: Path) -> None:
    (tmp_path / "pools").mkdir()
    older = np.zeros((3, len(ANSWER_FEATURES) - 4), dtype=np.float32)
    np.savez_compressed(tmp_path / "pools" / "seed_dev.npz", answer=older)
    np.savez_compressed(tmp_path / "pools" / "unanswerable_seed__over__seed_dev.npz", answer=older, rows=np.arange(3))
    with pytest.raises(SystemExit, match="dump them again"):
        load_examples(tmp_path, ["seed_dev"])
