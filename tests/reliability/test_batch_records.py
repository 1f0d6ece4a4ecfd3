"""One question the ranker fails on becomes one error record; the rest of its group is answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from qa.errors import InputError
from qa.runs import Question, answer_records


@dataclass(frozen=True)
class FakeHit:
    """Stands in for a Hit: only its JSON form is read."""

    text: str

    def as_dict(self) -> dict[str, object]:
        return {"rank": 1, "text": self.text}


def ask_many(texts: Sequence[str], top_k: int) -> list[list[FakeHit]]:
    if "boom" in texts:
        raise RuntimeError("the tokenizer failed")
    return [[FakeHit(t)] for t in texts]


def test_a_failing_question_is_isolated() -> None:
    group = [Question("a", "x"), Question("b", "boom"), Question("c", "y"), Question("d", "", "line 4: no question")]
    records = list(answer_records(group, ask_many))  # type: ignore[arg-type]
    assert [r["id"] for r in records] == ["a", "b", "c", "d"]
    assert records[0]["hits"] == [{"rank": 1, "text": "x"}] and records[2]["hits"] == [{"rank": 1, "text": "y"}]
    assert records[1] == {"id": "b", "error": {"code": "internal_error", "message": records[1]["error"]["message"]}}  # type: ignore[index]
    assert records[3] == {"id": "d", "error": {"code": "bad_input", "message": "line 4: no question"}}


def test_strict_stops_at_the_first_error() -> None:
    with pytest.raises(InputError, match="line 4"):
        list(answer_records([Question("a", "x"), Question("d", "", "line 4: no question")], ask_many, strict=True))  # type: ignore[arg-type]
