"""Output files made of one block of text per question (CSV rows, Markdown sections, TREC lines), resumable.

A block is everything written for one question, in one write. On a rerun the ids of every
block but the last are done; the last block is cut off and answered again, since a crash may
have left it half written (its own lines cannot tell whether it is whole).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import InputError


@dataclass(frozen=True)
class Block:
    """What one question left in an output file: its id, where it starts (a character offset), what it says."""

    id: str
    start: int
    data: dict[str, object] = field(default_factory=dict)


Parse = Callable[[str, str], list[Block]]


def lines(text: str, newline: str | None = "\n") -> Iterator[tuple[int, str]]:
    """(character offset, line with its ending) of every line; ``newline=""`` also splits at ``\\r``."""
    at = 0
    for line in io.StringIO(text, newline=newline):
        yield at, line
        at += len(line)


def read_output(path: Path) -> str:
    """The text of an output file exactly as written (no newline translation); InputError if unreadable."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read this output file ({exc})") from None


def resume_blocks(path: Path, parse: Parse, keep: int = 0) -> set[str]:
    """Ids done in ``path``; its last block (and anything torn after it) is cut off to be answered again.

    ``keep`` characters at the start (a header) stay, unless the file is shorter (a torn header).
    A file that ``parse`` does not recognise is an InputError, and the file is left as it is.
    """
    if not path.exists():
        return set()
    text = read_output(path)
    blocks = parse(text, str(path))
    cut = blocks[-1].start if blocks else (keep if len(text) >= keep else 0)
    try:
        with path.open("r+b") as handle:
            handle.truncate(len(text[:cut].encode("utf-8")))
    except OSError as exc:
        raise InputError(f"{path}: cannot resume this output file ({exc})") from None
    return {b.id for b in blocks[:-1]}


def not_an_output(name: str, number: int, what: str) -> InputError:
    """The error for a file that is not the output it should be."""
    return InputError(f"{name}:{number}: not {what}; give another --output or --format")
