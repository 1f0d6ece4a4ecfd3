"""One question the answerer fails on becomes one error record; the rest of its group is answered."""

from __future__ import annotations

import pytest

from qa.errors import InputError
from qa.runs import Question, answer_records


def answer(texts: list[str]) -> list[list[dict[str, object]]]:
    if "boom" in texts:
        raise RuntimeError("the tokenizer failed")
    return [[{"rank": 1, "text": t}] for t in texts]


def test_a_failing_question_is_isolated() -> None:
    group = [Question("a", "x"), Question("b", "boom"), Question("c", "y"), Question("d", "", "line 4: no question")]
    records = answer_records(group, answer)
    assert [r["id"] for r in records] == ["a", "b", "c", "d"]
    assert records[0]["hits"] == [{"rank": 1, "text": "x"}] and records[2]["hits"] == [{"rank": 1, "text": "y"}]
    assert records[1] == {"id": "b", "error": {"code": "internal_error", "message": records[1]["error"]["message"]}}  # type: ignore[index]
    assert records[3] == {"id": "d", "error": {"code": "bad_input", "message": "line 4: no question"}}


def test_strict_stops_at_the_first_error() -> None:
    with pytest.raises(InputError, match="line 4"):
        answer_records([Question("a", "x"), Question("d", "", "line 4: no question")], answer, strict=True)
