"""Golden sentence splits: each tests/golden/segment/NAME.txt has NAME.json, the expected sentences.

The expected sentences were written by hand, not copied from the segmenter's output.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from qa.ingest import HARD_CAP, SOFT_CAP, parse_document, segment
from qa.types import Chunk

GOLDEN = Path(__file__).parents[2] / "golden" / "segment"
CASES = sorted(p.stem for p in GOLDEN.glob("*.txt"))


def chunks_of(text: str, name: str = "golden.txt") -> list[Chunk]:
    """Parse ``text`` as a plain document and split it, checking the offset contract on the way."""
    doc = parse_document(name, text)
    chunks = segment(doc)
    for chunk in chunks:
        assert doc.original[chunk.start : chunk.end] == chunk.cited
        assert chunk.cited.strip() == chunk.text
        assert chunk.text, "empty chunk"
        assert any(c.isalnum() for c in chunk.text), f"punctuation-only chunk {chunk.text!r}"
        assert len(chunk.cited) <= HARD_CAP
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in pairwise(chunks))
    return chunks


def sentences(text: str) -> list[str]:
    return [c.text for c in chunks_of(text)]


def test_golden_cases_are_present() -> None:
    assert len(CASES) >= 10
    for name in CASES:
        assert (GOLDEN / f"{name}.json").is_file(), f"{name}.txt has no {name}.json"


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    text = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert sentences(text) == expected


def test_quote_after_full_stop_stays_with_sentence() -> None:
    first, second = chunks_of("他说：“好。”然后走了。")
    assert first.text.endswith("。”")
    assert second.text == "然后走了。"
    assert first.end == second.start == 7


@pytest.mark.parametrize(
    "text",
    [
        "今年营收2.5亿元。",
        "新系统3.0版本已上线。",
        "请下载v1.2.3版本。",
        "访问https://example.com/a.html?x=1获取。",
        "我们……还要努力。",
        "Mr. Smith met Dr. Who at 3 p.m. today.",
        "The U.S. economy, e.g. this sector, grew.",
    ],
)
def test_single_sentence_is_not_split(text: str) -> None:
    assert sentences(text) == [text]


def test_no_chunks_for_punctuation_or_blank_text() -> None:
    assert sentences("") == []
    assert sentences("\n\n   \n") == []
    assert sentences("。！？…—“”（）\n,.;!?") == []


def test_long_sentence_is_cut_at_commas() -> None:
    clauses = [f"第{i}项工作要求各部门认真组织落实相关任务并按期报送进展情况" for i in range(25)]
    sentence = "，".join(clauses) + "。"
    assert len(sentence) > 2 * SOFT_CAP
    chunks = chunks_of(sentence)
    assert len(chunks) >= 2
    assert all(len(c.text) <= SOFT_CAP for c in chunks)
    assert all(c.text.endswith("，") for c in chunks[:-1])
    assert chunks[-1].text.endswith("。")
    assert "".join(c.text for c in chunks) == sentence


def test_long_sentence_with_few_commas_stays_under_hard_cap() -> None:
    sentence = "甲" * 250 + "，" + "乙" * 350 + "，" + "丙" * 50 + "。"
    chunks = chunks_of(sentence)
    assert all(len(c.text) <= HARD_CAP for c in chunks)
    assert "".join(c.text for c in chunks) == sentence


def test_run_without_punctuation_is_cut_into_short_chunks() -> None:
    run = "".join("数字经济高质量发展"[i % 9] for i in range(1000))
    chunks = chunks_of(run)
    assert len(chunks) >= 3
    assert all(len(c.text) <= HARD_CAP for c in chunks)
    assert "".join(c.text for c in chunks) == run


def test_long_english_run_is_cut_at_spaces_without_trailing_space() -> None:
    run = " ".join(["word"] * 250)
    chunks = chunks_of(run)
    assert all(len(c.text) <= HARD_CAP for c in chunks)
    assert " ".join(c.text for c in chunks) == run


def test_long_punctuation_tail_makes_no_punctuation_only_chunk() -> None:
    text = "好。" + "—" * 350 + "。后来又好了。"
    chunks = chunks_of(text)
    assert [c.text for c in chunks][-1] == "后来又好了。"
    assert re.sub(r"[—。]", "", "".join(c.text for c in chunks)) == "好后来又好了"
