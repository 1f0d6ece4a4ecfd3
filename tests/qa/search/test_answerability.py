"""The answerability model: one logistic model per language pair, a fallback for the others, the file format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.errors import InputError
from qa.search import Retriever, load_answerability
from qa.search.answerability import ANSWER_FEATURES, AnswerabilityModel, answer_features, language_pair
from qa.search.logistic import LogisticModel

COLUMNS = ("best_dense", "dense_margin")


def _vector(english: bool, han: float, best_dense: float = 0.0) -> np.ndarray:
    row = np.zeros(len(ANSWER_FEATURES), dtype=np.float32)
    row[ANSWER_FEATURES.index("q_english")] = float(english)
    row[ANSWER_FEATURES.index("head_han_share")] = han
    row[ANSWER_FEATURES.index("best_dense")] = best_dense
    return row


def _logistic(intercept: float, threshold: float, slope: float = 0.0) -> LogisticModel:
    ones = np.ones(len(COLUMNS), dtype=np.float32)
    coef = np.array([slope, 0.0], dtype=np.float32)
    return LogisticModel(np.zeros_like(ones), ones, coef, intercept, threshold, COLUMNS)


def _model() -> AnswerabilityModel:
    """zh>zh answers with P=0.73, en>zh with P=0.27 (threshold 0.5), any other pair with 0.5 (threshold 0.4)."""
    return AnswerabilityModel({"zh>zh": _logistic(1.0, 0.5), "en>zh": _logistic(-1.0, 0.5)}, _logistic(0.0, 0.4))


def test_the_language_pair_comes_from_the_question_and_the_heads_text() -> None:
    assert language_pair(_vector(False, 0.8)) == "zh>zh"
    assert language_pair(_vector(True, 0.8)) == "en>zh"
    assert language_pair(_vector(True, 0.0)) == "en>en"
    assert language_pair(_vector(False, 0.02)) == "zh>en"


def test_each_pair_is_judged_by_its_own_model_and_threshold() -> None:
    model = _model()
    zh, en, other = _vector(False, 0.9), _vector(True, 0.9), _vector(True, 0.0)
    assert model.probability(zh) == pytest.approx(1 / (1 + np.exp(-1.0)))
    assert model.probability(en) == pytest.approx(1 / (1 + np.exp(1.0)))
    assert model.probability(other) == pytest.approx(0.5)
    assert [model.unanswerable(v) for v in (zh, en, other)] == [False, True, False]
    assert model.threshold(other) == pytest.approx(0.4)


def test_a_model_round_trips_through_its_file(tmp_path: Path) -> None:
    model = AnswerabilityModel({"zh>zh": _logistic(0.3, 0.2, slope=2.0)}, _logistic(-0.1, 0.3, slope=-1.0))
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    again = load_answerability(path)
    for row in (_vector(False, 0.9, 0.7), _vector(True, 0.0, 0.2)):
        assert again.probability(row) == pytest.approx(model.probability(row), abs=1e-5)
        assert again.threshold(row) == pytest.approx(model.threshold(row))


FLAT = {"features": ["dense_margin"], "intercept": 0, "threshold": 0.5, "mean": [0], "scale": [1], "coef": [1]}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(FLAT),
        json.dumps({"pairs": {}, "fallback": FLAT | {"features": ["no_such_feature"]}}),
        json.dumps({"pairs": {"zh>zh": {"features": ["dense_margin"]}}, "fallback": FLAT}),
        json.dumps({"pairs": {}, "fallback": FLAT | {"coef": [1, 2]}}),
    ],
)
def test_a_model_file_of_another_format_or_features_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="retrain"):
        load_answerability(path)


def test_the_shipped_model_has_a_model_for_chinese_and_for_english_questions_over_chinese_text() -> None:
    model = load_answerability()
    assert {"zh>zh", "en>zh"} <= set(model.pairs)
    for logistic in [*model.pairs.values(), model.fallback]:
        assert 0.0 < logistic.threshold < 1.0
    assert not {"best_dense", "best_cosine"} & set(model.fallback.columns)
    assert {"best_dense", "best_cosine"} <= set(model.pairs["en>zh"].columns)


def test_the_heads_text_language_is_measured_on_the_pool(tmp_path: Path) -> None:
    texts = {
        "zh": "该电站2020年发电120兆瓦。电站雇用了45名工程师。\n",
        "en": "The plant produced 120 megawatts. It employs 45 engineers.\n",
    }
    encoder, pairs = FakeEncoder(), []
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        for name, text in texts.items():
            (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
            index, _ = build_index([tmp_path / f"{name}.txt"], tmp_path / name, encoder, cache)
            pool = Retriever(index, encoder).pools(["How many engineers does the plant employ?"])[0]
            pairs.append(language_pair(answer_features(index, pool)))
    assert pairs == ["en>zh", "en>en"]


def test_the_surface_overlap_of_a_question_with_the_text_is_measured(tmp_path: Path) -> None:
    (tmp_path / "zh.txt").write_text("该电站2020年发电120兆瓦。电站雇用了45名工程师。\n", encoding="utf-8")
    encoder = FakeEncoder()
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        index, _ = build_index([tmp_path / "zh.txt"], tmp_path / "index", encoder, cache)
        retriever = Retriever(index, encoder)
        pools = retriever.pools(["电站雇用了多少名工程师？", "火山何时喷发？"])
        asked, unrelated = (answer_features(index, pool) for pool in pools)
    for name in ("best_char_cover", "best_longest_common", "best_pair_cover"):
        column = ANSWER_FEATURES.index(name)
        assert asked[column] > unrelated[column] >= 0.0
