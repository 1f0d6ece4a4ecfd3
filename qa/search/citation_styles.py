"""Formatted references to a document: GB/T 7714-2015, APA 7 and a plain ``source:line``.

Only what the metadata states is written: a missing author, date or publisher is left out,
never replaced by a placeholder (GB/T 7714's 佚名 / [出版者不详] are optional under its
numeric system and are not used). Names are written as the metadata gives them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, fields

from qa.errors import InputError
from qa.ingest import author_names
from qa.text import has_han
from qa.types import DocumentMeta

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_NEWSPAPER = re.compile(r"(?<!学)报$")  # 日报, 晚报, 晨报, 时报, 商报, 报; a journal (学报) is not a newspaper
_SENTENCE_END = (".", "?", "!", "。", "？", "！")
_GBT_MAX_AUTHORS = 3
_APA_MAX_AUTHORS = 20


@dataclass(frozen=True)
class Citations:
    """One document (or sentence) cited in each supported style."""

    gbt7714: str
    apa: str
    plain: str

    def as_dict(self) -> dict[str, str]:
        """JSON form: ``{"gbt7714", "apa", "plain"}``."""
        return {"gbt7714": self.gbt7714, "apa": self.apa, "plain": self.plain}


#: The style names, in the order of :class:`Citations`.
STYLES = tuple(f.name for f in fields(Citations))


def check_style(style: str) -> str:
    """``style`` if it names a citation style; InputError otherwise."""
    if style not in STYLES:
        raise InputError(f"unknown citation style {style!r}: use {', '.join(STYLES)}")
    return style


def format_citations(
    meta: DocumentMeta, source: str, line: int | None = None, *, accessed: datetime.date | None = None
) -> Citations:
    """Cite document ``source`` (at ``line`` when given) from its metadata.

    ``accessed`` is the access date GB/T 7714 writes for an online document (one with a url);
    it is left out when None.
    """
    names = author_names(meta.author or "")
    return Citations(
        gbt7714=_gbt7714(meta, names, accessed),
        apa=_apa(meta, names),
        plain=source if line is None else f"{source}:{line}",
    )


def document_type(meta: DocumentMeta) -> str:
    """GB/T 7714 document type code: the ``type`` field, else EB/OL online, N for a newspaper, Z otherwise."""
    given = meta.extra.get("type", "").strip().upper()
    if given:
        return given
    if meta.url:
        return "EB/OL"
    if meta.publisher and _NEWSPAPER.search(meta.publisher.strip()):
        return "N"
    return "Z"


def _date_parts(date: str | None) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) of an ISO date, ``YYYY-MM`` or ``YYYY``; None when there is no valid one."""
    m = _ISO_DATE.fullmatch((date or "").strip())
    if not m:
        return None
    year, month, day = int(m.group(1)), _number(m.group(2)), _number(m.group(3))
    try:
        datetime.date(year, month or 1, day or 1)
    except ValueError:
        return None
    return year, month, day


def _number(digits: str | None) -> int | None:
    return int(digits) if digits else None


def _gbt_date(date: str | None) -> str:
    parts = _date_parts(date)
    if parts is None:
        return ""
    year, month, day = parts
    return "-".join([str(year), *(f"{n:02d}" for n in (month, day) if n is not None)])


def _gbt_authors(names: list[str]) -> str:
    """Up to three names separated by ", ", then ", 等" (Chinese names) or ", et al"."""
    if len(names) <= _GBT_MAX_AUTHORS:
        return ", ".join(names)
    more = "等" if has_han(names[0]) else "et al"
    return ", ".join([*names[:_GBT_MAX_AUTHORS], more])


def _gbt7714(meta: DocumentMeta, names: list[str], accessed: datetime.date | None) -> str:
    """``主要责任者. 题名[类型]. 出版者, 出版日期[引用日期]. URL.``

    An online document without a publisher shows its date as an update date: ``(2021-05-10)``.
    """
    items: list[str] = []
    if names:
        items.append(_gbt_authors(names))
    items.append(f"{meta.title.strip()}[{document_type(meta)}]")
    date = _gbt_date(meta.date)
    publication = ", ".join(p for p in (meta.publisher, date) if p)
    if meta.url and date and not meta.publisher:
        publication = f"({date})"
    if meta.url and accessed is not None:
        publication += f"[{accessed.isoformat()}]"
    if publication:
        items.append(publication)
    if meta.url:
        items.append(meta.url)
    return ". ".join(items) + "."


def _apa_date(date: str | None) -> str:
    parts = _date_parts(date)
    if parts is None:
        return "(n.d.)"
    year, month, day = parts
    if month is None:
        return f"({year})"
    return f"({year}, {_MONTHS[month - 1]}{f' {day}' if day else ''})"


def _apa_authors(names: list[str]) -> str:
    """``A``, ``A & B``, ``A, B, & C``; over twenty names: the first nineteen, ``. . .``, the last."""
    if len(names) > _APA_MAX_AUTHORS:
        return ", ".join([*names[: _APA_MAX_AUTHORS - 1], ". . .", names[-1]])
    if len(names) <= 2:
        return " & ".join(names)
    return ", ".join(names[:-1]) + f", & {names[-1]}"


def _sentence(text: str) -> str:
    """``text`` closed by a period unless it already ends a sentence."""
    text = text.strip()
    return text if text.endswith(_SENTENCE_END) else f"{text}."


def _apa(meta: DocumentMeta, names: list[str]) -> str:
    """``Author. (2021, May 10). Title. Publisher. URL``; without author the title comes first."""
    title = _sentence(meta.title) if meta.title.strip() else ""
    authors = _apa_authors(names)
    parts = [_sentence(authors), _apa_date(meta.date) + ".", title] if authors else [title, _apa_date(meta.date) + "."]
    publisher = (meta.publisher or "").strip()
    if publisher and publisher != (meta.author or "").strip() and publisher != authors:
        parts.append(_sentence(publisher))
    if meta.url:
        parts.append(meta.url)
    return " ".join(p for p in parts if p)
