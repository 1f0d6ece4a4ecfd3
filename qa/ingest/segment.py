"""Split documents into sentences with exact offsets into the original text.

Boundaries: 。！？!?；, a line break (every block ends one), and an English full stop followed
by a space and a new sentence. Closing quotes and brackets stay with their sentence.
Decimals, versions, list numbers (``1.``), abbreviations (``Mr.``, ``U.S.``), ellipses and
URLs never end a sentence. A sentence over :data:`SOFT_CAP` characters is cut at a comma
(or, failing that, a space or the cap) so that no span exceeds :data:`HARD_CAP`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from qa.types import Block, Chunk, Document

SEGMENTER_VERSION: Final = "2"
SOFT_CAP: Final = 300
HARD_CAP: Final = 400

_SPACE = " \t\n\r\f\v\u00a0\u3000\ufeff\u200b"
_CLOSERS = "”’」』）)]】》〕〉\"'"
_HARD_STOP = re.compile(r"[。！？!?；]+|\.(?=[" + re.escape(_CLOSERS) + r"]*(?:\s|$))")
_PROTECTED = re.compile(  # a URL never ends on trailing punctuation such as the full stop after it
    r"(?:(?:https?|ftp)://|www\.)[!-~]*[\w/=#&%~+-]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII
)
_ABBREVIATIONS: Final = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp no fig vol pp approx dept est gen gov "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k u.n a.m p.m ph.d".split()
)
_LIST_NUMBER = re.compile(r"(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})\.")
_SOFT_BREAK = re.compile(r"[，,、：:]")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def _period_ends_sentence(text: str, dot: int, seg_start: int) -> bool:
    """Decide whether the ``.`` at ``text[dot]`` closes a sentence."""
    word_start = dot
    while word_start > seg_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“‘（")
    if word.lower().rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[A-Za-z](?:\.[A-Za-z])*", word):
        return False
    if _LIST_NUMBER.fullmatch(text[seg_start : dot + 1].strip(_SPACE)):
        return False
    after = dot + 1
    while after < len(text) and (text[after] in _CLOSERS or text[after].isspace()):
        after += 1
    return after >= len(text) or not text[after].islower()


def _split_points(text: str) -> list[int]:
    """Offsets (exclusive ends) at which sentences end inside one block of clean text."""
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    points: list[int] = []
    seg_start = 0
    for m in _HARD_STOP.finditer(text):
        if any(a <= m.start() < b for a, b in protected):
            continue
        if m.group() == "." and not _period_ends_sentence(text, m.start(), seg_start):
            continue
        end = m.end()
        while end < len(text) and text[end] in _CLOSERS:
            end += 1
        points.append(end)
        seg_start = end
    return points


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start] in _SPACE or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in _SPACE or text[end - 1].isspace()):
        end -= 1
    return start, end


def _cap(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long span at commas (or spaces, or the cap) into pieces of at most HARD_CAP."""
    while end - start > SOFT_CAP:
        window = text[start : start + SOFT_CAP]
        breaks = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() > SOFT_CAP // 3]
        space = window.rfind(" ")
        cut = breaks[-1] if breaks else space + 1 if space > SOFT_CAP // 3 else SOFT_CAP
        piece = _trim(text, start, start + cut)
        if piece[0] < piece[1]:
            yield piece
        start, end = _trim(text, start + cut, end)
    if end > start:
        yield start, end


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of one block of clean text: trimmed, ordered, without punctuation-only pieces."""
    spans: list[tuple[int, int]] = []
    start = 0
    for point in [*_split_points(text), len(text)]:
        a, b = _trim(text, start, point)
        start = point
        if a >= b:
            continue
        if not any(_is_word_char(c) for c in text[a:b]):
            if spans:
                spans[-1] = (spans[-1][0], b)
            continue
        spans.append((a, b))
    pieces: list[tuple[int, int]] = []
    for a, b in [piece for span in spans for piece in _cap(text, *span)]:
        if any(_is_word_char(c) for c in text[a:b]):
            pieces.append((a, b))
        elif pieces and b - pieces[-1][0] <= HARD_CAP:  # a long run of punctuation cut off by _cap
            pieces[-1] = (pieces[-1][0], b)
    return pieces


def _heading_paths(doc: Document) -> list[tuple[str, ...]]:
    """For each block, the headings it sits under (a heading's own path excludes itself)."""
    stack: list[tuple[int, str]] = []
    paths = []
    for block in doc.blocks:
        if block.kind == "heading":
            stack = [(lvl, t) for lvl, t in stack if lvl < block.level]
            paths.append(tuple(t for _, t in stack))
            stack.append((block.level, doc.clean[block.start : block.end].strip()))
        else:
            paths.append(tuple(t for _, t in stack))
    return paths


def _block_chunks(doc: Document, block: Block, paragraph: int, heading: tuple[str, ...], first: int) -> list[Chunk]:
    text = doc.clean[block.start : block.end]
    chunks: list[Chunk] = []
    for a, b in sentence_spans(text):
        start, end = doc.original_span(block.start + a, block.start + b)
        chunks.append(
            Chunk(
                source=doc.id,
                index=first + len(chunks),
                start=start,
                end=end,
                text=text[a:b],
                cited=doc.original[start:end],
                line=doc.line_of(start),
                paragraph=paragraph,
                heading=heading,
                page=doc.page_of(start),
            )
        )
    return chunks


def segment(doc: Document) -> list[Chunk]:
    """All sentences of a document, in order, as chunks citing the original text."""
    chunks: list[Chunk] = []
    for paragraph, (block, heading) in enumerate(zip(doc.blocks, _heading_paths(doc), strict=True)):
        chunks.extend(_block_chunks(doc, block, paragraph, heading, len(chunks)))
    return chunks
