"""JSON lines: one object per non-blank line; reading errors name the line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from qa.errors import InputError


def iter_json_objects(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line number, object) for every non-blank line; InputError naming a bad line."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{name}:{number}: each line must be a JSON object")
        yield number, row


def write_json_lines(handle: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    """Write each row as one line of JSON (UTF-8 characters kept as they are)."""
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
