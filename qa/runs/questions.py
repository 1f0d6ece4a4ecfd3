"""Read question sets: JSONL (``id``, ``question``), CSV with those columns, or plain text (one a line)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError
from qa.ingest import iter_json_objects

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Question:
    """One question of a set; ``id`` is the input's id, or the line number for plain text."""

    id: str
    question: str


def _check(items: list[Question], name: str) -> list[Question]:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise InputError(f"{name}: question id {item.id!r} appears twice")
        seen.add(item.id)
        if len(item.question) > MAX_QUESTION_CHARS:
            raise InputError(f"{name}: question {item.id!r} is longer than {MAX_QUESTION_CHARS} characters")
    return items


def _from_jsonl(text: str, name: str) -> list[Question]:
    items = []
    for number, row in iter_json_objects(text.splitlines(), name):
        if not str(row.get("question", "")).strip():
            raise InputError(f'{name}:{number}: a line needs a non-empty "question" field')
        items.append(Question(str(row.get("id", number)), str(row["question"]).strip()))
    return items


def _from_csv(text: str, name: str) -> list[Question]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in reader.fieldnames:
        raise InputError(f'{name}: a CSV question set needs a "question" column (and optionally "id")')
    items = []
    for number, row in enumerate(reader, 2):
        question = (row.get("question") or "").strip()
        if question:
            items.append(Question(str(row.get("id") or number), question))
    return items


def _from_lines(text: str) -> list[Question]:
    return [Question(str(n), line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def parse_questions(text: str, name: str = "questions", fmt: str | None = None) -> list[Question]:
    """Parse a question set; the format comes from ``fmt`` ("jsonl", "csv", "txt") or the content."""
    text = text.lstrip("\ufeff")
    if fmt is None:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if first.startswith("{"):
            fmt = "jsonl"
        elif "question" in [c.strip() for c in first.split(",")]:
            fmt = "csv"
        else:
            fmt = "txt"
    parsers = {
        "jsonl": lambda: _from_jsonl(text, name),
        "csv": lambda: _from_csv(text, name),
        "txt": lambda: _from_lines(text),
    }
    if fmt not in parsers:
        raise InputError(f"unknown question format {fmt!r} (use jsonl, csv or txt)")
    return _check(parsers[fmt](), name)


def read_questions(path: Path) -> list[Question]:
    """Read a question set from a file; the extension (.jsonl, .csv) or the content decides the format."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read question set ({exc})") from None
    suffix = path.suffix.lower().lstrip(".")
    return parse_questions(text, str(path), suffix if suffix in {"jsonl", "csv"} else None)
