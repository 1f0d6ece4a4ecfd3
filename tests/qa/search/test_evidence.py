"""The evidence features: IDF-weighted coverage, the gap to the passage's best, an answer the question lacks."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.cache import EmbeddingCache
from embeddings.encoders import FakeEncoder
from qa.building import build_index
from qa.index import CorpusIndex
from qa.search import Retriever
from qa.search.evidence import holds_new_answer, idf, names_in, passage_gaps, weighted_cover
from qa.search.features import FEATURE_NAMES, candidate_features

CORPUS = {
    "a.txt": "产业园区\n该园区2018年成立。2018年园区新增企业。园区2021年扩建，新增企业300家。\n",
    "b.txt": "公园\n鹅岭公园位于渝中区。\n",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> CorpusIndex:
    root = tmp_path_factory.mktemp("evidence")
    docs = root / "docs"
    docs.mkdir()
    for name, text in CORPUS.items():
        (docs / name).write_text(text, encoding="utf-8")
    with EmbeddingCache(root / "cache.sqlite") as cache:
        built, _ = build_index([docs], root / "index", FakeEncoder(), cache)
    return built


def test_a_rare_word_weighs_more_than_a_common_one() -> None:
    assert idf("鹅岭") > idf("时候") > 0
    weights = {"鹅岭": idf("鹅岭"), "时候": idf("时候")}
    assert weighted_cover(weights, frozenset({"鹅岭"})) > 0.5 > weighted_cover(weights, frozenset({"时候"}))
    assert weighted_cover({}, frozenset({"鹅岭"})) == 0.0


def test_an_answer_is_new_only_when_the_question_lacks_it() -> None:
    question = "2018年园区新增了多少家企业"
    assert not holds_new_answer(["number"], question, "2018年园区新增企业。", names_in("2018年园区新增企业。"))
    assert holds_new_answer(["number"], question, "2018年园区新增企业300家。", names_in(""))
    assert not holds_new_answer([], question, "新增企业300家。", names_in(""))
    place = "鹅岭公园位于北京。"
    assert holds_new_answer(["place"], "鹅岭公园在哪里", place, names_in(place))
    assert not holds_new_answer(["place"], "鹅岭公园在北京吗", "鹅岭公园在北京。", names_in("北京"))


def test_passage_gaps_are_taken_within_each_document() -> None:
    gaps = passage_gaps(["a", "b", "a", "b"], np.array([3.0, 1.0, 2.0, 0.5]))
    assert gaps.tolist() == [0.0, 0.0, -1.0, -0.5]


def test_the_evidence_columns_of_a_pool(index: CorpusIndex) -> None:
    pool = Retriever(index, FakeEncoder()).pools(["2018年园区新增了多少家企业？"])[0]
    rows = candidate_features(index, pool)
    texts = [index.chunks[int(c)].chunk.text for c in pool.candidates]
    new = dict(zip(texts, rows[:, FEATURE_NAMES.index("new_answer")], strict=True))
    assert new["园区2021年扩建，新增企业300家。"] == 1.0
    assert new["2018年园区新增企业。"] == 0.0
    gap = rows[:, FEATURE_NAMES.index("fused_doc_gap")]
    assert gap.max() == 0.0 and (gap <= 0).all()
    assert (rows[:, FEATURE_NAMES.index("idf_cover")] <= rows[:, FEATURE_NAMES.index("idf_cover_context")] + 1e-6).all()
