"""Offline batch runs: a question set in, JSON lines of ranked citations out, resumable."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tqdm import tqdm

from qa.errors import InputError
from qa.runs.questions import Question
from qa.runs.records import Answerer, answer_records


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did."""

    total: int
    skipped: int
    answered: int
    errors: int = 0


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


def _batches(items: Sequence[Question], size: int) -> Iterator[Sequence[Question]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_batch(
    questions: Sequence[Question],
    answer: Answerer,
    out: IO[str],
    *,
    skip: set[str] | None = None,
    batch_size: int = 32,
    progress: bool = False,
    strict: bool = False,
) -> BatchSummary:
    """Answer every question not in ``skip``, writing one JSON line per question as batches finish.

    A line that cannot be answered is written as an error record and logged as a warning (see
    :func:`answer_records`); ``strict`` stops at the first one instead.
    """
    skip = skip or set()
    todo = [q for q in questions if q.id not in skip]
    errors = 0
    with tqdm(total=len(todo), disable=not progress, unit="q", desc="questions") as bar:
        for group in _batches(todo, batch_size):
            for record in answer_records(group, answer, strict=strict):
                errors += "error" in record
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            bar.update(len(group))
    return BatchSummary(len(questions), len(questions) - len(todo), len(todo) - errors, errors)
