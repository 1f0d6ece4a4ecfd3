"""Candidates compared with the other candidates of their own document."""

from __future__ import annotations

import numpy as np

from qa.search.within_document import WITHIN_DOCUMENT_FEATURES, within_document_columns


def columns(sources: list[str], tokens: list[list[str]], question: set[str], cosines: list[float]) -> list[dict]:
    rows = within_document_columns(sources, tokens, question, np.array(cosines, dtype=np.float32))
    return [dict(zip(WITHIN_DOCUMENT_FEATURES, map(float, row), strict=True)) for row in rows]


def test_words_every_sentence_of_the_document_holds_weigh_less_than_rare_ones() -> None:
    question = {"甘地", "事业", "叫"}
    rows = columns(
        ["a", "a", "a"],
        [["甘地", "行为"], ["甘地", "事业"], ["甘地", "出生"]],
        question,
        [0.9, 0.8, 0.7],
    )
    # the word only the second sentence holds lifts it above the two that hold the topic word alone
    assert rows[1]["local_cover"] > rows[0]["local_cover"] == rows[2]["local_cover"] > 0
    assert rows[1]["unique_cover"] == np.float32(1 / 3) and rows[0]["unique_cover"] == 0.0
    assert rows[1]["doc_cover_gap"] == 0.0 and rows[0]["doc_cover_gap"] < 0


def test_each_document_is_weighed_on_its_own() -> None:
    rows = columns(["a", "b", "a"], [["x"], ["x"], ["y"]], {"x", "y"}, [0.5, 0.9, 0.7])
    assert rows[1]["unique_cover"] == 0.5  # x is held twice, but once in document b
    assert [r["doc_cosine_rank"] for r in rows] == [1.0, 0.0, 0.0]
    assert rows[0]["doc_own_cosine_gap"] == np.float32(0.5) - np.float32(0.7)
    assert rows[1]["doc_own_cosine_gap"] == 0.0


def test_a_question_without_tokens_scores_no_coverage() -> None:
    rows = columns(["a"], [["x"]], set(), [0.3])
    assert rows[0]["local_cover"] == rows[0]["unique_cover"] == rows[0]["doc_cover_gap"] == 0.0
