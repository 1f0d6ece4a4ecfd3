"""Domain types shared by every layer of the library (frozen, JSON-friendly)."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

BlockKind = Literal["text", "heading"]


@dataclass(frozen=True)
class DocumentMeta:
    """Bibliographic facts about a document; a field is None when the text does not state it."""

    title: str
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form with the empty fields left out."""
        out: dict[str, object] = {"title": self.title}
        for key in ("date", "publisher", "author", "url"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


@dataclass(frozen=True)
class Block:
    """A paragraph or a heading, as a half-open range of the document's clean text."""

    start: int
    end: int
    kind: BlockKind = "text"
    level: int = 0


@dataclass(frozen=True)
class SourceFile:
    """The bytes of a binary document (PDF, DOCX) whose ``original`` text was extracted from them."""

    kind: str  # "pdf" or "docx": also the file name suffix the index keeps the copy under
    data: bytes = field(repr=False)


@dataclass(frozen=True, eq=False)
class Document:
    """A document as read from disk: its original text, a clean text and a map between them.

    ``starts[i]``/``ends[i]`` give the span of ``original`` that clean character ``i`` came
    from (an HTML entity is one clean character for several original ones). A document read
    from a PDF or DOCX file has its extracted text as ``original``, the file itself as
    ``file``, and, where the file has pages, ``pages``: the offset of each page's first
    character (page ``n`` starts at ``pages[n - 1]``).
    """

    id: str
    original: str
    clean: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    blocks: tuple[Block, ...]
    meta: DocumentMeta
    pages: tuple[int, ...] = ()
    file: SourceFile | None = None

    def original_span(self, clean_start: int, clean_end: int) -> tuple[int, int]:
        """Original-text offsets covering the clean range ``[clean_start, clean_end)``."""
        if clean_end <= clean_start:
            raise ValueError("empty clean range")
        return self.starts[clean_start], self.ends[clean_end - 1]

    @cached_property
    def checksum(self) -> str:
        """sha256 of the file bytes (PDF, DOCX) or of the original text (UTF-8): detects changed documents."""
        data = self.file.data if self.file is not None else self.original.encode("utf-8")
        return hashlib.sha256(data).hexdigest()

    @cached_property
    def _line_starts(self) -> tuple[int, ...]:
        return (0, *(i + 1 for i, ch in enumerate(self.original) if ch == "\n"))

    def line_of(self, offset: int) -> int:
        """1-based line number of an offset into the original text."""
        return bisect_right(self._line_starts, offset)

    def page_of(self, offset: int) -> int | None:
        """1-based page of an offset into the original text; None for a document without pages."""
        return page_at(self.pages, offset)


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """1-based page holding ``offset``, given each page's start offset; None when there are no pages."""
    return bisect_right(pages, offset) if pages else None


@dataclass(frozen=True)
class Chunk:
    """One sentence of a document: the unit that is indexed and cited.

    ``start``/``end`` are offsets into the document's original text; ``text`` is the clean
    sentence (markup removed). ``cited`` is exactly ``original[start:end]``.
    """

    source: str
    index: int
    start: int
    end: int
    text: str
    cited: str
    line: int
    paragraph: int
    heading: tuple[str, ...] = ()
    page: int | None = None

    def where(self) -> str:
        """``source:line [start:end]``, then ``p. N`` for a sentence on a known page: how people find it."""
        page = f" p. {self.page}" if self.page is not None else ""
        return f"{self.source}:{self.line} [{self.start}:{self.end}]{page}"

    def as_dict(self) -> dict[str, object]:
        """The JSON form printed by ``qa chunks``."""
        out: dict[str, object] = {
            "source": self.source,
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.cited,
            "line": self.line,
            "paragraph": self.paragraph,
            "heading": list(self.heading),
        }
        if self.page is not None:
            out["page"] = self.page
        if self.text != self.cited:
            out["clean_text"] = self.text
        return out
