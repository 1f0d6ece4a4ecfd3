"""Offline batch runs: a question set in, one record of ranked citations per question out, resumable."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NotRequired, TypedDict

from tqdm import tqdm

from qa.errors import InputError
from qa.runs.questions import Question
from qa.runs.records import Asked, AskMany, ErrorRecord, Failure, answer_group
from qa.search import Hit, compose, metadata_hits

log = logging.getLogger(__name__)

#: Questions encoded together.
GROUP = 32


class BatchRecord(TypedDict):
    """The batch contract for one question (what ``qa batch`` writes a JSON line of).

    ``answer`` and ``no_answer`` (see :func:`qa.search.compose`) only when asked for; ``metadata_hits``
    only for a question about its document's metadata that the text does not state (see
    :mod:`qa.search.metadata`): kept beside ``hits`` so that every hit still cites ``text[start:end]``.
    """

    id: str
    question: str
    hits: list[dict[str, object]]
    metadata_hits: NotRequired[list[dict[str, object]]]
    answer: NotRequired[str]
    no_answer: NotRequired[bool]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did."""

    total: int
    skipped: int
    answered: int
    errors: int = 0

    def describe(self, seconds: float) -> str:
        """One line for people: what was answered, what was already there, what failed, how fast."""
        rate = f" ({self.answered / seconds:.1f} questions/s)" if self.answered and seconds > 0 else ""
        failed = f"; {self.errors} could not be answered" if self.errors else ""
        return f"{self.answered} answered, {self.skipped} already there in {seconds:.1f} s{rate}{failed}"


def batch_record(question: Asked, hits: Sequence[Hit], no_answer_cosine: float | None = None) -> BatchRecord:
    """The batch contract for one question: ``{"id", "question", "hits"}`` (hits in their JSON form).

    With ``no_answer_cosine``, also the extractive answer over the hits and whether any fits.
    """
    record: BatchRecord = {"id": question.id, "question": question.question, "hits": [h.as_dict() for h in hits]}
    facts = metadata_hits(question.question, hits)
    if facts:
        record["metadata_hits"] = [f.as_dict() for f in facts]
    if no_answer_cosine is not None:
        reply = compose(question.question, hits, no_answer_cosine)
        record["answer"], record["no_answer"] = reply.answer, reply.no_answer
    return record


def answer_records(
    questions: Sequence[Asked],
    ask_many: AskMany,
    top_k: int = 10,
    *,
    no_answer_cosine: float | None = None,
    group: int = GROUP,
    strict: bool = False,
) -> Iterator[BatchRecord | ErrorRecord]:
    """One record per question, in order, the questions answered ``group`` at a time.

    ``ask_many`` is :meth:`qa.engine.Engine.ask_many` or anything that ranks hits the same way. A question
    that cannot be read or answered gets an error record ``{"id", "error": {"code", "message"}}`` (see
    :func:`qa.runs.records.answer_group`); with ``strict`` it raises InputError instead.
    """
    for start in range(0, len(questions), group):
        batch = questions[start : start + group]
        for question, result in zip(batch, answer_group(batch, ask_many, top_k), strict=True):
            if isinstance(result, Failure):
                if strict:
                    raise InputError(f"question {question.id}: {result.message}")
                yield result.record(question.id)
            else:
                yield batch_record(question, result, no_answer_cosine)


def completed_ids(path: Path) -> set[str]:
    """Ids already answered in an output file; a torn last line (from a crash) is cut off.

    A bad line before the last one means the file is not a batch output: InputError, and the
    file is left as it is.
    """
    if not path.exists():
        return set()
    done: set[str] = set()
    good_bytes = 0
    bad_line: int | None = None
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                if bad_line is not None:
                    raise InputError(
                        f'{path}:{bad_line}: not a result line (JSON with an "id"); '
                        "give another --output or fix that line"
                    )
                try:
                    row = json.loads(raw)
                except ValueError:
                    row = None
                if not raw.endswith(b"\n") or not isinstance(row, dict) or "id" not in row:
                    bad_line = number
                    continue
                done.add(str(row["id"]))
                good_bytes += len(raw)
        if good_bytes != path.stat().st_size:
            with path.open("r+b") as handle:
                handle.truncate(good_bytes)
    except OSError as exc:
        raise InputError(f"{path}: cannot resume this output file ({exc})") from None
    return done


def json_line(record: Mapping[str, Any]) -> str:
    """One record as a JSON line."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_records(
    records: Iterable[Mapping[str, Any]],
    out: IO[str],
    render: Callable[[Mapping[str, Any]], str] = json_line,
    bar: tqdm | None = None,
) -> int:
    """Write each record as ``render`` makes it, flushed one at a time (what is written survives a crash).

    Every error record (``{"id", "error"}``) is also logged as a warning, whether ``render`` writes it (JSON
    lines) or leaves it out (the tables and TREC runs). Returns how many there were.
    """
    errors = 0
    for record in records:
        text = render(record)
        if "error" in record:
            errors += 1
            log.warning("question %s: %s", record["id"], record["error"]["message"])
        out.write(text)
        out.flush()
        if bar is not None:
            bar.update(1)
    return errors


def run_batch(
    questions: Sequence[Question],
    ask_many: AskMany,
    out: IO[str],
    *,
    render: Callable[[Mapping[str, Any]], str] = json_line,
    top_k: int = 10,
    skip: set[str] | None = None,
    no_answer_cosine: float | None = None,
    progress: bool = False,
    strict: bool = False,
) -> BatchSummary:
    """Answer every question not in ``skip``, writing each record as it is answered (see :func:`write_records`).

    A line that cannot be answered gets an error record; ``strict`` stops at the first one instead.
    """
    skip = skip or set()
    todo = [q for q in questions if q.id not in skip]
    records = answer_records(todo, ask_many, top_k, no_answer_cosine=no_answer_cosine, strict=strict)
    with tqdm(total=len(todo), disable=not progress, unit="q", desc="questions") as bar:
        errors = write_records(records, out, render, bar)
    return BatchSummary(len(questions), len(questions) - len(todo), len(todo) - errors, errors)
