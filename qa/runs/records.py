"""Output records of a batch run, one per question: its hits, or an error record for a line that cannot be
read or answered, so one bad line never stops a run (the ``qa batch`` file and the ``/v1/batch`` stream)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.errors import InputError, QAError
from qa.runs.questions import Question

log = logging.getLogger(__name__)

#: Answers a list of questions: the hits (JSON form) of each.
Answerer = Callable[[list[str]], list[list[dict[str, object]]]]


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str


def _answer_each(questions: Sequence[Question], answer: Answerer) -> list[list[dict[str, object]] | _Failure]:
    """The answers of a group; when the answerer fails on it, each question alone, so only the culprit fails."""
    texts = [q.question for q in questions]
    if not texts:
        return []
    try:
        return list(answer(texts))
    except Exception:
        return [_answer_one(text, answer) for text in texts]


def _answer_one(text: str, answer: Answerer) -> list[dict[str, object]] | _Failure:
    try:
        return answer([text])[0]
    except QAError as exc:
        return _Failure(exc.code, str(exc))
    except Exception as exc:
        log.error("a question could not be answered (%s: %s): %r", type(exc).__name__, exc, text[:80])
        log.debug("the failure", exc_info=exc)
        return _Failure("internal_error", f"the question could not be answered ({type(exc).__name__})")


def answer_records(group: Sequence[Question], answer: Answerer, *, strict: bool = False) -> list[dict[str, object]]:
    """One output record per question: ``{"id", "question", "hits"}``, or ``{"id", "error": {"code", "message"}}``
    for a line that cannot be read or answered. With ``strict``, the first such line raises InputError."""
    answers = iter(_answer_each([q for q in group if q.error is None], answer))
    records: list[dict[str, object]] = []
    for question in group:
        result = _Failure("bad_input", question.error) if question.error is not None else next(answers)
        if isinstance(result, _Failure):
            if strict:
                raise InputError(result.message)
            log.warning("question %s: %s", question.id, result.message)
            records.append({"id": question.id, "error": {"code": result.code, "message": result.message}})
        else:
            records.append({"id": question.id, "question": question.question, "hits": result})
    return records
