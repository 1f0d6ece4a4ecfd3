"""Read a PDF's text layer (pdfplumber, on pdfminer.six) in reading order, page by page.

Lines are read top to bottom; wrapped lines of a paragraph are joined (no space between Chinese
characters), also across a page break. Running headers and footers (a line in the top or bottom
margin that repeats, digits aside, on at least half the pages) and bare page numbers are dropped.
Lines set larger than the body text, or short lines set wholly in bold, are headings. Ruled
tables come out as rows, one cell per block. A page without a text layer is reported; a file
without any text is refused, as is an encrypted one.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psexceptions import PSException
from pdfplumber.utils.exceptions import PdfminerException

from qa.errors import InputError
from qa.ingest.paged import Box, PagedText, PagedTextBuilder

log = logging.getLogger(__name__)
# pdfminer warns about font internals (a missing FontBBox) that change nothing in the text
logging.getLogger("pdfminer").setLevel(logging.ERROR)

#: Share of the page height, at the top and at the bottom, where running headers and footers sit.
_MARGIN = 0.08
_PAGE_NUMBER = re.compile(
    r"^[\s\-–—·.()（）第页]*(?:page\s*)?\d{1,4}(?:\s*(?:/|of|共)\s*\d{1,4})?[\s\-–—·.()（）页]*$", re.I
)
_TERMINAL = "。！？!?；;：:.…”」』）)"
_HEADING_RATIO = 1.15
_HEADING_MAX = 60


class UnreadablePdfError(InputError):
    """A PDF that cannot be read: damaged, or without a text layer."""


class EncryptedPdfError(InputError):
    """A password-protected PDF."""


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    box: Box
    size: float
    bold: bool

    @property
    def top(self) -> float:
        return self.box[1]


@dataclass(frozen=True)
class _Table:
    page: int
    top: float
    rows: list[list[str]]


@dataclass(frozen=True)
class PdfContent:
    """What a PDF holds: its text (with pages and boxes) and its information dictionary."""

    paged: PagedText
    info: dict[str, str]


def _char_bold(char: dict[str, Any]) -> bool:
    return bool(re.search(r"bold|black|heavy|semibold|demi", str(char.get("fontname", "")), re.I))


def _inside(box: Box, area: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle_x, middle_y = (x0 + x1) / 2, (top + bottom) / 2
    return area[0] <= middle_x <= area[2] and area[1] <= middle_y <= area[3]


def _page_items(page: Any) -> list[_Line | _Table]:
    """The lines and ruled tables of one page, top to bottom."""
    tables = page.find_tables()
    areas = [t.bbox for t in tables]
    items: list[_Line | _Table] = []
    for line in page.extract_text_lines(return_chars=True, strip=True):
        box = (line["x0"], line["top"], line["x1"], line["bottom"])
        if not line["text"] or any(_inside(box, area) for area in areas):
            continue
        chars = [c for c in line["chars"] if not c["text"].isspace()]
        size = Counter(round(c["size"], 1) for c in chars).most_common(1)[0][0] if chars else 0.0
        bold = bool(chars) and all(_char_bold(c) for c in chars)
        items.append(_Line(page.page_number, line["text"], box, size, bold))
    for table in tables:
        rows = [[_cell_text(cell) for cell in row] for row in table.extract()]
        items.append(_Table(page.page_number, table.bbox[1], rows))
    return sorted(items, key=lambda item: item.top)


def _cell_text(cell: str | None) -> str:
    """A cell's lines joined as wrapped text."""
    builder = PagedTextBuilder()
    for line in (cell or "").split("\n"):
        builder.add_line(line.strip())
    return builder.build().text


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running(pages: list[list[_Line | _Table]], heights: list[float]) -> int:
    """Remove running headers, footers and page numbers from the margins; returns how many lines went."""
    in_margin: list[list[_Line]] = []
    for items, height in zip(pages, heights, strict=True):
        in_margin.append(
            [i for i in items if isinstance(i, _Line) and not _MARGIN * height < i.top < (1 - _MARGIN) * height]
        )
    counts = Counter(key for lines in in_margin for key in {_running_key(line.text) for line in lines})
    with_text = sum(1 for items in pages if items)
    needed = max(2, math.ceil(with_text / 2))
    dropped = 0
    for items, margin in zip(pages, in_margin, strict=True):
        for line in margin:
            if counts[_running_key(line.text)] >= needed or _PAGE_NUMBER.match(line.text):
                items.remove(line)
                dropped += 1
    return dropped


