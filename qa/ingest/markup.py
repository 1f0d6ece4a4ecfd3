"""Turn plain text, Markdown and HTML into clean text with an exact map back to the original.

Every cleaner walks the original text once and feeds a :class:`CleanTextBuilder`, which
records, for each clean character, the original span it came from, and cuts the clean text
into blocks (paragraphs and headings). Line breaks always end a block.
"""

from __future__ import annotations

import html
import re
from typing import Final

from qa.types import Block, BlockKind

_SPACE: Final = " \t\r\f\v\u00a0\u3000\ufeff"


class CleanTextBuilder:
    """Accumulates clean characters, their original spans and block boundaries."""

    def __init__(self, original: str) -> None:
        self.original = original
        self._chars: list[str] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._blocks: list[Block] = []
        self._block_start = 0

    def keep(self, start: int, end: int) -> None:
        """Copy ``original[start:end]`` verbatim, each character mapped to itself."""
        self._chars.extend(self.original[start:end])
        self._starts.extend(range(start, end))
        self._ends.extend(range(start + 1, end + 1))

    def put(self, text: str, start: int, end: int) -> None:
        """Append ``text`` (e.g. a decoded entity) standing for ``original[start:end]``."""
        self._chars.extend(text)
        self._starts.extend([start] * len(text))
        self._ends.extend([end] * len(text))

    def at_block_start(self) -> bool:
        """True when nothing but whitespace was added since the last block ended."""
        return all(c in _SPACE for c in self._chars[self._block_start :])

    def end_block(self, kind: BlockKind = "text", level: int = 0) -> None:
        """Close the current block (if it holds any text) and start a new one."""
        pos = len(self._chars)
        if not self.at_block_start():
            self._blocks.append(Block(self._block_start, pos, kind, level))
        anchor = self._ends[-1] if self._ends else 0
        self.put("\n", anchor, anchor)
        self._block_start = pos + 1

    def build(self) -> tuple[str, tuple[int, ...], tuple[int, ...], tuple[Block, ...]]:
        """Finish: (clean text, starts, ends, blocks)."""
        self.end_block()
        return "".join(self._chars), tuple(self._starts), tuple(self._ends), tuple(self._blocks)


def iter_lines(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every line of ``text[start:]``, without the line break."""
    spans = []
    pos = start
    while pos <= len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        spans.append((pos, end))
        if nl < 0:
            break
        pos = nl + 1
    return spans


def clean_plain(builder: CleanTextBuilder, body_start: int) -> None:
    """Plain text: every line is a block, kept verbatim."""
    for start, end in iter_lines(builder.original, body_start):
        builder.keep(start, end)
        builder.end_block()


_MD_HEADING = re.compile(r"[ ]{0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_MD_LEAD = re.compile(r"[ \t]*(?:>[ \t]?)*(?:[-*+][ \t]+)?")
_MD_INLINE = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\([^)]*\)"  # image: dropped
    r"|\[(?P<label>[^\]]+)\]\([^)]*\)"  # link: keep the label
    r"|\*\*|__"  # strong emphasis marks
    r"|\*(?P<em>[^\s*](?:[^*\n]*?[^\s*])?)\*(?!\*)"  # *em*, also inside a word: keep the text
    r"|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|`+"  # other emphasis and code marks
    r"|<[^>\n]+>"  # inline HTML tags
)
_MD_RULE = re.compile(r"[ ]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def _md_inline(builder: CleanTextBuilder, start: int, end: int) -> None:
    pos = start
    for m in _MD_INLINE.finditer(builder.original, start, end):
        builder.keep(pos, m.start())
        if m.group("label") is not None:
            builder.keep(m.start("label"), m.end("label"))
        elif m.group("em") is not None:
            _md_inline(builder, m.start("em"), m.end("em"))
        pos = m.end()
    builder.keep(pos, end)


def clean_markdown(builder: CleanTextBuilder, body_start: int) -> None:
    """Markdown: ``#`` headings, list/quote markers, emphasis, links and code marks removed."""
    text = builder.original
    for start, end in iter_lines(text, body_start):
        heading = _MD_HEADING.match(text, start, end)
        if heading:
            _md_inline(builder, heading.start(2), heading.end(2))
            builder.end_block("heading", len(heading.group(1)))
            continue
        if _MD_RULE.match(text, start, end):
            builder.end_block()
            continue
        lead = _MD_LEAD.match(text, start, end)
        _md_inline(builder, lead.end() if lead else start, end)
        builder.end_block()


_BLOCK_TAGS: Final = frozenset(
    "address article aside blockquote body br dd div dl dt figcaption figure footer form h1 h2 h3 h4 "
    "h5 h6 head header hr html li main nav ol p pre section table tbody td tfoot th thead title tr ul".split()
)
_HTML_TOKEN = re.compile(
    r"(?P<comment><!--.*?(?:-->|$))"
    r"|(?P<raw><(?P<rawtag>script|style|noscript|template)\b.*?(?:</(?P=rawtag)\s*>|$))"
    r"|(?P<tag></?(?P<name>[a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<![^>]*>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)"
    r"|(?P<space>\s+)",
    re.DOTALL | re.IGNORECASE,
)
_HTML_HINT = re.compile(
    r"</?(?:p|div|br|h[1-6]|span|a|li|ul|ol|table|tr|td|html|body|section|article|strong|em|b|i)\b[^>]*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True when the text carries at least two common HTML tags."""
    matches = _HTML_HINT.finditer(text)
    return next(matches, None) is not None and next(matches, None) is not None


def clean_html(builder: CleanTextBuilder, body_start: int) -> None:
    """HTML: tags, comments and scripts dropped, entities decoded, whitespace runs folded."""
    text = builder.original
    heading = 0
    pos = body_start
    for m in _HTML_TOKEN.finditer(text, body_start):
        builder.keep(pos, m.start())
        pos = m.end()
        name = (m.group("name") or "").lower()
        if m.group("space"):
            if not builder.at_block_start():
                builder.put(" ", m.start(), m.end())
        elif m.group("entity"):
            decoded = html.unescape(m.group("entity")).replace("\u00a0", " ")
            builder.put(decoded, m.start(), m.end())
        elif name in _BLOCK_TAGS:
            builder.end_block("heading" if heading else "text", heading)
            is_close = m.group("tag").startswith("</")
            if re.fullmatch(r"h[1-6]", name):
                heading = 0 if is_close else int(name[1])
            elif name == "title":
                heading = 0 if is_close else 1
    builder.keep(pos, len(text))
