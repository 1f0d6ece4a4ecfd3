"""The shipped re-ranker and answerability model on the seed corpus, with the real default model."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.engine import Engine, open_engine
from qa.settings import Settings

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    index_dir = tmp_path_factory.mktemp("ranker") / "index"
    return open_engine(Settings(_env_file=None, corpus=SEEDS, index_dir=index_dir))  # type: ignore[call-arg]


def test_an_obviously_unanswerable_question_is_flagged(engine: Engine) -> None:
    [(hits, unanswerable)] = engine.ask_checked(["珠穆朗玛峰有多高？"], 5)
    assert hits and unanswerable is True


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("上清寺集聚区2018年计划新增多少家企业？", "新增企业300家"),
        ("上清寺互联网产业园的范围西边到哪里？", "西至鹅岭公园"),
    ],
)
def test_an_answerable_question_is_not_flagged_and_answered_first(engine: Engine, question: str, needle: str) -> None:
    [(hits, unanswerable)] = engine.ask_checked([question], 5)
    assert unanswerable is False
    assert needle in hits[0].chunk.text
