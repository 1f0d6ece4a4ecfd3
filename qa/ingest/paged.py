"""Assemble the text extracted from a binary document (PDF, DOCX): blocks, page starts, boxes.

The text built here *is* the document's original text: every character of it comes from the
file (a joint between two wrapped lines is a space only between Latin words, never between
Chinese characters) and every character is mapped to its page and, where the file gives one,
the box of the line it sits on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.text import HAN
from qa.types import Block, BlockKind

#: Characters after or before which a wrapped line joins without a space: Han, kana, hangul,
#: CJK and full-width punctuation.
_CLOSE = re.compile(f"[{HAN}\u3000-\u303f\u3040-\u30ff\uac00-\ud7af\uff00-\uffef\u2014\u2026\u201c\u201d\u2018\u2019]")

Box = tuple[float, float, float, float]


def line_joint(before: str, after: str) -> str:
    """What goes between a line ending in ``before`` and the next line, starting with ``after``.

    One space between Latin words (and after their punctuation); nothing next to a Chinese
    character or full-width punctuation, after a hyphen or slash, or around other marks.
    """
    if not before or not after or _CLOSE.match(before[-1]) or _CLOSE.match(after[0]):
        return ""
    ends_word = before[-1].isalnum() or before[-1] in ",.;:!?%)\"'"
    starts_word = after[0].isalnum() or after[0] in "(\"'"
    return " " if ends_word and starts_word else ""


@dataclass(frozen=True)
class Placed:
    """A run of the text, ``[start, end)``, on ``page`` (1-based) within ``box`` (x0, top, x1, bottom)."""

    start: int
    end: int
    page: int
    box: Box | None


@dataclass(frozen=True)
class PagedText:
    """Extracted text with its blocks, the start offset of each page and where each run lies."""

    text: str
    blocks: tuple[Block, ...]
    pages: tuple[int, ...]
    placed: tuple[Placed, ...] = field(repr=False)

    def locate(self, offset: int) -> Placed | None:
        """The run holding ``offset`` (its page and box); None for a block separator."""
        return next((p for p in self.placed if p.start <= offset < p.end), None)


class PagedTextBuilder:
    """Accumulates pages, blocks and lines into a :class:`PagedText`."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._last = ""
        self._blocks: list[Block] = []
        self._block_start: int | None = None
        self._pages: list[int | None] = []
        self._placed: list[Placed] = []

    @property
    def in_block(self) -> bool:
        """Whether a block is open (a line added now continues it)."""
        return self._block_start is not None

    def new_page(self) -> None:
        """Start the next page: its start offset is where its first character lands."""
        self._pages.append(None)

    def _put(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)
        self._last = text[-1] if text else self._last

    def add_line(self, text: str, box: Box | None = None, *, separator: str = "\n", wrapped: bool = True) -> None:
        """Add a line: it continues the open block (joined as wrapped text) or opens a new one.

        A new block is put after ``separator`` (a line break, or a tab between table cells);
        ``wrapped=False`` continues the block with no joint at all (the rest of a paragraph).
        """
        if not text:
            return
        if self._block_start is None:
            if self._length:
                self._put(separator)
            self._block_start = self._length
        elif wrapped:
            self._put(line_joint(self._last, text))
        if self._pages and self._pages[-1] is None:
            self._pages[-1] = self._length
        start = self._length
        self._put(text)
        self._placed.append(Placed(start, self._length, max(len(self._pages), 1), box))

    def end_block(self, kind: BlockKind = "text", level: int = 0) -> None:
        """Close the open block, if any."""
        if self._block_start is not None:
            self._blocks.append(Block(self._block_start, self._length, kind, level))
        self._block_start = None

    def build(self) -> PagedText:
        """Finish: a page without text starts where the next one does."""
        self.end_block()
        pages: list[int] = []
        following = self._length
        for start in reversed(self._pages):
            following = following if start is None else start
            pages.append(following)
        return PagedText("".join(self._parts), tuple(self._blocks), tuple(reversed(pages)), tuple(self._placed))
