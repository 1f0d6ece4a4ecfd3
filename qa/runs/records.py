"""Answering a group of questions so that one bad line never stops a run: a question that cannot be read or
answered becomes a failure of its own while the rest of the group is answered."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict

from qa.errors import QAError
from qa.search import Hit

log = logging.getLogger(__name__)

#: Ranks hits for each of a list of questions: :meth:`qa.engine.Engine.ask_many` or the same shape.
AskMany = Callable[[Sequence[str], int], Sequence[Sequence[Hit]]]


class Asked(Protocol):
    """Anything with an id and a question: a :class:`~qa.runs.questions.Question`, a gold item."""

    @property
    def id(self) -> str:
        """The question's id."""
        ...

    @property
    def question(self) -> str:
        """The question's text."""
        ...


class ErrorInfo(TypedDict):
    """What went wrong with one question."""

    code: str
    message: str


class ErrorRecord(TypedDict):
    """The record written in place of a question's hits when it cannot be read or answered."""

    id: str
    error: ErrorInfo


@dataclass(frozen=True)
class Failure:
    """Why one question got no answer: an error code and a message for people."""

    code: str
    message: str

    def record(self, question_id: str) -> ErrorRecord:
        """The error record written in place of the question's hits."""
        return {"id": question_id, "error": {"code": self.code, "message": self.message}}


def answer_group(questions: Sequence[Asked], ask_many: AskMany, top_k: int) -> list[Sequence[Hit] | Failure]:
    """The hits of each question, or its failure: a question whose line could not be read (a ``Question`` with
    an ``error``) fails as read; when ranking fails for the group, each question is asked alone, so only the
    culprit fails."""
    results: list[Sequence[Hit] | Failure] = []
    readable: list[int] = []
    for i, question in enumerate(questions):
        error = getattr(question, "error", None)  # only question-file items carry one
        results.append(Failure("bad_input", error) if error is not None else [])
        if error is None:
            readable.append(i)
    texts = [questions[i].question for i in readable]
    try:
        answers: Sequence[Sequence[Hit] | Failure] = ask_many(texts, top_k) if texts else []
    except Exception:
        answers = [_answer_one(text, ask_many, top_k) for text in texts]
    for i, answer in zip(readable, answers, strict=True):
        results[i] = answer
    return results


def _answer_one(text: str, ask_many: AskMany, top_k: int) -> Sequence[Hit] | Failure:
    try:
        return ask_many([text], top_k)[0]
    except QAError as exc:
        return Failure(exc.code, str(exc))
    except Exception as exc:
        log.error("a question could not be answered (%s: %s): %r", type(exc).__name__, exc, text[:80])
        log.debug("the failure", exc_info=exc)
        return Failure("internal_error", f"the question could not be answered ({type(exc).__name__})")
