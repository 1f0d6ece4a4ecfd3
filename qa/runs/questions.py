"""Read question sets: JSONL (``id``, ``question``), CSV with those columns, or plain text (one a line).

A line that cannot be used (bad JSON, no question, a question too long, a repeated id, text
that is not valid Unicode) becomes a :class:`Question` with an ``error``: a batch run records
it and goes on. ``strict=True`` raises InputError at the first such line instead.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from qa.errors import InputError
from qa.ingest import decode_bytes
from qa.ingest.jsonlines import parse_json_object
from qa.text import check_text, repair_text

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Question:
    """One question of a set; ``id`` is the input's id, or the line number when it has none.

    ``error`` says why the line cannot be answered (None for a usable question).
    """

    id: str
    question: str
    error: str | None = None


def _problem(item: Question, seen: set[str], name: str, max_chars: int) -> str | None:
    """Why ``item`` cannot be answered: its own error, a repeated id, a question too long, invalid text."""
    if item.error is not None:
        return item.error
    if repair_text(item.id) != item.id:
        return f"{name}: question id {repair_text(item.id)!r} holds an unpaired surrogate: it is not valid Unicode text"
    if item.id in seen:
        return f"{name}: question id {item.id!r} appears twice"
    if len(item.question) > max_chars:
        return f"{name}: question {item.id!r} has {len(item.question)} characters; the limit is {max_chars}"
    try:
        check_text(item.question, f"question {item.id!r}")
    except InputError as exc:
        return f"{name}: {exc}"
    return None


def _check(items: list[Question], name: str, max_chars: int) -> list[Question]:
    seen: set[str] = set()
    out = []
    for item in items:
        problem = _problem(item, seen, name, max_chars)
        if item.error is None:  # an unreadable line's id is its line number, not an id of the input
            seen.add(item.id)
        out.append(item if problem == item.error else replace(item, id=repair_text(item.id), error=problem))
    return out


def _from_jsonl(text: str, name: str) -> Iterator[Question]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = parse_json_object(line, f"{name}:{number}")
        except InputError as exc:
            yield Question(str(number), "", str(exc))
            continue
        question = str(row.get("question") or "").strip()
        problem = None if question else f'{name}:{number}: a line needs a non-empty "question" field'
        yield Question(str(row.get("id", number)), question, problem)


def _from_csv(text: str, name: str) -> Iterator[Question]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in reader.fieldnames:
        raise InputError(f'{name}: a CSV question set needs a "question" column (and optionally "id")')
    rows = iter(reader)
    for number in itertools.count(2):
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Question(str(number), "", f"{name}: row {number}: {exc}")
            continue
        question = (row.get("question") or "").strip()
        if question:
            yield Question(str(row.get("id") or number), question)


def _from_lines(text: str) -> Iterator[Question]:
    return (Question(str(n), line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip())


def _guess_format(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith("{"):
        return "jsonl"
    return "csv" if "question" in [c.strip() for c in first.split(",")] else "txt"


def parse_questions(
    text: str,
    name: str = "questions",
    fmt: str | None = None,
    *,
    max_chars: int = MAX_QUESTION_CHARS,
    strict: bool = False,
) -> list[Question]:
    """Parse a question set; the format comes from ``fmt`` ("jsonl", "csv", "txt") or the content.

    Unusable lines come back with an ``error`` (see the module docstring); with ``strict``, the
    first one raises InputError.
    """
    text = text.lstrip("\ufeff")
    fmt = fmt or _guess_format(text)
    parsers = {"jsonl": _from_jsonl, "csv": _from_csv, "txt": lambda t, _: _from_lines(t)}
    if fmt not in parsers:
        raise InputError(f"unknown question format {fmt!r} (use jsonl, csv or txt)")
    items = _check(list(parsers[fmt](text, name)), name, max_chars)
    first_error = next((q.error for q in items if q.error), None)
    if strict and first_error:
        raise InputError(first_error)
    return items


def read_questions(path: Path, *, max_chars: int = MAX_QUESTION_CHARS, strict: bool = False) -> list[Question]:
    """Read a question set from a file (any encoding :func:`~qa.ingest.decode_bytes` reads); the extension
    (.jsonl, .csv) or the content decides the format."""
    try:
        text = decode_bytes(path.read_bytes(), str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read question set ({exc.strerror or exc})") from None
    except InputError:  # binary, or no encoding fits
        raise InputError(f"{path}: not a text file, so not a question set") from None
    suffix = path.suffix.lower().lstrip(".")
    fmt = suffix if suffix in {"jsonl", "csv"} else None
    return parse_questions(text, str(path), fmt, max_chars=max_chars, strict=strict)
