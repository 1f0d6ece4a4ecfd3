"""Retrieval: folding, lexical trust, fusion never worse than its better leg, answer types, no answer."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.engine import Engine
from qa.index import tokenize
from qa.index.lexical import RowLexical
from qa.search import compose
from qa.search.retrieval import RetrievalConfig, lexical_trust
from qa.text import fold
from tests.qa.search.fake_index import fake_index

CORPUS = {
    "park.txt": (
        "上清寺互联网产业园\n"
        "上清寺互联网产业园位于重庆市渝中区。该园区2018年新增企业300家。园区入驻率达到百分之九十。\n"
        "园区的范围西至鹅岭公园，东至上清寺转盘。\n"
    ),
    "street.txt": (
        "梦想小街产业园\n梦想小街产业园主体建筑面积约3万平方米。2021年，园区税收约2200万元。园区有企业120家。\n"
    ),
    "zoo.txt": "动物园公告\n熊猫馆周一闭馆维修。長頸鹿每天下午三点喂食。\n",
    "solar.txt": "Solar Report\nThe solar farm produced 120 megawatts in 2020. It employs 45 engineers.\n",
}
# (question, source, a substring of the sentence that answers it)
QUESTIONS = [
    ("上清寺互联网产业园在哪个区？", "park.txt", "位于重庆市渝中区"),
    ("上清寺园区2018年新增了多少家企业？", "park.txt", "新增企业300家"),
    ("园区的范围西边到哪里？", "park.txt", "西至鹅岭公园"),
    ("梦想小街产业园的建筑面积是多少？", "street.txt", "建筑面积约3万平方米"),
    ("梦想小街2021年的税收是多少？", "street.txt", "税收约2200万元"),
    ("长颈鹿几点喂食？", "zoo.txt", "喂食"),
    ("熊猫馆哪天闭馆？", "zoo.txt", "闭馆维修"),
    ("How many engineers does the solar farm employ?", "solar.txt", "45 engineers"),
]


@pytest.fixture(scope="module")
def index_and_encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, FakeEncoder]:
    return fake_index(tmp_path_factory.mktemp("retrieval"), CORPUS)


def _recall_at_1(index: object, encoder: FakeEncoder, config: RetrievalConfig) -> float:
    engine = Engine(index, encoder, config)  # type: ignore[arg-type]
    hits = engine.ask_many([q for q, _, _ in QUESTIONS], 5)
    right = [
        bool(h) and h[0].chunk.source == source and needle in h[0].chunk.text
        for h, (_, source, needle) in zip(hits, QUESTIONS, strict=True)
    ]
    return sum(right) / len(right)


def test_folding_maps_traditional_and_full_width_to_one_form() -> None:
    assert fold("長頸鹿ＡＢＣ１２３") == "长颈鹿abc123"
    assert set(tokenize("長頸鹿")) == set(tokenize("长颈鹿"))


def test_tokens_drop_question_words_and_keep_bigrams() -> None:
    tokens = tokenize("园区有多少家企业？")
    assert "多少" not in tokens
    assert "企业" in tokens
    assert "#企业" in tokens


def test_traditional_text_is_found_by_a_simplified_question(index_and_encoder: tuple[object, FakeEncoder]) -> None:
    index, encoder = index_and_encoder
    engine = Engine(index, encoder, replace(RetrievalConfig(), mode="lexical"))  # type: ignore[arg-type]
    top = engine.ask("长颈鹿几点喂食？", 1)[0]
    assert top.chunk.source == "zoo.txt"
    assert top.chunk.cited == "長頸鹿每天下午三点喂食。"


def test_lexical_trust_is_zero_without_coverage_and_full_with_most() -> None:
    assert lexical_trust(0.0) == 0.0
    assert lexical_trust(0.2) == 0.0
    assert 0.0 < lexical_trust(0.5) < 1.0
    assert lexical_trust(0.8) == 1.0


def test_fusion_is_never_worse_than_its_better_leg(index_and_encoder: tuple[object, FakeEncoder]) -> None:
    index, encoder = index_and_encoder
    base = RetrievalConfig()
    scores = {mode: _recall_at_1(index, encoder, replace(base, mode=mode)) for mode in ("dense", "lexical", "hybrid")}
    assert scores["hybrid"] >= max(scores["dense"], scores["lexical"]), scores
    assert scores["hybrid"] >= 0.75, scores


def test_hits_cite_the_original_text_exactly(index_and_encoder: tuple[object, FakeEncoder]) -> None:
    index, encoder = index_and_encoder
    engine = Engine(index, encoder, RetrievalConfig())  # type: ignore[arg-type]
    for hits in engine.ask_many([q for q, _, _ in QUESTIONS], 10):
        for hit in hits:
            original = engine.index.document(hit.chunk.source).original
            assert original[hit.chunk.start : hit.chunk.end] == hit.as_dict()["text"]
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_no_answer_for_far_questions_and_answer_for_near_ones(index_and_encoder: tuple[object, FakeEncoder]) -> None:
    index, encoder = index_and_encoder
    engine = Engine(index, encoder, RetrievalConfig())  # type: ignore[arg-type]
    near = engine.ask("梦想小街2021年的税收是多少？", 5)
    far = engine.ask("qwxz vbnm plkj", 5)
    threshold = float(np.mean([near[0].dense, max((h.dense for h in far), default=0.0)]))
    assert not compose("q", near, threshold).no_answer
    assert compose("q", far, threshold).no_answer


def test_empty_index_returns_no_hits(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    encoder = FakeEncoder()
    index, _ = build_index([tmp_path / "docs"], tmp_path / "index", encoder, None, allow_empty=True)
    assert Engine(index, encoder, RetrievalConfig()).ask("任何问题", 5) == []


class _Fixed:
    """A row scorer with given scores."""

    def __init__(self, scores: np.ndarray) -> None:
        self.values = scores

    def known(self, query_tokens: list[str]) -> list[str]:
        return list(query_tokens)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        return self.values


@pytest.mark.parametrize("k", [0, 1, 3, 7, 50])
def test_the_lexical_top_is_the_best_positive_rows(k: int) -> None:
    rng = np.random.default_rng(k)
    scores = np.where(rng.random(40) < 0.3, rng.random(40), 0.0).astype(np.float32)
    rows = np.arange(100, 140)
    ids, got = RowLexical(_Fixed(scores), rows, {int(r): i for i, r in enumerate(rows)}).top(["x"], k)
    positive = np.flatnonzero(scores > 0)
    want = positive[np.argsort(-scores[positive])][:k]
    assert sorted(ids.tolist()) == sorted((rows[want]).tolist())
    assert np.array_equal(got, scores[ids - 100]) and (got > 0).all()
