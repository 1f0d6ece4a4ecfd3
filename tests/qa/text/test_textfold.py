"""Folding text for comparison: punctuation and whitespace dropped, width, 繁→简 and case folded, offsets kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.text import content_units, fold_text

SAMPLES = [
    "梦想小街，產業園 ＡＢＣ１２３！",
    "Hello, World.",
    "“引号”测试。",
    "a\u3000b\tc\nd",
    "園區入駐企業達到１３００家，入驻率为百分之九十。",
    "到2027年，渝中区全区算力规模达到2,100 PFLOPS。",
    "",
    "，。！？ \n",
]


@pytest.mark.parametrize(
    ("text", "folded", "positions"),
    [
        ("梦想小街，產業園 ＡＢＣ１２３！", "梦想小街产业园abc123", (0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14)),
        ("Hello, World.", "helloworld", (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)),
        ("“引号”测试。", "引号测试", (1, 2, 4, 5)),
        ("a\u3000b\tc\nd", "abcd", (0, 2, 4, 6)),
        ("發展後來", "发展后来", (0, 1, 2, 3)),
        ("2,100 PFLOPS", "2100pflops", (0, 2, 3, 4, 6, 7, 8, 9, 10, 11)),
        ("", "", ()),
        ("，。！？ \n", "", ()),
    ],
)
def test_fold_text(text: str, folded: str, positions: tuple[int, ...]) -> None:
    result = fold_text(text)
    assert result.text == folded
    assert result.positions == positions


def test_texts_differing_only_in_form_fold_alike() -> None:
    simplified = fold_text("园区入驻企业达到1300家，入驻率为百分之九十。").text
    assert fold_text("園區入駐企業達到１３００家 入駐率為百分之九十").text == simplified
    assert fold_text("“园区入驻企业达到1300家”，入驻率为百分之九十！").text == simplified
    assert fold_text("园区入驻企业达到1400家，入驻率为百分之九十。").text != simplified


def _check_positions(text: str) -> None:
    folded = fold_text(text)
    assert len(folded.positions) == len(folded.text)
    assert list(folded.positions) == sorted(set(folded.positions))
    assert all(0 <= p < len(text) for p in folded.positions)
    for i, at in enumerate(folded.positions):
        assert fold_text(text[at]).text == folded.text[i]


@pytest.mark.parametrize("text", SAMPLES)
def test_positions_map_back_to_the_source(text: str) -> None:
    _check_positions(text)


_CHARS = "梦想小街园区企业产業園區萬億發展abcXYZ０１２３ＡＢ0123 \u3000\t\n，。、！？“”《》()-.%"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=40))
def test_positions_map_back_for_any_text(text: str) -> None:
    _check_positions(text)


def test_span_covers_the_source_text() -> None:
    text = "据介绍，“梦想，小街”产业园"
    folded = fold_text(text)
    at = folded.text.find("梦想小街")
    assert at == 3
    assert folded.span(at, at + 4) == (5, 10)
    assert text[5:10] == "梦想，小街"
    assert folded.span(0, 1) == (0, 1)
    end = len(folded.text)
    assert folded.span(end - 3, end) == (11, 14)


def test_content_units() -> None:
    assert content_units("梦想小街") == {"梦想", "想小", "小街"}
    assert content_units("园") == {"园"}
    assert content_units("長頸鹿ABC 3.5") == {"长颈", "颈鹿", "abc", "3.5"}
    assert content_units("產業園") == content_units("产业园") == {"产业", "业园"}
    assert content_units("梦想小街，12亿元 PFLOPS") == {"梦想", "想小", "小街", "12", "亿元", "pflops"}
    assert content_units("，。！") == set()
