"""Read a Word (.docx) file with python-docx: paragraphs and tables in order, then footnotes.

Headings come from paragraph styles (``Title``, ``Heading 1`` ... or ``标题 1`` ...). A table is
one line per row and one block per cell (cells separated by tabs), so each cell is cited on its
own. Pages are known only where the file records them (the page breaks Word saves as it lays
the text out); otherwise a sentence is placed by its paragraph alone.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from qa.errors import InputError
from qa.ingest.paged import PagedText, PagedTextBuilder

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


class UnreadableDocxError(InputError):
    """A Word file that cannot be read."""


@dataclass(frozen=True)
class DocxContent:
    """What a Word file holds: its text (pages where recorded) and its core properties."""

    paged: PagedText
    properties: dict[str, str]


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for the Title style, n for Heading n, None for body text."""
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if name.lower() == "title":
        return 0
    m = _HEADING_STYLE.match(name.strip())
    return int(m.group(1)) if m else None


def _add_paragraph(builder: PagedTextBuilder, paragraph: Paragraph, paged: bool) -> None:
    """The paragraph's text, a new page started at each page break Word recorded in it."""
    text = paragraph.text
    if not paged or not paragraph.rendered_page_breaks:
        builder.add_line(text)
        return
    done = 0
    for page_break in paragraph.rendered_page_breaks:
        before = page_break.preceding_paragraph_fragment
        cut = len(before.text) if before is not None else 0
        builder.add_line(text[done:cut], wrapped=False)
        builder.new_page()
        done = cut
    builder.add_line(text[done:], wrapped=False)


def _add_table(builder: PagedTextBuilder, table: Table) -> None:
    """One line per row; each distinct cell (a merged cell counts once) is a block."""
    for row in table.rows:
        separator = "\n"
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            for paragraph in cell.paragraphs:
                if paragraph.text.strip():
                    builder.add_line(paragraph.text.strip(), separator=separator)
            if builder.in_block:
                builder.end_block()
                separator = "\t"


def _footnotes(document: Any) -> Iterator[str]:
    """The text of each footnote, if the file has any."""
    for rel in document.part.rels.values():
        if rel.reltype != _FOOTNOTES or rel.is_external:
            continue
        root = etree.fromstring(rel.target_part.blob)
        for note in root.iter(f"{_W}footnote"):
            if int(note.get(f"{_W}id", "0")) > 0:
                text = "".join(t.text or "" for t in note.iter(f"{_W}t")).strip()
                if text:
                    yield text


def _properties(document: Any) -> dict[str, str]:
    core = document.core_properties
    out = {"title": core.title or "", "author": core.author or ""}
    for key in ("created", "modified"):
        value = getattr(core, key)
        out[key] = value.date().isoformat() if value is not None else ""
    return {k: v.strip() for k, v in out.items() if v and v.strip()}


def read_docx_content(data: bytes, name: str) -> DocxContent:
    """The text of a .docx file, or :class:`UnreadableDocxError`."""
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableDocxError(f"{name}: not a readable .docx file ({type(exc).__name__})") from None
    paged = any(p.rendered_page_breaks for p in document.paragraphs)
    builder = PagedTextBuilder()
    if paged:
        builder.new_page()
    for item in document.iter_inner_content():
        builder.end_block()
        if isinstance(item, Table):
            _add_table(builder, item)
            continue
        level = _heading_level(item)
        _add_paragraph(builder, item, paged)
        builder.end_block("text" if level is None else "heading", level or 0)
    for note in _footnotes(document):
        builder.add_line(note)
        builder.end_block()
    return DocxContent(builder.build(), _properties(document))