def _body_size(lines: list[_Line]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _heading_levels(lines: list[_Line], body: float) -> dict[float | str, int]:
    """Heading level by font size (larger first); bold lines at body size come last."""
    sizes = sorted({line.size for line in lines if line.size >= body * _HEADING_RATIO}, reverse=True)
    levels: dict[float | str, int] = {size: i + 1 for i, size in enumerate(sizes)}
    levels["bold"] = len(sizes) + 1
    return levels


def _heading_key(line: _Line, body: float) -> float | str | None:
    if len(line.text) > _HEADING_MAX:
        return None
    if line.size >= body * _HEADING_RATIO:
        return line.size
    if line.bold and line.text[-1] not in _TERMINAL:
        return "bold"
    return None


@dataclass
class _Flow:
    """Where the body text runs: its left and right edges, and the last line placed."""

    left: float
    right: float
    body: float
    last: _Line | None = None
    last_heading: float | str | None = None

    def continues(self, line: _Line, heading: float | str | None) -> bool:
        """Whether ``line`` carries on the paragraph (or heading) of the last line."""
        last = self.last
        if last is None or heading != self.last_heading:
            return False
        if heading is not None:
            return last.page == line.page and line.top - last.box[3] < last.size
        if last.page == line.page and line.top - last.box[3] > 0.8 * max(last.size, 1.0):
            return False
        if last.page != line.page and last.text[-1] in _TERMINAL:
            return False  # a page ending a sentence: never join two paragraphs across it
        short = self.right - last.box[2]
        ended = short > 6 * self.body or (short > 2 * self.body and last.text[-1] in _TERMINAL)
        return not ended and line.box[0] <= self.left + 1.5 * self.body


def _assemble(pages: list[list[_Line | _Table]]) -> PagedText:
    lines = [i for items in pages for i in items if isinstance(i, _Line)]
    body = _body_size(lines)
    levels = _heading_levels(lines, body)
    plain = [line for line in lines if _heading_key(line, body) is None] or lines
    flow = _Flow(min((ln.box[0] for ln in plain), default=0.0), max((ln.box[2] for ln in plain), default=0.0), body)
    builder = PagedTextBuilder()
    for items in pages:
        builder.new_page()
        for item in items:
            if isinstance(item, _Table):
                _add_table(builder, item)
                flow.last = None
                continue
            heading = _heading_key(item, body)
            if builder.in_block and not flow.continues(item, heading):
                _close(builder, flow, levels)
            builder.add_line(item.text, item.box)
            flow.last, flow.last_heading = item, heading
    _close(builder, flow, levels)
    return builder.build()


def _close(builder: PagedTextBuilder, flow: _Flow, levels: dict[float | str, int]) -> None:
    if flow.last_heading is None:
        builder.end_block()
    else:
        builder.end_block("heading", levels[flow.last_heading])


def _add_table(builder: PagedTextBuilder, table: _Table) -> None:
    """One line per row, one block per non-empty cell (cells of a row are separated by tabs)."""
    builder.end_block()
    for row in table.rows:
        separator = "\n"
        for cell in row:
            if cell:
                builder.add_line(cell, separator=separator)
                builder.end_block()
                separator = "\t"


def read_pdf_content(data: bytes, path: str) -> PdfContent:
    """The text layer of a PDF file's bytes, or :class:`UnreadablePdfError` saying why there is none.

    ``path`` names the file in messages and warnings.
    """
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            info = {str(k): _info_text(v) for k, v in (pdf.metadata or {}).items()}
            pages = [_page_items(page) for page in pdf.pages]
            heights = [float(page.height) for page in pdf.pages]
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise EncryptedPdfError(f"{path}: the PDF is encrypted (password protected); decrypt it first") from None
        raise UnreadablePdfError(f"{path}: not a readable PDF ({type(cause).__name__}: {cause})") from None
    if not any(pages):
        raise UnreadablePdfError(f"{path}: no text layer; OCR is not supported (a scanned PDF?), skipped")
    for number, items in enumerate(pages, start=1):
        if not items:
            log.warning("%s: page %d has no text layer; OCR is not supported, its text is not indexed", path, number)
    dropped = _drop_running(pages, heights)
    if dropped:
        log.info("%s: %d running header, footer or page number lines left out", path, dropped)
    return PdfContent(_assemble(pages), {k: v for k, v in info.items() if v})


def _info_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip() if isinstance(value, str | int | float) else ""
