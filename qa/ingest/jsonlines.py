"""JSON lines: one object per non-blank line; reading errors name the line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from qa.errors import InputError


def parse_json_object(line: str, where: str) -> dict[str, Any]:
    """One line as a JSON object; InputError naming ``where`` for anything else.

    Input no parser can take (nesting deep enough to exhaust the recursion limit, an integer of
    thousands of digits) is bad input like any other malformed line.
    """
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except ValueError:  # the one other failure: an integer over Python's digit limit
        raise InputError(f"{where}: a number too long to read") from None
    if not isinstance(row, dict):
        raise InputError(f"{where}: each line must be a JSON object")
    return row


def iter_json_objects(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line number, object) for every non-blank line; InputError naming a bad line."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, parse_json_object(line, f"{name}:{number}")


def write_json_lines(handle: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    """Write each row as one line of JSON (UTF-8 characters kept as they are)."""
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
