"""Questions about a document's own metadata (when it was issued, by whom, who wrote it).

Such a question ("这份实施方案是哪一天印发的？", "Who published this notice?") is answered from the
top hit's document: the line of its text that states the field is moved first; when the text
states it nowhere (a date given only in a JSONL field or front matter that is not part of the
cited text), the answer is a metadata hit: the field and its value, cited to the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from qa.index.reader import IndexReader
from qa.ingest.metadata import find_dates
from qa.search.hits import Hit
from qa.search.retrieval import Scored
from qa.text import fold

Field = Literal["date", "publisher", "author"]

_ISSUED = r"印发|发布|发表|出版|刊发|刊登|刊出|发文|签发|成文|公布|下发|publish|issue|release"
_WHEN = r"哪一?天|哪一?年|何时|什么时候|日期|\bwhen\b"
_WHO = r"哪个?(?:单位|部门|机关|机构|媒体|报纸|网站)|谁"
_DOCUMENT = re.compile(
    r"文件|通知|方案|意见|办法|规划|报道|文章|新闻|稿件|公告|政策|计划|决定|报告|本文|此文|该文|这篇|这份"
    r"|\b(?:document|notice|article|report|plan|policy|announcement|paper|story)\b"
)
_ASKS: dict[Field, re.Pattern[str]] = {
    "date": re.compile(
        rf"(?:{_WHEN}|哪个月|几月几[日号]|what (?:date|day|year)|which (?:date|day|year)).*(?:{_ISSUED})"
        rf"|(?:{_ISSUED}).*(?:{_WHEN})|(?:{_ISSUED})(?:日期|时间)"
    ),
    "publisher": re.compile(
        rf"(?:{_WHO}|由谁|\bwho\b|which (?:agency|office|department|body|newspaper)).*(?:{_ISSUED})"
        rf"|(?:{_ISSUED}).*(?:{_WHO})|发文机关|发布(?:单位|机构)|\bpublisher\b"
    ),
    "author": re.compile(r"作者|谁写|由谁(?:撰写|执笔)|撰稿人|记者是谁|who wrote|\bauthor\b|written by whom"),
}
_WS = re.compile(r"\s+")


def asked_field(question: str) -> Field | None:
    """The metadata field a question asks of its document, or None (most questions ask about the text)."""
    lowered = fold(question)
    if not _DOCUMENT.search(lowered):
        return None
    names: tuple[Field, ...] = ("author", "publisher", "date")
    for name in names:
        if _ASKS[name].search(lowered):
            return name
    return None


def states(text: str, field: Field, value: str) -> bool:
    """Whether ``text`` states the field's ``value`` (a date in any written form; a name as written)."""
    if field == "date":
        return value in find_dates(text)
    return _WS.sub("", value) in _WS.sub("", text)


def _value(index: IndexReader, source: str, field: Field) -> str | None:
    value = getattr(index.document(source).meta, field)
    return value if isinstance(value, str) and value.strip() else None


def promote_stated(index: IndexReader, question: str, ranked: Sequence[Scored]) -> list[Scored]:
    """``ranked`` with the line that states the asked field of the top document moved first (when there is one)."""
    field = asked_field(question)
    if field is None or not ranked:
        return list(ranked)
    top = ranked[0]
    source = index.chunks[top.chunk_id].chunk.source
    value = _value(index, source, field)
    if value is None:
        return list(ranked)
    stated = next(
        (i for i in index.document(source).chunk_ids if states(index.chunks[i].chunk.text, field, value)), None
    )
    if stated is None or stated == top.chunk_id:
        return list(ranked)
    found = next((s for s in ranked if s.chunk_id == stated), Scored(stated, top.score, 0.0, 0.0))
    first = Scored(stated, top.score + 1e-3, found.dense, found.lexical)
    return [first, *(s for s in ranked if s.chunk_id != stated)]


@dataclass(frozen=True)
class MetadataHit:
    """A fact from a document's metadata that its text does not state: the field, its value, the document."""

    field: Field
    value: str
    source: str
    title: str

    def as_dict(self) -> dict[str, object]:
        """JSON form: ``kind`` "metadata", the field and value, and the document it belongs to."""
        return {
            "kind": "metadata",
            "field": self.field,
            "value": self.value,
            "source": self.source,
            "title": self.title,
        }


def metadata_hits(question: str, hits: Sequence[Hit]) -> list[MetadataHit]:
    """The metadata hit answering ``question`` when the top hit's text does not state the asked field.

    The engine has already moved a line stating the field first (:func:`promote_stated`), so a top
    hit that does not state it means the document's text states it nowhere.
    """
    field = asked_field(question)
    if field is None or not hits:
        return []
    top = hits[0]
    value = getattr(top, field)
    if not isinstance(value, str) or not value.strip() or states(top.chunk.text, field, value):
        return []
    return [MetadataHit(field, value, top.chunk.source, top.title)]
