"""The training pools of XQuAD's English questions: each half of the articles under the shift that never saw it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from bench_sets import article_half
from ranker_pools import held_out_pools

from qa.search.crosslingual import toward_chinese
from qa.search.retrieval import Retriever
from tests.qa.search.fake_index import fake_index


def test_the_half_of_an_xquad_passage_is_the_parity_of_its_article() -> None:
    assert article_half("xquad_07_03") == "odd" and article_half("xquad_12_00") == "even"
    assert article_half("000_ca0f24476244f5bc.txt") is None and article_half("xquad_x_1") is None


def test_each_question_gets_the_shift_of_the_other_half_and_the_retriever_keeps_its_own(tmp_path: Path) -> None:
    index, encoder = fake_index(tmp_path, {"zh.txt": "梦想小街2021年的税收约2200万元。园区共有企业300家。\n"})
    rng = np.random.default_rng(5)
    shifts = {half: (rng.normal(size=encoder.dim) * 0.1).astype(np.float32) for half in ("even", "odd")}
    shipped = (rng.normal(size=encoder.dim) * 0.1).astype(np.float32)
    retriever = Retriever(index, encoder)
    retriever.english_shift = shipped
    questions = ["How much tax did the street pay?", "How many firms are in the park?", "Who runs the park?"]
    vectors = encoder.encode_queries(questions)
    halves: list[str | None] = ["odd", None, "even"]
    pools = held_out_pools(retriever, questions, vectors, halves, shifts)
    assert [p.question for p in pools] == questions  # in the questions' order
    expected = [shifts["odd"], shipped, shifts["even"]]
    for pool, vector, shift in zip(pools, vectors, expected, strict=True):
        assert pool.query is not None
        assert np.allclose(pool.query, toward_chinese(vector, shift))
    assert retriever.english_shift is shipped


@pytest.mark.parametrize("half", ["even", "odd"])
def test_an_empty_half_is_no_error(tmp_path: Path, half: str) -> None:
    index, encoder = fake_index(tmp_path, {"zh.txt": "园区共有企业300家。\n"})
    shifts = {h: np.zeros(encoder.dim, np.float32) for h in ("even", "odd")}
    pools = held_out_pools(
        Retriever(index, encoder), ["园区有多少企业？"], encoder.encode_queries(["x"]), [half], shifts
    )
    assert len(pools) == 1
