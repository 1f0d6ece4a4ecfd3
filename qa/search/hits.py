"""Turn ranked chunks into hits: the cited sentence, its citation, its context, its duplicates."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from qa.index.reader import IndexReader, chunks_of
from qa.search.citation_styles import Citations, format_citations
from qa.search.retrieval import Scored
from qa.types import Chunk

_WS = re.compile(r"\s+")
#: sentences read on each side of a hit for its context (more when its paragraph runs past them)
_WINDOW = 8


@dataclass(frozen=True)
class Location:
    """Where a sentence stands in a document."""

    source: str
    """Document id."""
    start: int
    """Offset of the sentence in the document's original text."""
    end: int
    line: int
    """1-based line of the sentence's start."""
    page: int | None = None
    """1-based page of the sentence's start, where the document has pages."""

    def as_dict(self) -> dict[str, object]:
        """JSON form: the fields, in order (``page`` only where the document has pages)."""
        out = asdict(self)
        if self.page is None:
            del out["page"]
        return out


@dataclass(frozen=True)
class Hit:
    """One ranked sentence with everything needed to check it by hand."""

    rank: int
    score: float
    chunk: Chunk
    title: str
    date: str | None
    publisher: str | None
    previous_sentence: str
    next_sentence: str
    paragraph_start: int
    paragraph_end: int
    dense: float
    lexical: float
    citation: Citations
    also_at: tuple[Location, ...] = ()
    author: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The batch-contract form: rank, score, source, start, end, text, title, then the rest.

        ``page`` is the 1-based page of the sentence's start (PDF, a DOCX that records pages), else None.
        """
        c = self.chunk
        out: dict[str, object] = {
            "rank": self.rank,
            "score": round(self.score, 4),
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "text": c.cited,
            "title": self.title,
            "line": c.line,
            "paragraph": c.paragraph,
            "heading": list(c.heading),
            "page": c.page,
        }
        for key in ("date", "publisher", "author"):
            value = getattr(self, key)
            if value:
                out[key] = value
        out["context"] = {
            "previous": self.previous_sentence,
            "next": self.next_sentence,
            "paragraph_start": self.paragraph_start,
            "paragraph_end": self.paragraph_end,
        }
        out["scores"] = {"dense": round(self.dense, 4), "lexical": round(self.lexical, 4)}
        out["citation"] = self.citation.as_dict()
        if self.also_at:
            out["also_at"] = [loc.as_dict() for loc in self.also_at]
        return out


def _neighbours(index: IndexReader, chunk: Chunk) -> tuple[str, str, int, int]:
    """Previous and next sentence of the same document, and the span of the chunk's paragraph.

    Only the sentences around the chunk are read, the window widened while the paragraph runs past it.
    """
    ids = index.document(chunk.source).chunk_ids
    start, end = max(0, chunk.index - _WINDOW), min(len(ids), chunk.index + _WINDOW + 1)
    while True:
        around = chunks_of(index, ids[start:end])
        left = start > 0 and around[0].paragraph == chunk.paragraph
        right = end < len(ids) and around[-1].paragraph == chunk.paragraph
        if not (left or right):
            break
        width = 2 * (end - start)
        start, end = (max(0, start - width) if left else start), (min(len(ids), end + width) if right else end)
    at = chunk.index - start
    previous = around[at - 1].cited if at > 0 else ""
    following = around[at + 1].cited if at + 1 < len(around) else ""
    same = [c for c in around if c.paragraph == chunk.paragraph]
    return previous, following, same[0].start, same[-1].end


def build_hits(index: IndexReader, ranked: Sequence[Scored], k: int) -> list[Hit]:
    """The top ``k`` hits, sentences with the same text collapsed into one hit listing every location.

    Each hit is cited in every style from its document's metadata, accessed today.
    """
    today = datetime.date.today()
    hits: list[Hit] = []
    by_text: dict[str, int] = {}
    extra: dict[int, list[Location]] = {}
    for item in ranked:
        chunk = index.chunks[item.chunk_id].chunk
        key = _WS.sub("", chunk.text)
        if key in by_text:
            c = chunk
            extra[by_text[key]].append(Location(c.source, c.start, c.end, c.line, c.page))
            continue
        if len(hits) == k:
            continue
        by_text[key] = len(hits)
        extra[len(hits)] = []
        meta = index.document(chunk.source).meta
        previous, following, p_start, p_end = _neighbours(index, chunk)
        hits.append(
            Hit(
                len(hits) + 1,
                item.score,
                chunk,
                meta.title,
                meta.date,
                meta.publisher,
                previous,
                following,
                p_start,
                p_end,
                item.dense,
                item.lexical,
                format_citations(meta, chunk.source, chunk.line, accessed=today, page=chunk.page),
                author=meta.author,
            )
        )
    return [replace(h, also_at=tuple(extra[i])) for i, h in enumerate(hits)]
