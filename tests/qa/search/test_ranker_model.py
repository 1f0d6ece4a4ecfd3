"""The shipped re-ranker and answerability model on the seed corpus, with the real default model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa.engine import Engine

SEEDS = Path(__file__).resolve().parents[3] / "seeds"

pytestmark = pytest.mark.model


def test_an_obviously_unanswerable_question_is_flagged(seed_engine: Engine) -> None:
    [(hits, unanswerable)] = seed_engine.ask_checked(["珠穆朗玛峰有多高？"], 5)
    assert hits and unanswerable is True


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("上清寺集聚区2018年计划新增多少家企业？", "新增企业300家"),
        ("上清寺互联网产业园的范围西边到哪里？", "西至鹅岭公园"),
    ],
)
def test_an_answerable_question_is_not_flagged_and_answered_near_the_top(
    seed_engine: Engine, question: str, needle: str
) -> None:
    [(hits, unanswerable)] = seed_engine.ask_checked([question], 5)
    assert unanswerable is False
    assert any(needle in h.chunk.text for h in hits[:3])


def test_english_questions_get_a_verdict_too(seed_engine: Engine) -> None:
    asked = ["What was the output value of the U Chuang space in 2017?", "How tall is Mount Everest?"]
    (hits, answerable_flag), (_, unanswerable_flag) = seed_engine.ask_checked(asked, 5)
    assert "2.5亿元" in hits[0].chunk.text and answerable_flag is False
    assert unanswerable_flag is True


def test_a_date_line_answering_which_day_is_cited_first(seed_engine: Engine) -> None:
    for engine in (seed_engine, replace(seed_engine, reranker=None)):
        [(hits, _)] = engine.ask_checked(["这份实施方案是哪一天印发的？"], 5)
        assert hits[0].chunk.text.strip() == "2024年11月25日"
