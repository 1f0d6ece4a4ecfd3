"""Bibliographic metadata found in a document: front matter, title, date, publisher, author."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

import yaml

from qa.errors import InputError
from qa.text import HAN
from qa.types import Block, DocumentMeta

_FRONT_MATTER = re.compile(r"\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"),
)
_SOURCE_NOTE = re.compile(r"[（(]\s*(?:文章|稿件|新闻)?来源[:：]\s*([^）)]{2,30})[）)]")
_MASTHEAD = re.compile(r"^\s*(\S{2,12}?(?:日报|晚报|晨报|时报|商报|新闻网|新闻))(?:\s|$)")
_ISSUER = re.compile(r"^\s*(\S{4,30}(?:办公室|人民政府|委员会|办公厅|局|厅|部))\s*$")
_NOTICE_TITLE = re.compile(r"^\s*关于.{4,120}的(?:通知|意见|决定|批复|报告|函|公告)\s*$")
_AUTHOR = re.compile(
    r"^\s*(?:(?:记者|作者|撰稿|通讯员|本报记者)[:：\s]?|文[:：/|｜])\s*\S.{0,40}$"  # "记者 张三", "文/张三"
    r"|.{0,30}本报记者\s*\S.{0,20}$"  # "张三 李四 本报记者 王五"
)
_ROLE = re.compile(r"(?:本报|特约)?(?:记者|通讯员|作者|撰稿人?)\s*[:：]?|^\s*文\s*[:：/|｜]")
_NAME_SEPARATORS = re.compile(r"[,，、;；/|｜]|\s+(?:and|&)\s+")
_CJK_NAMES = re.compile(f"[{HAN}·•\\s]+")
_TERMINAL = "。！？!?；;：:，,"
_CHROME = re.compile(r"数字报纸|文章导航|^\d+版|版权所有|返回首页|上一篇|下一篇")
_ORIGINAL_TITLE = re.compile(r"^\s*原标题[:：]\s*(\S.*)$")
#: Fields read as text by the citation styles: a mapping in one of them is a mistake, not metadata.
_TEXT_FIELDS = ("title", "date", "publisher", "source", "来源", "author", "url", "type")


def split_front_matter(text: str, where: str = "front matter") -> tuple[dict[str, str], int]:
    """Parse a leading YAML front matter block: (fields as strings, offset where the body starts).

    Text that does not parse as a YAML mapping is no front matter; fields that cannot be used
    are an InputError naming ``where`` (see :func:`checked_fields`).
    """
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, 0
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, 0
    if not isinstance(data, dict):
        return {}, 0
    return checked_fields(data, where), m.end()


def checked_fields(data: Mapping[Any, object], where: str) -> dict[str, str]:
    """Metadata fields as strings (:func:`fields_as_text`), refusing what would be stored wrong.

    InputError naming ``where`` and the field for a bibliographic field given as a mapping (a
    YAML ``title: {a: b}``) and for a date that has no year, month and day.
    """
    for key in _TEXT_FIELDS:
        if isinstance(data.get(key), Mapping):
            raise InputError(f'{where}: field "{key}" is a mapping; it must be text (or a list, for author)')
    fields = fields_as_text(data)
    if "date" in fields and normalize_date(fields["date"]) is None:
        raise InputError(f"{where}: date {fields['date']!r} has no year, month and day")
    return fields


def fields_as_text(data: Mapping[Any, object]) -> dict[str, str]:
    """Metadata fields as strings: a list becomes its items joined by ", ", an empty (None) field is left out."""
    return {str(k): _as_text(v) for k, v in data.items() if v is not None}


def _as_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def find_dates(text: str) -> list[str]:
    """Every full date in ``text``, in order of appearance, as ISO ``YYYY-MM-DD``."""
    found: list[tuple[int, str]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            year, month, day = (int(g) for g in m.groups())
            try:
                found.append((m.start(), datetime.date(year, month, day).isoformat()))
            except ValueError:  # no such day (month 13, 30 February): not a date
                continue
    return [date for _, date in sorted(found)]


def normalize_date(text: str) -> str | None:
    """The first full date in ``text``, or None."""
    dates = find_dates(text)
    return dates[0] if dates else None


def _lines(clean: str, blocks: tuple[Block, ...], limit: int) -> list[tuple[Block, str]]:
    return [(b, clean[b.start : b.end].strip()) for b in blocks[:limit]]


def _title(clean: str, blocks: tuple[Block, ...], fields: Mapping[str, str]) -> str:
    if fields.get("title"):
        return fields["title"].strip()
    top = [(b, line) for b, line in _lines(clean, blocks, 12) if not _CHROME.search(line)]
    for _, line in top:
        original_title = _ORIGINAL_TITLE.match(line)
        if original_title:
            return original_title.group(1).strip()
        if _NOTICE_TITLE.match(line):
            return line
    headings = [(b.level, line) for b, line in top if b.kind == "heading"]
    if headings:
        return min(headings, key=lambda h: h[0])[1]
    for _, line in top:
        if line and not _MASTHEAD.match(line) and any(c.isalnum() for c in line):
            return line[:120]
    return ""


def _publisher(clean: str, blocks: tuple[Block, ...], fields: Mapping[str, str]) -> str | None:
    for key in ("publisher", "source", "来源"):
        if fields.get(key):
            return fields[key]
    note = _SOURCE_NOTE.search(clean)
    if note:
        return note.group(1).strip()
    for _, line in _lines(clean, blocks, 6):
        m = _MASTHEAD.match(line) or _ISSUER.match(line)
        if m:
            return m.group(1)
    return None


def _author(clean: str, blocks: tuple[Block, ...], fields: Mapping[str, str]) -> str | None:
    if fields.get("author"):
        return fields["author"]
    for _, line in _lines(clean, blocks, 8):
        if len(line) <= 40 and line[-1:] not in _TERMINAL and _AUTHOR.match(line):
            return line
    return None


def extract_meta(clean: str, blocks: tuple[Block, ...], fields: Mapping[str, str], fallback_title: str) -> DocumentMeta:
    """Metadata from front-matter ``fields`` first, then from the top (and foot) of the text."""
    date = normalize_date(fields.get("date", "")) or normalize_date(clean[:600])
    if date is None:
        tail_dates = find_dates(clean[-600:])
        date = tail_dates[-1] if tail_dates else None
    known = {"title", "date", "publisher", "source", "author", "url", "来源"}
    extra = {k: v for k, v in fields.items() if k not in known}
    return DocumentMeta(
        title=_title(clean, blocks, fields) or fallback_title,
        date=date,
        publisher=_publisher(clean, blocks, fields),
        author=_author(clean, blocks, fields),
        url=fields.get("url"),
        extra=extra,
    )


def author_names(author: str) -> list[str]:
    """The names in an author field, without role labels ("本报记者 王五", "文/张三").

    Names are separated by commas, 、, semicolons, slashes, "and" or "&"; Chinese names are
    also separated by spaces ("张三 李四"), other names keep theirs ("Jane Doe").
    """
    names: list[str] = []
    for part in _NAME_SEPARATORS.split(_ROLE.sub(" ", author)):
        words = part.split()
        if _CJK_NAMES.fullmatch(part):
            names.extend(words)
        elif words:
            names.append(" ".join(words))
    return names
